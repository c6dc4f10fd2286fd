"""From the sentiment of each message to the sentiment of a conversation.

Works on Rasa tracker events (as the action server and the tracker store both hold them), so the
same summary serves a live conversation (in an action) and a stored one (in the sweep).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

LABELS = ("negative", "neutral", "positive")


@dataclass
class ScoredMessage:
    """One customer message and its sentiment."""

    sent_at: datetime
    text: str
    intent: str | None
    topic: str | None
    label: str
    confidence: float
    score: float  # P(positive) − P(negative)


@dataclass
class Session:
    """One conversation (a Rasa session) of a sender."""

    sender_id: str
    started_at: datetime
    channel: str = "rest"
    customer_id: str | None = None
    topic: str | None = None
    last_event_at: datetime | None = None
    messages: list[ScoredMessage] = field(default_factory=list)


def score_of(sentiment: dict[str, Any]) -> float:
    """P(positive) − P(negative): −1 very negative, 0 neutral, 1 very positive."""
    scores = sentiment.get("scores") or {}
    return round(float(scores.get("positive", 0.0)) - float(scores.get("negative", 0.0)), 4)


def sessions(sender_id: str, events: list[dict[str, Any]]) -> list[Session]:
    """Splits a sender's events into sessions and collects the scored customer messages."""
    found: list[Session] = []
    current: Session | None = None
    for event in events:
        when = datetime.fromtimestamp(float(event.get("timestamp") or 0), tz=timezone.utc)
        kind = event.get("event")
        if kind == "session_started" or current is None:
            current = Session(sender_id, when)
            found.append(current)
            if kind == "session_started":
                continue
        current.last_event_at = when
        if kind == "slot" and event.get("name") in ("faq_topic", "resolved_topic") and event.get("value"):
            current.topic = event["value"]
        elif kind == "slot" and event.get("name") == "customer_id" and event.get("value"):
            current.customer_id = event["value"]
        elif kind == "user":
            current.channel = event.get("input_channel") or current.channel
            parse = event.get("parse_data") or {}
            sentiment = parse.get("sentiment")
            if sentiment:
                current.messages.append(
                    ScoredMessage(
                        sent_at=when,
                        text=event.get("text") or "",
                        intent=(parse.get("intent") or {}).get("name"),
                        topic=current.topic,
                        label=sentiment["label"],
                        confidence=float(sentiment["confidence"]),
                        score=score_of(sentiment),
                    )
                )
    return [s for s in found if s.messages or s.last_event_at]


def summarize(messages: list[ScoredMessage]) -> dict[str, Any]:
    """Counts per label, mean score, trend (last third − first third) and the most negative message."""
    counts = {label: sum(m.label == label for m in messages) for label in LABELS}
    if not messages:
        return {
            **counts,
            "messages": 0,
            "mean_score": 0.0,
            "trend": 0.0,
            "most_negative_text": None,
            "most_negative_score": None,
        }
    scores = [m.score for m in messages]
    third = max(len(scores) // 3, 1)
    trend = sum(scores[-third:]) / third - sum(scores[:third]) / third if len(scores) >= 3 else 0.0
    worst = min(messages, key=lambda m: m.score)
    return {
        **counts,
        "messages": len(messages),
        "mean_score": round(sum(scores) / len(scores), 4),
        "trend": round(trend, 4),
        "most_negative_text": worst.text,
        "most_negative_score": worst.score,
    }


def current_summary(sender_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary of a sender's current conversation (its last session)."""
    found = sessions(sender_id, events)
    return summarize(found[-1].messages if found else [])
