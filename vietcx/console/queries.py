"""Reads the console needs beyond vietcx.store: a conversation's stored events and its surveys."""

from __future__ import annotations

import json

from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from vietcx.store.db import surveys
from vietcx.store.tracker import tracker_engine


def conversation_events(sender_id: str, tracker_url: str | None = None) -> list[dict]:
    """Every Rasa event stored for the conversation, in the order Rasa wrote them."""
    tracker = tracker_engine(tracker_url)
    if tracker is None:
        return []
    with tracker.connect() as connection:
        rows = connection.execute(
            text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender_id}
        )
        return [json.loads(row[0]) for row in rows]


def conversation_surveys(sender_id: str, db: Engine) -> list[dict]:
    """The conversation's survey responses, oldest first."""
    query = select(surveys).where(surveys.c.sender_id == sender_id).order_by(surveys.c.started_at)
    with db.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]
