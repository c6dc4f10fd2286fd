"""Rasa's lock store in the product database: one conversation handled by one process at a time.

Rasa takes a conversation's lock while it handles a message, so that a customer's quick messages
are handled one after another, in order. Its in-memory lock store only sees its own process; with
several Rasa server processes (`make run` starts one per core) the lock has to live where every
process sees it. Rasa ships Redis for that; this store keeps `make run` free of another server by
using the product database (SQLite by default, PostgreSQL by URL), and is named in endpoints.yml
as Rasa's custom lock stores are (`lock_store: type: vietcx.store.locks.DatabaseLockStore`).

A ticket is a row. Issuing one is an insert under the unique (conversation, ticket) key, retried
on a clash, so two processes never get the same number (Rasa's stores read, change and write back
a whole serialised lock, which lets two processes issue the same ticket). A ticket holds the lock
while no lower ticket of its conversation is still alive; a ticket expires after Rasa's lock
lifetime, so a process that dies while holding one blocks its conversation for that long at most.
Waiting polls after 5 ms, then twice as long each time up to 0.1 s (Rasa's base class waits a
whole second, its default `wait_time_in_seconds`, which here only caps the wait further): the
second of two quick messages is answered right after the first.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import deque
from typing import Any

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from vietcx.store.db import conversation_locks, engine

logger = logging.getLogger(__name__)

MAX_ID = conversation_locks.c.conversation_id.type.length
_FIRST_WAIT, _LONGEST_WAIT = 0.005, 0.1  # seconds between looks at a lock held by another ticket
_ISSUE_ATTEMPTS = 50


def lock_key(conversation_id: str) -> str:
    """The conversation id as stored: itself, or its SHA-256 when longer than the column."""
    if len(conversation_id) <= MAX_ID:
        return conversation_id
    return "sha256:" + hashlib.sha256(conversation_id.encode("utf-8", "surrogatepass")).hexdigest()


class DatabaseLockStore(LockStore):
    """Ticket locks as rows of `conversation_locks` in the product database."""

    def __init__(self, endpoint_config: Any = None, url: str | None = None) -> None:
        """`url` (or the endpoint's `url`) names the database; the product's own by default."""
        configured = getattr(endpoint_config, "url", None) if endpoint_config is not None else None
        self.engine: Engine = engine(url or configured)
        super().__init__()

    # ------------------------------------------------------------------ the ticket protocol
    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """The next ticket of the conversation, valid for `lock_lifetime` seconds."""
        key = lock_key(conversation_id)
        for attempt in range(_ISSUE_ATTEMPTS):
            now = time.time()
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        delete(conversation_locks).where(
                            and_(
                                conversation_locks.c.conversation_id == key,
                                conversation_locks.c.expires_at < now,
                            )
                        )
                    )
                    last = connection.execute(
                        select(func.max(conversation_locks.c.ticket)).where(
                            conversation_locks.c.conversation_id == key
                        )
                    ).scalar()
                    number = (last or 0) + 1
                    connection.execute(
                        insert(conversation_locks).values(
                            conversation_id=key, ticket=number, expires_at=now + lock_lifetime
                        )
                    )
                return number
            except (IntegrityError, OperationalError) as error:  # another process took that number
                logger.debug("ticket for %s clashed (%s), attempt %d", key, type(error).__name__, attempt)
                time.sleep(0.002 * (attempt + 1))
        raise LockError(f"Could not issue a ticket for conversation '{conversation_id}'.")

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        key, wait = lock_key(conversation_id), _FIRST_WAIT
        while True:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(conversation_locks.c.ticket, conversation_locks.c.expires_at)
                    .where(
                        and_(
                            conversation_locks.c.conversation_id == key,
                            conversation_locks.c.expires_at >= time.time(),
                        )
                    )
                    .order_by(conversation_locks.c.ticket)
                ).all()
            if ticket not in (number for number, _ in rows):  # expired while waiting: as Rasa, give up
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            if rows[0][0] == ticket:
                return TicketLock(conversation_id, deque(Ticket(number, expires) for number, expires in rows))
            await asyncio.sleep(wait)
            wait = min(wait * 2, wait_time_in_seconds, _LONGEST_WAIT)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Gives the ticket back; the next waiting ticket, if any, now holds the lock."""
        self.finish_serving(conversation_id, ticket_number)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Removes the ticket."""
        with self.engine.begin() as connection:
            connection.execute(
                delete(conversation_locks).where(
                    and_(
                        conversation_locks.c.conversation_id == lock_key(conversation_id),
                        conversation_locks.c.ticket == ticket_number,
                    )
                )
            )

    # ------------------------------------------------------------------ Rasa's storage interface
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """The conversation's lock with its tickets, oldest first (None when it has none)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(conversation_locks.c.ticket, conversation_locks.c.expires_at)
                .where(conversation_locks.c.conversation_id == lock_key(conversation_id))
                .order_by(conversation_locks.c.ticket)
            ).all()
        if not rows:
            return None
        return TicketLock(conversation_id, deque(Ticket(number, expires) for number, expires in rows))

    def delete_lock(self, conversation_id: str) -> None:
        """Removes every ticket of the conversation."""
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(conversation_locks).where(
                    conversation_locks.c.conversation_id == lock_key(conversation_id)
                )
            )
        self._log_deletion(conversation_id, result.rowcount > 0)

    def save_lock(self, lock: TicketLock) -> None:
        """Replaces the conversation's tickets with the lock's."""
        key = lock_key(lock.conversation_id)
        with self.engine.begin() as connection:
            connection.execute(delete(conversation_locks).where(conversation_locks.c.conversation_id == key))
            if lock.tickets:
                connection.execute(
                    insert(conversation_locks),
                    [
                        {"conversation_id": key, "ticket": ticket.number, "expires_at": ticket.expires}
                        for ticket in lock.tickets
                    ],
                )
