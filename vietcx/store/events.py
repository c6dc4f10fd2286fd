"""Each platform event processed exactly once, though the platform may deliver it several times.

Used by the Messenger and Zalo connectors (vietcx/channels/platform.py). Both resend an event
when our answer is slow or lost, possibly while the first delivery is still being handled, by
another process. A connector asks `first_time` before handling an event and drops it when the answer
is False. The database decides: the event is inserted into `channel_events`, whose unique (platform,
event_id) lets exactly one insert through; a select before the insert would let two racing
deliveries both see nothing and both go on.

An event counts as taken in once asked about, so it is handled at most once: if handling it fails,
a resend is dropped too, and the connector must answer the customer itself (never twice).

Rows only need to outlive the platform's resends and the signature's accepted age (13 hours for
Zalo by default, VIETCX_ZALO_MAX_AGE_SECONDS): `forget_older_than` with a few days is safe.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from vietcx.store.db import channel_events, engine

MAX_EVENT_ID = channel_events.c.event_id.type.length
MAX_PLATFORM = channel_events.c.platform.type.length
HASHED_PREFIX = "sha256:"  # a hashed id says so (71 characters: a column of 128 always holds it)


def stored_id(event_id: str) -> str:
    """The id as stored: itself, or, when longer than the column, its SHA-256, so the unique index
    never fails on length (and two long ids with a common beginning stay apart)."""
    if len(event_id) <= MAX_EVENT_ID:
        return event_id
    return HASHED_PREFIX + hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()


def first_time(platform: str, event_id: str, db: Engine | None = None) -> bool:
    """True for the first delivery of the platform's event, False for every later one, even with
    several processes or threads asking at the same moment."""
    if not platform or len(platform) > MAX_PLATFORM:
        raise ValueError(f"platform must be 1 to {MAX_PLATFORM} characters")
    if not event_id:
        raise ValueError("an event without an id cannot be recognised when it comes again")
    values = {
        "platform": platform,
        "event_id": stored_id(event_id),
        "received_at": datetime.now(timezone.utc),
    }
    try:
        with (db or engine()).begin() as connection:
            connection.execute(channel_events.insert().values(**values))
    except IntegrityError:  # taken in before, or a moment ago by another process
        return False
    return True


def forget_older_than(days: float, db: Engine | None = None) -> int:
    """Housekeeping: deletes events received more than `days` ago; returns how many."""
    if days <= 0:
        raise ValueError("days must be positive: a fresh event forgotten would be processed again")
    cut = datetime.now(timezone.utc) - timedelta(days=days)
    with (db or engine()).begin() as connection:
        return connection.execute(delete(channel_events).where(channel_events.c.received_at < cut)).rowcount
