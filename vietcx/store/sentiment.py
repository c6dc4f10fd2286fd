"""Per-message and per-conversation sentiment, copied from Rasa's tracker store into the product DB.

The sweep reads the conversations that changed since the last sweep and (re)writes their rows,
so every conversation gets a summary, including ones that stopped abruptly: a conversation is
marked `ended` once a new session follows it or it has been idle for `idle_minutes`. The action
server sweeps every minute; reports sweep before they read.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, delete, select, text
from sqlalchemy.engine import Engine

from vietcx.conversation_sentiment import Session, sessions, summarize
from vietcx.store.db import conversation_sentiment, engine, flags, message_sentiment, sync_state
from vietcx.store.tracker import tracker_engine

logger = logging.getLogger(__name__)
IDLE_MINUTES = 10


def sweep(
    db: Engine | None = None, tracker_url: str | None = None, idle_minutes: float = IDLE_MINUTES
) -> int:
    """Updates the rows of every conversation with new events; returns how many were written."""
    db = db or engine()
    tracker = tracker_engine(tracker_url)
    if tracker is None:
        return 0
    with db.connect() as connection:
        mark = (
            connection.execute(select(sync_state.c.value).where(sync_state.c.key == "events")).scalar() or 0
        )
    with tracker.connect() as connection:
        top = connection.execute(text("SELECT MAX(id) FROM events")).scalar() or 0
        changed = [
            r[0]
            for r in connection.execute(
                text("SELECT DISTINCT sender_id FROM events WHERE id > :m"), {"m": mark}
            )
        ]
        idle_cut = datetime.now(timezone.utc) - timedelta(minutes=idle_minutes)
        written = 0
        for sender_id in changed:
            rows = connection.execute(
                text("SELECT data FROM events WHERE sender_id = :s AND id <= :top ORDER BY id"),
                {"s": sender_id, "top": top},
            )
            found = sessions(sender_id, [json.loads(r[0]) for r in rows])
            for number, session in enumerate(found):
                ended = number < len(found) - 1 or (session.last_event_at or session.started_at) < idle_cut
                _write(db, session, ended)
                written += 1
    with db.begin() as connection:
        connection.execute(delete(sync_state).where(sync_state.c.key == "events"))
        connection.execute(sync_state.insert().values(key="events", value=top))
    return written


def _write(db: Engine, session: Session, ended: bool) -> None:
    """Replaces the stored rows of one conversation, in one transaction."""
    summary = summarize(session.messages)
    same = and_(
        message_sentiment.c.sender_id == session.sender_id,
        message_sentiment.c.session_started_at == session.started_at,
    )
    with db.begin() as connection:
        connection.execute(delete(message_sentiment).where(same))
        if session.messages:
            connection.execute(
                message_sentiment.insert(),
                [
                    {
                        "sender_id": session.sender_id,
                        "session_started_at": session.started_at,
                        "channel": session.channel,
                        "sent_at": m.sent_at,
                        "text": m.text,
                        "intent": m.intent,
                        "topic": m.topic,
                        "label": m.label,
                        "confidence": m.confidence,
                        "score": m.score,
                    }
                    for m in session.messages
                ],
            )
        connection.execute(
            delete(conversation_sentiment).where(
                conversation_sentiment.c.sender_id == session.sender_id,
                conversation_sentiment.c.session_started_at == session.started_at,
            )
        )
        if session.messages:
            first, last = session.messages[0].sent_at, session.messages[-1].sent_at
            connection.execute(
                conversation_sentiment.insert().values(
                    sender_id=session.sender_id,
                    session_started_at=session.started_at,
                    channel=session.channel,
                    customer_id=session.customer_id,
                    topic=session.topic,
                    started_at=first,
                    last_message_at=last,
                    ended=ended,
                    **summary,
                )
            )


def flag(
    sender_id: str, channel: str, customer_id: str | None, reason: str, db: Engine | None = None
) -> None:
    """Marks a conversation for staff review."""
    with (db or engine()).begin() as connection:
        connection.execute(
            flags.insert().values(
                sender_id=sender_id,
                channel=channel,
                customer_id=customer_id,
                reason=reason,
                created_at=datetime.now(timezone.utc),
            )
        )


def flags_of(sender_id: str, db: Engine | None = None) -> list[dict]:
    """The review flags of a conversation."""
    with (db or engine()).connect() as connection:
        return [
            dict(r._mapping) for r in connection.execute(select(flags).where(flags.c.sender_id == sender_id))
        ]
