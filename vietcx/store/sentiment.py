"""Per-message and per-conversation sentiment, copied from Rasa's tracker store into the product DB.

The sweep writes again the conversations that Rasa's event broker queued (vietcx/store/
sentiment_queue.py), reading their events from the tracker store, so every conversation gets a
summary, including ones that stopped abruptly: a conversation is marked `ended` once a new
session follows it or it has been idle for `idle_minutes`. One process sweeps at a time (a lease),
the action servers every few seconds; reports sweep before they read. A conversation that fails
is logged and tried again next time, without holding up the others.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, delete, select, text, update
from sqlalchemy.engine import Engine

from vietcx.conversation_sentiment import Session, sessions, summarize
from vietcx.store import leases, sentiment_queue
from vietcx.store.db import conversation_sentiment, engine, flags, message_sentiment
from vietcx.store.tracker import tracker_engine

logger = logging.getLogger(__name__)
IDLE_MINUTES = 10
BATCH = 500
# one sweeper at a time; a sweeper that dies holding the lease delays the next by this much
LEASE, LEASE_SECONDS = "sentiment-sweep", 30
# a queued event the tracker store still does not hold after this long never will (its server
# died before committing it): its conversation is written from what is there
OVERDUE_MINUTES = 5


def sweep(
    db: Engine | None = None, tracker_url: str | None = None, idle_minutes: float = IDLE_MINUTES
) -> int:
    """Writes the conversations with queued events; returns how many sessions were written."""
    db = db or engine()
    tracker = tracker_engine(tracker_url)
    if tracker is None:
        return 0
    written = 0
    with leases.held(LEASE, LEASE_SECONDS, db) as mine:
        if not mine:
            return 0
        idle_cut = datetime.now(timezone.utc) - timedelta(minutes=idle_minutes)
        while queued := sentiment_queue.waiting(db, BATCH):
            if not leases.take(LEASE, LEASE_SECONDS, db):  # prolonged for each batch
                break
            handled = 0
            for sender_id, rows in queued.items():
                try:
                    removed, sessions_written = _sweep_one(db, tracker, sender_id, rows, idle_cut)
                    handled += removed
                    written += sessions_written
                except Exception:  # this conversation is tried again next time; the others go on
                    logger.exception("Sentiment sweep of one conversation failed")
            if handled == 0:  # what is left waits for the tracker store (or failed): next sweep
                break
        with db.begin() as connection:  # conversations that simply stopped
            connection.execute(
                update(conversation_sentiment)
                .where(
                    conversation_sentiment.c.ended.is_(False),
                    conversation_sentiment.c.last_message_at < idle_cut,
                )
                .values(ended=True)
            )
    return written


def _sweep_one(
    db: Engine, tracker: Engine, sender_id: str, rows: list, idle_cut: datetime
) -> tuple[int, int]:
    """Writes one customer's sessions again and removes the queued rows whose events the tracker
    store holds; returns how many rows were removed and how many sessions written."""
    with tracker.connect() as connection:
        events = [
            json.loads(r[0])
            for r in connection.execute(
                text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender_id}
            )
        ]
    stored = {sentiment_queue.key(event) for event in events}
    ready = [
        r.id
        for r in rows
        if (r.event, r.timestamp) in stored or sentiment_queue.overdue(r.queued_at, OVERDUE_MINUTES)
    ]
    if not ready:
        return 0, 0
    earliest = min(float(r.timestamp) for r in rows)
    found = sessions(sender_id, events)
    written = 0
    for number, session in enumerate(found):
        last = session.last_event_at or session.started_at
        if last.timestamp() < earliest and number < len(found) - 2:
            continue  # untouched since it was last written (and ended then)
        ended = number < len(found) - 1 or last < idle_cut
        _write(db, session, ended)
        written += 1
    sentiment_queue.done(db, ready)
    return len(ready), written


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
