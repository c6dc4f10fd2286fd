"""Personal data kept no longer than needed (Decree 13/2023/ND-CP): `python -m vietcx retention`,
and once a day by the action server.

What is older than `VIETCX_RETENTION_DAYS` (default 365) goes, as `forget-customer` removes one
customer: whole conversations of Rasa's tracker store whose last event is older, the messages'
sentiment (they quote the text), conversation summaries, review flags, staff messages of the
outbox, platform event ids, and the profiles of customers not seen since. Survey answers and
resolved escalations stay for the figures of past months but lose what points to the person: the
comment, the sentiment summary, the name and the ids (which become FORGOTTEN). An escalation not
yet resolved is left alone. Running it twice removes nothing more.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.expression import Delete, Update

from vietcx.store.db import (
    channel_events,
    conversation_sentiment,
    customers,
    engine,
    escalations,
    flags,
    message_sentiment,
    outbox,
    surveys,
)
from vietcx.store.forget import FORGOTTEN, Removal
from vietcx.store.tracker import EVENTS, tracker_engine

DEFAULT_DAYS = 365


def retention_days() -> int:
    """VIETCX_RETENTION_DAYS, at least 1 (a typo must not empty the database)."""
    days = int(os.environ.get("VIETCX_RETENTION_DAYS") or DEFAULT_DAYS)
    if days < 1:
        raise ValueError("VIETCX_RETENTION_DAYS must be a whole number of days, 1 or more")
    return days


def expire(
    days: int | None = None,
    db: Engine | None = None,
    tracker_url: str | None = None,
    now: datetime | None = None,
) -> list[Removal]:
    """Removes or anonymises what is older than `days` (default: the setting); returns what."""
    cut = (now or datetime.now(timezone.utc)) - timedelta(days=days or retention_days())
    db = db or engine()
    anonymous = {"sender_id": FORGOTTEN, "customer_id": FORGOTTEN, "sentiment": None}
    with db.begin() as connection:

        def count(statement: Delete | Update) -> int:
            return connection.execute(statement).rowcount

        removed = [
            Removal(
                "message_sentiment",
                "deleted",
                count(delete(message_sentiment).where(message_sentiment.c.sent_at < cut)),
            ),
            Removal(
                "conversation_sentiment",
                "deleted",
                count(delete(conversation_sentiment).where(conversation_sentiment.c.last_message_at < cut)),
            ),
            Removal(
                "surveys",
                "anonymised",
                count(
                    update(surveys)
                    .where(surveys.c.started_at < cut, surveys.c.sender_id != FORGOTTEN)
                    .values(comment=None, **anonymous)
                ),
            ),
            Removal(
                "escalations",
                "anonymised",
                count(
                    update(escalations)
                    .where(
                        escalations.c.created_at < cut,
                        escalations.c.status == "resolved",
                        escalations.c.sender_id != FORGOTTEN,
                    )
                    .values(customer_name=None, **anonymous)
                ),
            ),
            Removal("outbox", "deleted", count(delete(outbox).where(outbox.c.created_at < cut))),
            Removal("flags", "deleted", count(delete(flags).where(flags.c.created_at < cut))),
            Removal(
                "channel_events",
                "deleted",
                count(delete(channel_events).where(channel_events.c.received_at < cut)),
            ),
            Removal("customers", "deleted", count(delete(customers).where(customers.c.last_seen < cut))),
        ]
    return [*removed, Removal("tracker events", "deleted", _expire_conversations(cut, tracker_url))]


def _expire_conversations(cut: datetime, tracker_url: str | None) -> int:
    """Deletes the events of every conversation whose last event is older than `cut`."""
    tracker = tracker_engine(tracker_url)
    if tracker is None:
        return 0
    ended = (
        select(EVENTS.c.sender_id)
        .group_by(EVENTS.c.sender_id)
        .having(func.max(EVENTS.c.timestamp) < cut.timestamp())
    )
    with tracker.begin() as connection:
        return connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(ended))).rowcount
