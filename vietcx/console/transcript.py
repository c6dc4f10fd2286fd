"""One conversation as staff read it: the customer's and the bot's messages from Rasa's tracker
store merged in time order with what was queued for the customer through the outbox (staff
replies, the bot's answer after a hand-back), plus the FAQ topics tried and the mood."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from vietcx.conversation_sentiment import sessions, summarize
from vietcx.kb.loader import KnowledgeBaseError, load
from vietcx.settings import kb_file
from vietcx.store.db import as_utc

# an outbox message that Rasa also stored as a bot event (the answer to a hand-back, or a message
# written to the tracker when delivered) is the same message if the texts match this close in time
SAME_MESSAGE = timedelta(minutes=5)
# what a channel sends for the customer when a conversation opens (the web widget's greeting, a Zalo
# follow): the assistant's greeting is shown, this is not
OPENING = "/greet"


@dataclass
class Line:
    """One message of the transcript."""

    at: datetime
    author: str  # customer | bot | staff | session (a new conversation session began)
    text: str | None = None
    buttons: list[str] = field(default_factory=list)
    sentiment: dict | None = None  # customer messages: label, confidence, scores
    staff: str | None = None  # who wrote a staff message
    delivered: bool | None = None  # outbox messages: handed to the customer yet
    undeliverable: str | None = None  # outbox messages that cannot reach the customer: why


def _event_time(event: dict) -> datetime:
    return datetime.fromtimestamp(float(event.get("timestamp") or 0), tz=timezone.utc)


def lines(events: list[dict], queued: list[dict], staff_names: dict[str, str]) -> list[Line]:
    """The conversation in time order; `queued` are outbox rows, `staff_names` user name → name."""
    from_tracker: list[Line] = []
    for event in events:
        kind = event.get("event")
        if kind == "user" and (event.get("text") or "").strip() == OPENING:
            continue  # the chat page's or Zalo's own opening of the conversation, not the customer's words
        if kind == "user":
            sentiment = (event.get("parse_data") or {}).get("sentiment")
            from_tracker.append(Line(_event_time(event), "customer", event.get("text"), sentiment=sentiment))
        elif kind == "bot":
            buttons = ((event.get("data") or {}).get("buttons")) or []
            from_tracker.append(
                Line(_event_time(event), "bot", event.get("text"), [str(b.get("title")) for b in buttons])
            )
        elif kind == "session_started":
            from_tracker.append(Line(_event_time(event), "session"))
    from_outbox = []
    for message in queued:
        sent = as_utc(message["created_at"])
        delivered = message.get("delivered_at")
        same = _stored_copy(from_tracker, message["text"], sent, as_utc(delivered) if delivered else None)
        if same is not None:
            from_tracker.remove(same)
        from_outbox.append(
            Line(
                sent,
                "staff" if message["author"] == "staff" else "bot",
                message["text"],
                [str(b.get("title")) for b in message.get("buttons") or []],
                staff=staff_names.get(message.get("staff") or "", message.get("staff")),
                delivered=delivered is not None,
                undeliverable=message.get("failure") if message.get("failed_at") else None,
            )
        )
    return sorted(from_tracker + from_outbox, key=lambda line: line.at)


def version(shown: list[Line]) -> str:
    """A fingerprint of what the transcript shows: the page replaces its copy only when it changes."""
    return hashlib.sha256(repr(shown).encode("utf-8")).hexdigest()[:16]


def _stored_copy(
    candidates: list[Line], text: str | None, sent: datetime, delivered: datetime | None
) -> Line | None:
    """The tracker's bot event that is this outbox message, if Rasa stored one."""
    latest = (delivered or datetime.now(timezone.utc)) + SAME_MESSAGE
    for line in candidates:
        if line.author == "bot" and line.text == text and sent - SAME_MESSAGE <= line.at <= latest:
            return line
    return None


def faq_topics(events: list[dict]) -> dict:
    """The FAQ topics answered and offered in the conversation (ids, first mention first), and how
    many searches found nothing (slots set by the FAQ action, not the copies a new session makes)."""
    answered: list[str] = []
    offered: list[str] = []
    not_found = 0
    last_action = None
    for event in events:
        if event.get("event") == "action":
            last_action = event.get("name")
        if event.get("event") != "slot":
            continue
        name, value = event.get("name"), event.get("value")
        if name == "faq_topic" and value and value not in answered:
            answered.append(str(value))
        elif name == "faq_candidates" and value:
            offered += [str(topic) for topic in value if topic not in offered]
        elif name == "faq_state" and value == "unknown" and last_action == "action_answer_faq":
            not_found += 1
    return {
        "answered": answered,
        "offered": [t for t in offered if t not in answered],
        "not_found": not_found,
    }


def topic_titles() -> dict[str, str]:
    """Topic id → title from the knowledge base in use (ids alone while the file is unusable)."""
    path = kb_file()
    try:
        return _titles(path, path.stat().st_mtime_ns)
    except (OSError, KnowledgeBaseError):
        return {}


@functools.lru_cache(maxsize=2)
def _titles(path: Path, _modified: int) -> dict[str, str]:
    """Cached per version of the file: staff edit it while the console runs."""
    return {topic.id: topic.title for topic in load(path)}


def mood_now(sender_id: str, events: list[dict]) -> dict | None:
    """The sentiment summary of the conversation's latest session, from its stored messages."""
    found = sessions(sender_id, events)
    return summarize(found[-1].messages) if found and found[-1].messages else None
