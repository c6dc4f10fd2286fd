"""Reads the console needs beyond vietcx.store: a conversation's stored events and its surveys."""

from __future__ import annotations

import json
from collections.abc import Collection

from sqlalchemy import bindparam, select, text
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


def last_customer_messages(sender_ids: Collection[str], tracker_url: str | None = None) -> dict[str, float]:
    """When each conversation's customer last wrote (Unix time), for the live queue."""
    tracker = tracker_engine(tracker_url)
    if tracker is None or not sender_ids:
        return {}
    query = text(
        "SELECT sender_id, MAX(timestamp) FROM events WHERE type_name = 'user' AND sender_id IN :s "
        "GROUP BY sender_id"
    ).bindparams(bindparam("s", expanding=True))
    with tracker.connect() as connection:
        return {sender: float(at) for sender, at in connection.execute(query, {"s": list(sender_ids)}) if at}


def conversation_surveys(sender_id: str, db: Engine) -> list[dict]:
    """The conversation's survey responses, oldest first."""
    query = select(surveys).where(surveys.c.sender_id == sender_id).order_by(surveys.c.started_at)
    with db.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def faq_rows(since: float, tracker_url: str | None = None) -> list[tuple]:
    """The tracker rows the unanswered questions are read from (vietcx/kb/unanswered.py): customer
    messages, actions and the FAQ slots since `since` (Unix time), by conversation, in order."""
    tracker = tracker_engine(tracker_url)
    if tracker is None:
        return []
    query = text(
        "SELECT sender_id, type_name, intent_name, action_name, data, timestamp FROM events "
        "WHERE timestamp >= :since AND (type_name IN ('user', 'action') "
        "OR (type_name = 'slot' AND action_name IN ('faq_state', 'faq_topic'))) ORDER BY sender_id, id"
    )
    with tracker.connect() as connection:
        return [tuple(row) for row in connection.execute(query, {"since": since})]
