"""Escalations to staff: opened by the assistant, taken and resolved by staff in the console.

A conversation has at most one unresolved escalation: opening another while one is open returns
the open one. What staff write to the customer goes through `vietcx.store.outbox`.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, true, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from vietcx.store.db import as_utc, engine, escalations, stream
from vietcx.store.period import Period

EVERYTHING = Period()
REASONS = ("customer_request", "faq_fallback", "negative_sentiment")
STATUSES = ("open", "assigned", "resolved")
UNRESOLVED = ("open", "assigned")
# the intent with which the console hands a conversation back to the bot (listed in domain.yml)
HAND_BACK_INTENT = "EXTERNAL_staff_resolved"


class EscalationError(ValueError):
    """An action that the escalation's state does not allow (e.g. replying to a resolved one)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def open_escalation(
    sender_id: str,
    channel: str,
    customer_id: str | None,
    customer_name: str | None,
    reason: str,
    sentiment: dict | None = None,
    db: Engine | None = None,
) -> tuple[dict, bool]:
    """The conversation's unresolved escalation, opened now if there is none; (row, opened now)."""
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {', '.join(REASONS)}")
    db = db or engine()
    existing = current(sender_id, db)
    if existing:
        return existing, False
    values = {
        "sender_id": sender_id,
        "channel": channel,
        "customer_id": customer_id,
        "customer_name": customer_name,
        "reason": reason,
        "status": "open",
        "sentiment": json.dumps(sentiment, ensure_ascii=False) if sentiment else None,
        "created_at": _now(),
    }
    try:
        with db.begin() as connection:
            new_id = connection.execute(escalations.insert().values(**values)).inserted_primary_key[0]
    except IntegrityError:  # another process opened one a moment ago
        return current(sender_id, db) or {}, False
    return get(new_id, db) or {}, True


def current(sender_id: str, db: Engine | None = None) -> dict | None:
    """The conversation's unresolved escalation, if any."""
    query = select(escalations).where(
        escalations.c.sender_id == sender_id, escalations.c.status.in_(UNRESOLVED)
    )
    with (db or engine()).connect() as connection:
        row = connection.execute(query).first()
    return dict(row._mapping) if row else None


def get(escalation_id: int, db: Engine | None = None) -> dict | None:
    with (db or engine()).connect() as connection:
        row = connection.execute(select(escalations).where(escalations.c.id == escalation_id)).first()
    return dict(row._mapping) if row else None


def search(
    where: Period = EVERYTHING,
    status: str | None = None,
    reason: str | None = None,
    limit: int = 500,
    db: Engine | None = None,
    sender_id: str | None = None,
) -> list[dict]:
    """Escalations matching the filters (of one conversation, with `sender_id`), unresolved first,
    then newest first."""
    query = select(escalations).where(_filters(where, status, reason))
    if sender_id is not None:
        query = query.where(escalations.c.sender_id == sender_id)
    query = query.order_by((escalations.c.status == "resolved").asc(), escalations.c.created_at.desc())
    with (db or engine()).connect() as connection:
        return [dict(r._mapping) for r in connection.execute(query.limit(limit))]


def counts(where: Period = EVERYTHING, reason: str | None = None, db: Engine | None = None) -> dict[str, int]:
    """How many escalations per status (for the queue's header)."""
    query = (
        select(escalations.c.status, func.count())
        .where(_filters(where, None, reason))
        .group_by(escalations.c.status)
    )
    with (db or engine()).connect() as connection:
        found = dict(connection.execute(query).all())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def rows(where: Period, db: Engine | None = None, batch: int = 5000) -> Iterator[list[dict]]:
    """Matching escalations, oldest first, in batches (for exports)."""
    query = select(escalations).where(where.clause(escalations, "created_at")).order_by(escalations.c.id)
    for chunk in stream(query, db or engine(), batch):
        yield [dict(row._mapping) for row in chunk]


def _filters(where: Period, status: str | None, reason: str | None):  # noqa: ANN202 (SQL clause)
    clause = where.clause(escalations, "created_at")
    if status:
        clause = clause & (escalations.c.status == status)
    if reason:
        clause = clause & (escalations.c.reason == reason)
    return clause


def assign(escalation_id: int, staff: str, db: Engine | None = None, held_by: str | None = None) -> dict:
    """Gives an unresolved escalation to a staff member ("take"), provided it is still held by
    `held_by` (None: nobody), so two staff members clicking at once cannot both get it."""
    holder = escalations.c.staff.is_(None) if held_by is None else escalations.c.staff == held_by
    return _change(escalation_id, db, UNRESOLVED, holder, status="assigned", staff=staff, assigned_at=_now())


def resolve(escalation_id: int, staff: str, db: Engine | None = None) -> dict:
    """Marks the escalation resolved by a staff member: the bot owns the conversation again."""
    return _change(
        escalation_id, db, UNRESOLVED, true(), status="resolved", resolved_by=staff, resolved_at=_now()
    )


def untaken_without_offer(db: Engine | None = None) -> list[dict]:
    """Open escalations nobody took yet and whose customer was not offered a call back."""
    query = select(escalations).where(
        escalations.c.status == "open",
        escalations.c.staff.is_(None),
        escalations.c.callback_offered_at.is_(None),
    )
    with (db or engine()).connect() as connection:
        return [dict(r._mapping) for r in connection.execute(query.order_by(escalations.c.id))]


def mark_callback_offered(escalation_id: int, db: Engine | None = None) -> bool:
    """Notes that the call back is being offered; False if it was already (by another process, or
    taken meanwhile), so a customer is offered it once."""
    with (db or engine()).begin() as connection:
        return bool(
            connection.execute(
                update(escalations)
                .where(
                    escalations.c.id == escalation_id,
                    escalations.c.status == "open",
                    escalations.c.callback_offered_at.is_(None),
                )
                .values(callback_offered_at=_now())
            ).rowcount
        )


def request_callback(escalation_id: int, phone: str, db: Engine | None = None) -> dict:
    """Notes the number a waiting customer wants to be called back on (a newer one replaces it),
    for staff to see in the queue and on the escalation's page."""
    return _change(escalation_id, db, UNRESOLVED, true(), callback_phone=phone, callback_requested_at=_now())


def _change(
    escalation_id: int, db: Engine | None, allowed: tuple[str, ...], guard: ColumnElement, **values: object
) -> dict:
    db = db or engine()
    with db.begin() as connection:
        changed = connection.execute(
            update(escalations)
            .where(escalations.c.id == escalation_id, escalations.c.status.in_(allowed), guard)
            .values(**values)
        ).rowcount
    if not changed:
        raise EscalationError(f"escalation {escalation_id} is missing, resolved or was taken meanwhile")
    return get(escalation_id, db) or {}


def estimated_wait_minutes(escalation_id: int, default: float = 5.0, db: Engine | None = None) -> int:
    """An honest wait: the customers ahead in the queue times the median time staff took to pick
    up an escalation over the last 30 days (`default` minutes while there is no history)."""
    db = db or engine()
    with db.connect() as connection:
        ahead = connection.execute(
            select(func.count()).where(escalations.c.status == "open", escalations.c.id < escalation_id)
        ).scalar()
        recent = connection.execute(
            select(escalations.c.created_at, escalations.c.assigned_at).where(
                escalations.c.assigned_at.is_not(None),
                escalations.c.created_at >= _now() - timedelta(days=30),
            )
        ).all()
    waits = [(as_utc(a) - as_utc(c)).total_seconds() / 60 for c, a in recent]
    per_customer = statistics.median(waits) if waits else default
    return max(1, round(per_customer * (ahead + 1)))
