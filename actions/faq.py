"""Answering shop questions from the live knowledge base, and asking whether that solved it."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import (
    KNOWLEDGE_BASE,
    SURE,
    alternatives,
    confident_answer,
    give_answer,
    honorific_of,
    several_questions,
)
from actions.customer import given_name_in_passing
from actions.handoff import FAQ_FALLBACK, hand_over
from vietcx.kb.loader import KnowledgeBaseError
from vietcx.kb.scope import mentions_other_shop
from vietcx.kb.search import Match
from vietcx.normalize import fold
from vietcx.replies import is_question, names_a_subject

logger = logging.getLogger(__name__)
# two questions in a row the knowledge base cannot answer: a person takes over
FALLBACKS_BEFORE_HANDOFF = 2
GREETING = re.compile(r"\s*(?:xin chao|chao|hello|hi|alo|a lo|hey)\b")
# "thế còn … thì sao", "còn … thì thế nào": a question that leans on the one before it
FOLLOW_UP = re.compile(r"^(?:the |vay |a |vay thi )?con\b.*\bthi (?:sao|the nao|nhu nao)\b")
MAX_FOLLOW_UP_WORDS = 8
# sentiment confidence above which a negative question gets an apology before its answer
UPSET = 0.7


def choice_button(match: Match) -> dict[str, str]:
    """A button that asks for one topic's answer."""
    return {"title": match.topic.title, "payload": "/faq_choose" + json.dumps({"faq_topic": match.topic.id})}


class ActionAnswerFaq(Action):
    """Answers when one topic clearly matches, offers the close ones, or says it does not know (or
    that it is not a question for the shop) and offers a person; twice in a row, a person takes over."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        named, text = given_name_in_passing(tracker)  # "Dũng đây, cho anh hỏi …"
        given = {event["name"]: event["value"] for event in named}
        honorific = given.get("customer_honorific") or honorific_of(tracker)
        return [*named, *self.respond(dispatcher, tracker, text, honorific)]

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, honorific: str
    ) -> list[EventType]:
        """The answer to `text`, addressed with `honorific`."""
        message = tracker.latest_message
        intent = (message.get("intent") or {}).get("name")
        unknown = "utter_faq_unknown"
        if mentions_other_shop(text):
            dispatcher.utter_message(response="utter_out_of_scope")
            return [SlotSet("faq_topic", None), SlotSet("faq_state", None)]
        try:
            if intent == "faq_choose":
                topic = KNOWLEDGE_BASE.topic(str(tracker.get_slot("faq_topic") or ""))
                matches = [Match(topic, 1.0)] if topic else []
                kind = "answer" if topic else "unknown"
            else:
                asked = several_questions(text)
                if asked and intent != "out_of_scope":  # two questions at once: both answered
                    answered = give_answer(dispatcher, asked[0], honorific, *asked[1:])
                    return [SlotSet(k, v) for k, v in answered.items()]
                pair = alternatives(text)
                query = with_the_question_it_follows(tracker, text)
                if pair:  # "đổi hay bảo hành": both offered
                    kind, matches = "choose", [Match(topic, 1.0) for topic in pair]
                else:
                    decision = KNOWLEDGE_BASE.decide(query, vague=names_a_subject(query))
                    kind, matches = decision.kind, decision.matches
                follow_up = query != text  # what it follows says it is a shop question
                sure = kind == "answer" and matches[0].score >= SURE
                if intent == "out_of_scope" and not follow_up and not sure:
                    kind, unknown = "unknown", "utter_out_of_scope"
        except KnowledgeBaseError:
            logger.exception("No usable knowledge base")
            kind, matches = "unknown", []

        if kind == "answer":
            if intent != "faq_choose" and upset(message):  # "ĐẶT 10 NGÀY RỒI VẪN CHƯA GIAO LÀ SAO!!!"
                dispatcher.utter_message(response="utter_complain_with_answer")
            elif opens_with_greeting(message.get("text") or "", tracker):  # "Chào shop, … có xuất VAT không?"
                dispatcher.utter_message(response="utter_greet_short")
            answered = give_answer(dispatcher, matches[0].topic, honorific)
            return [SlotSet(k, v) for k, v in answered.items()]
        fallbacks = int(tracker.get_slot("faq_fallbacks") or 0)
        if kind == "choose" and all(m.score < KNOWLEDGE_BASE.index().thresholds.answer for m in matches):
            # only weak guesses: one alone is no choice, and after an unclear question a person
            # helps more than guesses ("laptop dell … có bản ram 16gb không")
            kind = "unknown" if fallbacks or len(matches) == 1 else kind
        handing_over = kind == "unknown" and fallbacks + 1 >= FALLBACKS_BEFORE_HANDOFF
        if intent != "faq_choose" and upset(message) and not handing_over:
            dispatcher.utter_message(response="utter_complain")  # "GIAO SAI HÀNG CHO TÔI RỒI!!!"
            # a question left unanswered counts towards a person, however it was asked
            counted = [SlotSet("faq_fallbacks", fallbacks + 1)] if kind == "unknown" else []
            return [SlotSet("faq_topic", None), SlotSet("faq_state", None), *counted]
        if kind == "choose":
            dispatcher.utter_message(response="utter_faq_choose", buttons=[choice_button(m) for m in matches])
            candidates = [m.topic.id for m in matches]
            return [
                SlotSet("faq_topic", None),
                SlotSet("faq_state", "choose"),
                SlotSet("faq_candidates", candidates),
            ]
        fallbacks += 1
        cleared = [SlotSet("faq_topic", None), SlotSet("faq_state", "unknown")]
        if fallbacks >= FALLBACKS_BEFORE_HANDOFF:
            dispatcher.utter_message(response="utter_faq_unknown_again")
            return cleared + hand_over(dispatcher, tracker, FAQ_FALLBACK)
        dispatcher.utter_message(response=unknown)
        return [*cleared, SlotSet("faq_fallbacks", fallbacks)]


def with_the_question_it_follows(tracker: Tracker, text: str) -> str:
    """A follow-up ("thế còn bên mình thì sao", "còn tủ lạnh thì sao?") searched together with the
    customer's previous message, which says what it is about; any other message as it is."""
    if not FOLLOW_UP.search(fold(text)) or len(text.split()) > MAX_FOLLOW_UP_WORDS:
        return text
    said = [str(e.get("text") or "") for e in tracker.events if e.get("event") == "user"]
    return f"{said[-2]} {text}" if len(said) >= 2 else text


