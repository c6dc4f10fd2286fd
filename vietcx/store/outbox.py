"""Messages for a customer that did not come from their own turn: staff replies, and the bot's
survey after staff hand a conversation back.

On the web, a message waits in `outbox` until the customer's client acknowledges it. Clients get every
unacknowledged message each time they ask (the answer to the customer's next message, or a poll of
`/updates`) and acknowledge with a cursor, the id of the last message they have shown. Delivery is
therefore at least once between server and screen, and exactly once on the screen (the client shows
only ids above its cursor): a poll lost on the way loses nothing, and the console says "delivered"
only for what a client confirmed.

On Zalo and Messenger there is no client to ask: the connector's pusher (vietcx/channels/platform.py)
`claim`s what waits for its conversations, sends it, and marks each message `delivered` (the
platform accepted it), `retry_later` (network, 5xx: with back-off) or `undeliverable` (the reply
window is closed, the customer blocked the page: the console shows it to staff). A claim is a lease:
a process that dies while sending leaves the message to be sent again after the lease, so delivery
is at least once; the lease is taken by one process only, so it is never sent twice by two.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from vietcx.store.db import as_utc, engine, outbox


def _now() -> datetime:
    return datetime.now(timezone.utc)


def send(
    sender_id: str,
    text: str | None,
    author: str,
    staff: str | None = None,
    escalation_id: int | None = None,
    buttons: list[dict] | None = None,
    db: Engine | None = None,
) -> int:
    """Queues a message for the customer; returns its id (the client's cursor moves past it)."""
    values = {
        "sender_id": sender_id,
        "escalation_id": escalation_id,
        "author": author,
        "staff": staff,
        "text": text,
        "buttons": json.dumps(buttons, ensure_ascii=False) if buttons else None,
        "created_at": _now(),
    }
    with (db or engine()).begin() as connection:
        return connection.execute(outbox.insert().values(**values)).inserted_primary_key[0]


def pending(sender_id: str, after: int = 0, db: Engine | None = None) -> list[dict]:
    """The customer's unacknowledged messages with an id above `after`, oldest first; the first
    hand-out of each is recorded (the console shows it as sent, not yet seen)."""
    db = db or engine()
    waiting = (outbox.c.sender_id == sender_id) & outbox.c.delivered_at.is_(None) & (outbox.c.id > after)
    # every customer message and every poll asks, and nearly always nothing waits: a read answers
    # that without taking the database's write lock
    with db.connect() as connection:
        found = _messages(connection, waiting)
    fresh = [m["id"] for m in found if m["handed_out_at"] is None]
    if fresh:
        with db.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id.in_(fresh), outbox.c.handed_out_at.is_(None))
                .values(handed_out_at=_now())
            )
    return found


def acknowledge(sender_id: str, cursor: int, db: Engine | None = None) -> int:
    """Marks the customer's messages up to `cursor` as delivered (shown by their client); returns
    how many were newly acknowledged. Only the sender's own messages: a cursor cannot touch another's."""
    if cursor <= 0:
        return 0
    with (db or engine()).begin() as connection:
        return connection.execute(
            update(outbox)
            .where(outbox.c.sender_id == sender_id, outbox.c.id <= cursor, outbox.c.delivered_at.is_(None))
            .values(delivered_at=_now())
        ).rowcount


def claim(
    sender_prefix: str, lease_seconds: float = 60, limit: int = 100, db: Engine | None = None
) -> list[dict]:
    """Takes, for `lease_seconds`, the messages waiting to be pushed to conversations whose sender
    id starts with `sender_prefix` (one platform), oldest first; another process asking at the
    same time gets none of them. A conversation whose earlier message waits for a retry is skipped
    whole, so its messages never arrive out of order."""
    db = db or engine()
    now = _now()
    waiting = (
        outbox.c.sender_id.startswith(sender_prefix, autoescape=True)
        & outbox.c.delivered_at.is_(None)
        & outbox.c.failed_at.is_(None)
    )
    with db.connect() as connection:  # nearly always nothing waits: answered without a write lock
        found = _messages(connection, waiting, limit)
    held = {m["sender_id"] for m in found if _held(m, now)}
    taken = []
    with db.begin() as connection:
        for message in found:
            if message["sender_id"] in held:
                continue
            claimed = connection.execute(
                update(outbox)
                .where(
                    outbox.c.id == message["id"],
                    outbox.c.delivered_at.is_(None),
                    outbox.c.failed_at.is_(None),
                    or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
                )
                .values(claimed_until=now + timedelta(seconds=lease_seconds), handed_out_at=now)
            ).rowcount
            if claimed:
                taken.append(message)
            else:  # another process has it: leave the rest of that conversation to it as well
                held.add(message["sender_id"])
    return taken


def delivered(message_id: int, db: Engine | None = None) -> None:
    """The platform accepted the message."""
    _finish(message_id, db, delivered_at=_now(), claimed_until=None)


def retry_later(message_id: int, attempts: int, delay_seconds: float, db: Engine | None = None) -> None:
    """Not sent this time (network, platform error): try again after `delay_seconds`."""
    when = _now() + timedelta(seconds=delay_seconds)
    _finish(message_id, db, attempts=attempts, next_attempt_at=when, claimed_until=None)


def undeliverable(message_id: int, reason: str, db: Engine | None = None) -> None:
    """The message cannot reach the customer: kept, marked, and shown to staff with the reason."""
    _finish(message_id, db, failed_at=_now(), failure=reason[:200], claimed_until=None)


def _finish(message_id: int, db: Engine | None, **values: object) -> None:
    with (db or engine()).begin() as connection:
        connection.execute(update(outbox).where(outbox.c.id == message_id).values(**values))


def _held(message: dict, now: datetime) -> bool:
    """Being sent by a process, or waiting for its retry: not to be taken now."""
    return any(as_utc(t) > now for t in (message["claimed_until"], message["next_attempt_at"]) if t)


def messages(sender_id: str, db: Engine | None = None) -> list[dict]:
    """Every message sent to the customer this way (for the transcript)."""
    with (db or engine()).connect() as connection:
        return _messages(connection, outbox.c.sender_id == sender_id)


def _messages(connection: Connection, condition: ColumnElement, limit: int | None = None) -> list[dict]:
    query = select(outbox).where(condition).order_by(outbox.c.id).limit(limit)
    found = [dict(r._mapping) for r in connection.execute(query)]
    for message in found:
        message["buttons"] = json.loads(message["buttons"]) if message["buttons"] else []
    return found


def last_staff_replies(sender_ids: Collection[str], db: Engine | None = None) -> dict[str, datetime]:
    """When staff last wrote to each conversation (UTC), for the reminder of a quiet staff member."""
    if not sender_ids:
        return {}
    query = (
        select(outbox.c.sender_id, func.max(outbox.c.created_at))
        .where(outbox.c.author == "staff", outbox.c.sender_id.in_(list(sender_ids)))
        .group_by(outbox.c.sender_id)
    )
    with (db or engine()).connect() as connection:
        return {sender: as_utc(at) for sender, at in connection.execute(query)}
