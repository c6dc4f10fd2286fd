"""Answering from the live knowledge base: the index, one topic's answer addressed to the
customer, and answering a message only when the knowledge base clearly knows it. Used by the FAQ
actions and wherever a question comes in the middle of something else (the name question, the
survey)."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from vietcx.kb.loader import KnowledgeBaseError, Topic
from vietcx.kb.scope import mentions_other_shop
from vietcx.kb.search import KnowledgeBase
from vietcx.names import NEUTRAL, addressed
from vietcx.normalize import fold
from vietcx.replies import is_question

logger = logging.getLogger(__name__)
# When the NLU calls a message out of scope or a complaint, the knowledge base must be at least this
# sure to answer it anyway (a shop question the NLU misread, a complaint about a known topic);
# otherwise the polite refusal or the apology alone stands.
SURE = 0.6
KNOWLEDGE_BASE = KnowledgeBase()
# where a message that asks several things divides (on the folded text): "?", ";", ",", a new line,
# "… mà …", "… và …" (unless every part is a question clearly about one topic, the message is one)
_PARTS = re.compile(r"\?|;|,|\n| ma (?=\S)| va (?=\S)")
MIN_PART_WORDS = 3
# "… đổi hay bảo hành …": each side of "hay" must be this clearly one topic to offer both
_OR = re.compile(r"\s+hay(?: la)?\s+")
CLEAR_SIDE = 0.6


def warm_up() -> None:
    """Builds the FAQ index before the action server answers (vietcx/action_server.py), so the first
    customer's question does not wait for it."""
    try:
        KNOWLEDGE_BASE.index()
    except KnowledgeBaseError:
        logger.exception("The knowledge base could not be loaded at start")


def honorific_of(tracker: Tracker) -> str:
    """How to address the customer: "anh", "chị", or "anh/chị" while unknown."""
    return str(tracker.get_slot("customer_honorific") or NEUTRAL)


def give_answer(
    dispatcher: CollectingDispatcher,
    topic: Topic,
    honorific: str = NEUTRAL,
    *more: Topic,
    follow: str = "utter_ask_resolved",
) -> dict[str, Any]:
    """Sends a topic's answer (and those of `more` topics asked in the same message), addressed to
    the customer, then the response `follow` (the "did that solve it?" question, or while waiting
    for staff the note that they will follow up); returns the slots to set (the first topic is the
    one resolved)."""
    for answered in (topic, *more):
        dispatcher.utter_message(text=addressed(answered.answer, honorific))
    dispatcher.utter_message(response=follow)
    return {"faq_topic": topic.id, "faq_state": "answered", "faq_fallbacks": 0}


def several_questions(text: str) -> list[Topic]:
    """The topics of a message that asks two or three things ("giao mất mấy ngày, mà phí ship bao
    nhiêu?"), in the order asked: each part must be clearly one topic, all different. Else []."""
    folded = fold(text)
    bounds = [0, *(m.start() for m in _PARTS.finditer(folded)), len(text)]
    parts = [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    parts = [p.strip(" ,.;?!\n") for p in parts if len(p.split()) >= MIN_PART_WORDS]
    if not 2 <= len(parts) <= 3 or not all(is_question(p) for p in parts):
        return []  # "ck rồi mà đơn bị hủy, bao giờ được trả lại tiền" asks one thing
    topics: list[Topic] = []
    for part in parts:
        decision = KNOWLEDGE_BASE.decide(part)
        if decision.kind != "answer" or decision.matches[0].score < SURE or mentions_other_shop(part):
            return []
        if decision.matches[0].topic.id not in {t.id for t in topics}:
            topics.append(decision.matches[0].topic)
    return topics if len(topics) > 1 else []


def alternatives(text: str) -> list[Topic]:
    """The two topics of a this-or-that question ("máy hư thì đổi hay bảo hành vậy shop"), each
    side clearly one topic and the two different, to offer both; else []."""
    folded = fold(text)
    sides = _OR.split(folded, maxsplit=1)
    if len(sides) != 2 or not all(side.strip() for side in sides):
        return []
    start = len(sides[0])
    parts = [text[:start], text[len(folded) - len(sides[1]) :]]  # folding keeps offsets
    topics: list[Topic] = []
    for part in parts:
        ranked = KNOWLEDGE_BASE.index().rank(part)
        if not ranked or ranked[0].score < CLEAR_SIDE:
            return []
        topics.append(ranked[0].topic)
    return topics if topics[0].id != topics[1].id else []


def confident_answer(
    dispatcher: CollectingDispatcher,
    text: str,
    min_score: float = 0.0,
    lead: str | None = None,
    honorific: str = NEUTRAL,
    fill: dict[str, str] | None = None,
    follow: str = "utter_ask_resolved",
) -> dict[str, Any] | None:
    """Answers `text` only if the knowledge base clearly knows it (at least `min_score`), after the
    response `lead` if given (its slots filled from `fill` where the tracker's are not yet set) and
    before the response `follow`; returns the slots to set, or None (nothing sent)."""
    try:
        decision = KNOWLEDGE_BASE.decide(text)
    except KnowledgeBaseError:
        return None
    if decision.kind != "answer" or decision.matches[0].score < min_score or mentions_other_shop(text):
        return None
    if lead:
        dispatcher.utter_message(response=lead, **(fill or {}))
    return give_answer(dispatcher, decision.matches[0].topic, honorific, follow=follow)
