"""Messages for a customer that did not come from their own turn: staff replies, and the bot's
survey after staff hand a conversation back.

A message waits in `outbox` until the customer's client acknowledges it. Clients get every
unacknowledged message each time they ask (the answer to the customer's next message, or a poll of
`/updates`) and acknowledge with a cursor, the id of the last message they have shown. Delivery is
therefore at least once between server and screen, and exactly once on the screen (the client shows
only ids above its cursor): a poll lost on the way loses nothing, and the console says "delivered"
only for what a client confirmed.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from vietcx.store.db import engine, outbox


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


def messages(sender_id: str, db: Engine | None = None) -> list[dict]:
    """Every message sent to the customer this way (for the transcript)."""
    with (db or engine()).connect() as connection:
        return _messages(connection, outbox.c.sender_id == sender_id)


def _messages(connection: Connection, condition: ColumnElement) -> list[dict]:
    found = [
        dict(r._mapping) for r in connection.execute(select(outbox).where(condition).order_by(outbox.c.id))
    ]
    for message in found:
        message["buttons"] = json.loads(message["buttons"]) if message["buttons"] else []
    return found
