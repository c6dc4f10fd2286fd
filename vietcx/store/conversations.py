"""Every conversation (a session of the sentiment sweep's table), found by what staff review: day,
channel, mood, FAQ topic, survey score, review flag, or a word the customer wrote."""

from __future__ import annotations

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from vietcx.store.db import conversation_sentiment, engine, escalations, flags, message_sentiment, surveys
from vietcx.store.period import Period

# a conversation's mood from its mean message score (−1 … 1): up to −0.2 negative, above 0.2 positive
MOOD_BOUNDS = (-0.2, 0.2)
MOODS = ("negative", "neutral", "positive")
# survey score filters: CSAT 1–2, 3, 4–5, or no answer
SCORES = ("low", "middle", "high", "none")
_CSAT = {"low": surveys.c.csat <= 2, "middle": surveys.c.csat == 3, "high": surveys.c.csat >= 4}


def _mood(label: str) -> ColumnElement:
    low, high = MOOD_BOUNDS
    score = conversation_sentiment.c.mean_score
    return {"negative": score <= low, "neutral": and_(score > low, score <= high), "positive": score > high}[
        label
    ]


def _like(text: str) -> str:
    """A LIKE pattern that finds `text` literally (its % and _ are not wildcards)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(
    where: Period,
    mood: str | None = None,
    topic: str | None = None,
    score: str | None = None,
    flagged: bool = False,
    text: str | None = None,
    limit: int = 500,
    db: Engine | None = None,
) -> list[dict]:
    """Matching conversations, newest first, each with its lowest CSAT, whether it was flagged and
    its latest escalation's id; `text` matches a sender or customer id, or words of a message."""
    table = conversation_sentiment
    same_sender = surveys.c.sender_id == table.c.sender_id
    lowest_csat = select(func.min(surveys.c.csat)).where(same_sender).scalar_subquery()
    is_flagged = exists().where(flags.c.sender_id == table.c.sender_id)
    escalation = select(func.max(escalations.c.id)).where(escalations.c.sender_id == table.c.sender_id)
    query = select(
        table,
        lowest_csat.label("csat"),
        is_flagged.label("flagged"),
        escalation.scalar_subquery().label("escalation_id"),
    ).where(where.clause(table, "started_at"))
    if mood:
        query = query.where(_mood(mood))
    if topic:
        query = query.where(table.c.topic == topic)
    if score == "none":
        query = query.where(~exists().where(same_sender, surveys.c.csat.isnot(None)))
    elif score:
        query = query.where(exists().where(same_sender, _CSAT[score]))
    if flagged:
        query = query.where(is_flagged)
    if text:
        words = exists().where(
            message_sentiment.c.sender_id == table.c.sender_id,
            message_sentiment.c.session_started_at == table.c.session_started_at,
            message_sentiment.c.text.like(_like(text), escape="\\"),
        )
        query = query.where(or_(table.c.sender_id == text, table.c.customer_id == text, words))
    query = query.order_by(table.c.last_message_at.desc()).limit(limit)
    with (db or engine()).connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def mood_of(mean_score: float) -> str:
    """negative / neutral / positive, as the filter and the sentiment report bucket it."""
    low, high = MOOD_BOUNDS
    return "negative" if mean_score <= low else "positive" if mean_score > high else "neutral"


def known(sender_id: str, db: Engine | None = None) -> bool:
    """Whether the product knows this conversation (a swept session, a survey or an escalation)."""
    with (db or engine()).connect() as connection:
        return any(
            connection.execute(
                select(table.c.sender_id).where(table.c.sender_id == sender_id).limit(1)
            ).first()
            for table in (conversation_sentiment, surveys, escalations)
        )
