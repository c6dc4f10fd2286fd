"""Rasa's event broker for the sentiment sweep: which conversations have new events to summarise.

Rasa publishes every new tracker event to the configured broker (endpoints.yml, `event_broker`).
This broker keeps, in the product database, one row per event that changes a conversation's
sentiment rows (a customer message, a new session, the topic or the customer being known); the
sweep (vietcx/store/sentiment.py) writes those conversations again and only then removes their
rows. Nothing is skipped, whatever order several servers commit in, and since the sweep rewrites
a conversation whole, a row handled twice counts once.

Rasa publishes an event just before its tracker store commits it: the sweep leaves a row until the
tracker store holds its event (`key`).
"""

from __future__ import annotations

import logging
from asyncio import AbstractEventLoop
from datetime import datetime, timedelta, timezone
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from vietcx.store.db import engine, sentiment_queue

logger = logging.getLogger(__name__)
SLOTS = {"faq_topic", "resolved_topic", "customer_id"}  # what a conversation's summary records


def key(event: dict[str, Any]) -> tuple[str, str]:
    """What identifies an event both here and in the tracker store: its kind and its timestamp."""
    return str(event.get("event")), repr(float(event.get("timestamp") or 0))


def matters(event: dict[str, Any]) -> bool:
    kind = event.get("event")
    return kind in ("user", "session_started") or (kind == "slot" and event.get("name") in SLOTS)


class SentimentQueue(EventBroker):
    """Puts the events that matter to the sentiment rows in the product database's queue."""

    def __init__(self, db: Engine | None = None) -> None:
        self.db = db or engine()

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig | None, event_loop: AbstractEventLoop | None = None
    ) -> SentimentQueue:
        return cls()

    def publish(self, event: dict[str, Any]) -> None:
        """Queues the event if it matters. A failure is logged, not raised: the customer's turn
        goes on (the conversation is summarised again with its next queued event)."""
        if not matters(event):
            return
        kind, timestamp = key(event)
        try:
            with self.db.begin() as connection:
                connection.execute(
                    sentiment_queue.insert().values(
                        sender_id=str(event.get("sender_id"))[:200],
                        event=kind,
                        timestamp=timestamp,
                        queued_at=datetime.now(timezone.utc),
                    )
                )
        except Exception:  # the database is down: the turn itself must not fail for this
            logger.exception("Could not queue a %s event for the sentiment sweep", kind)

    def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None


def waiting(db: Engine, limit: int) -> dict[str, list[Any]]:
    """The oldest queued rows, by conversation (oldest first)."""
    by_sender: dict[str, list[Any]] = {}
    with db.connect() as connection:
        rows = connection.execute(select(sentiment_queue).order_by(sentiment_queue.c.id).limit(limit))
        for row in rows:
            by_sender.setdefault(row.sender_id, []).append(row)
    return by_sender


def done(db: Engine, ids: list[int]) -> None:
    """Removes handled rows."""
    with db.begin() as connection:
        connection.execute(delete(sentiment_queue).where(sentiment_queue.c.id.in_(ids)))


def overdue(queued_at: datetime, minutes: float) -> bool:
    """A row whose event never reached the tracker store (the server died before committing it)."""
    when = queued_at if queued_at.tzinfo else queued_at.replace(tzinfo=timezone.utc)
    return when < datetime.now(timezone.utc) - timedelta(minutes=minutes)
