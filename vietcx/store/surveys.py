"""Survey responses (CSAT 1–5, CES 1–7, NPS 0–10 when asked, comment), each answer written the
moment it is given."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from vietcx.store.db import customers, engine, stream, surveys
from vietcx.store.period import Period

STATUSES = ("asked", "partial", "completed", "skipped")
NAMES = (customers.c.display_name, customers.c.full_name, customers.c.given_name)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def start(
    sender_id: str,
    channel: str,
    customer_id: str,
    topic: str | None,
    resolved_by: str,
    db: Engine | None = None,
) -> str:
    """Records that a survey was asked; returns its id. A survey of the same conversation and topic
    asked in the last half hour and not answered at all is the same survey: the action that asks
    runs again when a Rasa server dies before saving its turn and the customer sends the message
    again, and that must not leave a second, empty survey behind."""
    survey_id = str(uuid.uuid4())
    with (db or engine()).begin() as connection:
        unanswered = connection.execute(
            select(surveys.c.id).where(
                surveys.c.sender_id == sender_id,
                surveys.c.topic == topic if topic is not None else surveys.c.topic.is_(None),
                surveys.c.status == "asked",
                surveys.c.started_at > _now() - timedelta(minutes=30),
            )
        ).scalar()
        if unanswered:
            return str(unanswered)
        connection.execute(
            surveys.insert().values(
                id=survey_id,
                sender_id=sender_id,
                channel=channel,
                customer_id=customer_id,
                topic=topic,
                resolved_by=resolved_by,
                status="asked",
                started_at=_now(),
            )
        )
    return survey_id


def record(survey_id: str, db: Engine | None = None, **answers: object) -> None:
    """Stores answers (csat, ces, nps, comment, status, sentiment) at once, in one transaction."""
    values = dict(answers)
    if any(key in values for key in ("csat", "ces", "nps", "comment")):
        values["answered_at"] = _now()
    with (db or engine()).begin() as connection:
        connection.execute(update(surveys).where(surveys.c.id == survey_id).values(**values))


def answered_recently(channel: str, customer_id: str, hours: float, db: Engine | None = None) -> bool:
    """Whether this customer answered a survey in the last `hours` (they are not asked again)."""
    since = _now() - timedelta(hours=hours)
    query = select(surveys.c.id).where(
        surveys.c.channel == channel,
        surveys.c.customer_id == customer_id,
        surveys.c.status.in_(("partial", "completed")),
        surveys.c.answered_at >= since,
    )
    with (db or engine()).connect() as connection:
        return connection.execute(query.limit(1)).first() is not None


def get(survey_id: str, db: Engine | None = None) -> dict | None:
    """One response as a dict."""
    with (db or engine()).connect() as connection:
        row = connection.execute(select(surveys).where(surveys.c.id == survey_id)).first()
    return dict(row._mapping) if row else None


def count(where: Period, db: Engine | None = None) -> int:
    """How many responses match."""
    from sqlalchemy import func

    with (db or engine()).connect() as connection:
        return connection.execute(
            select(func.count()).select_from(surveys).where(where.clause(surveys, "started_at"))
        ).scalar_one()


def rows(
    where: Period, db: Engine | None = None, batch: int = 5000, with_names: bool = False
) -> Iterator[list[dict]]:
    """Matching responses, oldest first, in batches (exports stream instead of loading everything).

    `with_names`: each row also carries `names`, the customer's stored names, which exports mask
    (one joined query instead of a look-up per batch).
    """
    query = select(surveys, *(NAMES if with_names else ()))
    if with_names:
        same_customer = (customers.c.channel == surveys.c.channel) & (
            customers.c.channel_user_id == surveys.c.customer_id
        )
        query = query.select_from(surveys.outerjoin(customers, same_customer))
    query = query.where(where.clause(surveys, "started_at")).order_by(surveys.c.started_at, surveys.c.id)
    keys, width = surveys.columns.keys(), len(surveys.columns)
    for chunk in stream(query, db or engine(), batch):
        if not with_names:
            yield [dict(row._mapping) for row in chunk]
            continue
        yield [
            {**dict(zip(keys, row[:width], strict=True)), "names": [n for n in row[width:] if n]}
            for row in chunk
        ]
