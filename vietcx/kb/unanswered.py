"""The questions the assistant could not answer, from its real traffic: those the FAQ search found
nothing for, and those whose answer the customer marked "Chưa" (not solved). Similar ones are
grouped, so staff add one example where customers asked the same thing many ways."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from vietcx.normalize import fold

MISS, NOT_SOLVED = "miss", "not_solved"
# cosine of two questions from which they are one group (e5 puts unrelated shop questions near 0.9)
SAME_QUESTION = 0.95


@dataclass
class Question:
    text: str
    sender_id: str
    at: datetime
    kind: str  # MISS or NOT_SOLVED
    topic: str | None = None  # NOT_SOLVED: the topic whose answer did not help


@dataclass
class Group:
    """Questions asked alike; `text` is the most recent one, offered as the example to add."""

    questions: list[Question] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.questions[0].text

    @property
    def variants(self) -> list[str]:
        return list(dict.fromkeys(q.text for q in self.questions))


def questions(rows: Iterable[Sequence]) -> list[Question]:
    """From tracker rows (sender_id, type_name, intent_name, action_name, data, timestamp), ordered by
    conversation then id: each customer question the FAQ action found nothing for, and each one
    whose answer was followed by "Chưa"."""
    found: list[Question] = []
    sender, asked, answered, last_action = None, None, None, None
    for sender_id, kind, intent, action, data, timestamp in rows:
        if sender_id != sender:
            sender, asked, answered, last_action = sender_id, None, None, None
        at = datetime.fromtimestamp(float(timestamp or 0), tz=timezone.utc)
        if kind == "user":
            text = (json.loads(data).get("text") or "").strip()
            if intent == "faq_unresolved" and answered:
                found.append(Question(answered[0], sender_id, at, NOT_SOLVED, answered[1]))
                answered = None
            elif text and not text.startswith("/"):
                asked = text
        elif kind == "action":
            last_action = action
        elif kind == "slot" and last_action == "action_answer_faq" and asked:
            value = json.loads(data).get("value")
            if action == "faq_state" and value == "unknown":
                found.append(Question(asked, sender_id, at, MISS))
                asked = None
            elif action == "faq_topic" and value:
                answered = (asked, str(value))
    return found


def same_text(text: str) -> str:
    """A question as compared with the examples: no diacritics, case or punctuation."""
    return " ".join(re.findall(r"\w+", fold(text)))


def group(
    found: list[Question],
    still_open: Callable[[Question], bool],
    embed: Callable[[list[str]], np.ndarray],
) -> list[Group]:
    """The questions still open (`still_open`: not an example yet, not answered by now) grouped by
    meaning (`embed`: texts → unit vectors), the largest group first, then the most recent."""
    fresh = sorted((q for q in found if still_open(q)), key=lambda q: q.at, reverse=True)
    if not fresh:
        return []
    vectors = embed([q.text for q in fresh])
    groups: list[tuple[np.ndarray, Group]] = []
    for question, vector in zip(fresh, vectors, strict=True):
        home = next((g for centre, g in groups if float(centre @ vector) >= SAME_QUESTION), None)
        if home is None:
            home = Group()
            groups.append((vector, home))
        home.questions.append(question)
    return sorted((g for _, g in groups), key=lambda g: (-len(g.questions), -g.questions[0].at.timestamp()))