def opens_with_greeting(text: str, tracker: Tracker) -> bool:
    """Whether the customer greets before asking, and the assistant has not spoken yet in this
    session: then the answer is greeted too."""
    if not GREETING.match(fold(text)):
        return False
    events = tracker.events
    starts = [i for i, e in enumerate(events) if e.get("event") == "session_started"]
    return not any(e.get("event") == "bot" for e in events[starts[-1] if starts else 0 :])


def upset(message: dict[str, Any]) -> bool:
    """Whether the customer's message is clearly negative (the NLU's sentiment): a question asked
    angrily is answered after an apology."""
    sentiment = message.get("sentiment") or {}
    return sentiment.get("label") == "negative" and float(sentiment.get("confidence") or 0) >= UPSET


class ActionAnswerComplaint(Action):
    """A complaint gets an apology; when it is about something the knowledge base clearly knows
    ("đợi hoàn tiền 2 tuần rồi, quá tệ"), also the answer, then "did that solve it?". A question
    read as a complaint but not clearly negative in tone is answered as a question."""

    def name(self) -> str:
        return "action_answer_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        if is_question(text) and not upset(tracker.latest_message):  # a question the NLU misread:
            return await ActionAnswerFaq().run(dispatcher, tracker, domain)  # "… dời lịch giao được không ạ?"
        slots = confident_answer(
            dispatcher, text, SURE, lead="utter_complain_with_answer", honorific=honorific_of(tracker)
        )
        if slots is not None:
            return [SlotSet(k, v) for k, v in slots.items()]
        if not is_question(text):
            dispatcher.utter_message(response="utter_complain")
            return []
        # an angry question the knowledge base cannot answer ("macbook m3 về hàng chưa??"): like any
        # unanswered question, the second in a row goes to a person
        fallbacks = int(tracker.get_slot("faq_fallbacks") or 0) + 1
        if fallbacks >= FALLBACKS_BEFORE_HANDOFF:
            dispatcher.utter_message(response="utter_faq_unknown_again")
            return [SlotSet("faq_topic", None), *hand_over(dispatcher, tracker, FAQ_FALLBACK)]
        dispatcher.utter_message(response="utter_complain")
        return [SlotSet("faq_fallbacks", fallbacks)]


class ActionFaqResolved(Action):
    """The customer says the answer solved their issue: mark it resolved in the conversation."""

    def name(self) -> str:
        return "action_faq_resolved"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        named, _ = given_name_in_passing(tracker)  # "Rồi, à mình tên Kiên"
        address = {event["name"]: event["value"] for event in named}
        dispatcher.utter_message(response="utter_glad_resolved", **address)
        if not tracker.get_slot("faq_topic"):
            return named  # already marked (a second "thanks"): one resolution, one survey
        return [
            *named,
            SlotSet("issue_resolved", True),
            SlotSet("resolved_topic", tracker.get_slot("faq_topic")),
            SlotSet("resolved_by", "faq"),
            SlotSet("faq_topic", None),
        ]


class ActionFaqUnresolved(Action):
    """The answer did not help: offer to rephrase or a person."""

    def name(self) -> str:
        return "action_faq_unresolved"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_faq_not_solved")
        return [SlotSet("faq_state", None)]
