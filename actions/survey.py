"""The short CSAT/CES (and, when data/survey.yml switches it on, NPS) survey after an issue is
resolved: asked once, every answer stored at once, the questions worded as the survey file says."""

from __future__ import annotations

import json
import os
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import confident_answer, honorific_of
from actions.customer import customer_key
from vietcx.conversation_sentiment import current_summary
from vietcx.names import NEUTRAL
from vietcx.replies import question_part
from vietcx.store import surveys
from vietcx.survey_answers import LOWEST, SCALES, SKIP, asks_about_scale, correction, parse_score
from vietcx.survey_settings import SurveySettings, load

# words a comment needs before a question to be kept as one ("à mà cho hỏi …" holds none)
MIN_COMMENT_WORDS = 3
QUESTIONS = {"csat_score": "csat", "ces_score": "ces", "nps_score": "nps"}
SURVEY_SLOTS = (
    "csat_score",
    "ces_score",
    "nps_score",
    "survey_comment",
    "survey_reasks",
    "survey_unanswered",
    "survey_skipped",
    "survey_interrupted",
)


def cooldown_hours() -> float:
    """No new survey for a customer who was surveyed this recently (VIETCX_SURVEY_COOLDOWN_HOURS)."""
    return float(os.environ.get("VIETCX_SURVEY_COOLDOWN_HOURS", "24"))


class ActionOfferSurvey(Action):
    """Starts the survey for a just-resolved issue, unless this customer was surveyed recently."""

    def name(self) -> str:
        return "action_offer_survey"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        topic = tracker.get_slot("resolved_topic")
        if not tracker.get_slot("issue_resolved") or tracker.get_slot("surveyed_issue") == _issue_key(
            tracker
        ):
            return []  # nothing newly resolved: at most one survey per resolved issue
        channel, customer_id = customer_key(tracker)
        if surveys.answered_recently(channel, customer_id, cooldown_hours()):
            return [SlotSet("surveyed_issue", _issue_key(tracker))]
        resolved_by = tracker.get_slot("resolved_by") or "faq"
        survey_id = surveys.start(tracker.sender_id, channel, customer_id, topic, resolved_by)
        dispatcher.utter_message(response="utter_survey_intro", text=worded(load(), "intro", tracker))
        return [
            SlotSet("survey_id", survey_id),
            SlotSet("surveyed_issue", _issue_key(tracker)),
            FollowupAction("survey_form"),
        ]


def worded(survey: SurveySettings, question: str, tracker: Tracker) -> str:
    """A question as the survey file words it, addressed to this customer."""
    address = str(tracker.get_slot("customer_address") or NEUTRAL)
    return survey.wording(question, address, str(tracker.get_slot("customer_honorific") or NEUTRAL))


def previous_question(slot: str, survey: SurveySettings) -> str | None:
    """The question answered just before `slot` is asked, which "nhầm, 4 thôi" corrects."""
    asked = survey.scored()
    if slot == "survey_comment":
        return asked[-1]
    position = asked.index(QUESTIONS[slot])
    return asked[position - 1] if position else None


class AskQuestion(Action):
    """Asks one scored question with the survey file's wording and the domain's buttons (the
    response keeps its name, which vietcx/replies.py reads to understand a typed answer)."""

    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = worded(load(), QUESTIONS[self.slot], tracker)
        dispatcher.utter_message(response=f"utter_ask_{self.slot}", text=text)
        return []


class AskCsat(AskQuestion):
    slot = "csat_score"


class AskCes(AskQuestion):
    slot = "ces_score"


class AskNps(AskQuestion):
    slot = "nps_score"


def _issue_key(tracker: Tracker) -> str:
    """Identifies one resolution: the topic and the turn it was resolved in."""
    resolved_at = next(
        (
            e.get("timestamp")
            for e in reversed(tracker.events)
            if e.get("event") == "slot" and e.get("name") == "issue_resolved"
        ),
        None,
    )
    return f"{tracker.get_slot('resolved_topic')}@{resolved_at}"


class ValidateSurveyForm(FormValidationAction):
    """Reads each answer, re-asks an unreadable one once, then moves on; "bỏ qua" ends the survey."""

    def name(self) -> str:
        return "validate_survey_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("survey_skipped"):
            return []
        unanswered = tracker.get_slot("survey_unanswered") or []
        skipped = [] if load().nps_enabled else ["nps_score"]
        return [slot for slot in domain_slots if slot not in unanswered and slot not in skipped]

    async def validate_csat_score(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._score("csat_score", value, dispatcher, tracker) if value is not None else {}

    async def validate_ces_score(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._score("ces_score", value, dispatcher, tracker) if value is not None else {}

    async def validate_nps_score(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._score("nps_score", value, dispatcher, tracker) if value is not None else {}

    async def validate_survey_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {}  # a reset, not an answer
        text = str(value).strip()
        corrected = self._corrected("survey_comment", dispatcher, tracker)
        if corrected:
            return corrected
        if not text or parse_score("csat", text) == SKIP:
            return {"survey_comment": "-"}  # no comment: the question is answered all the same
        comment, asked = question_part(text)  # "à mà cho hỏi xuất hóa đơn VAT thì làm thế nào?"
        if asked:  # the question answered; what came before it ("nên tích điểm nhiều hơn, mà …") stored
            answered = confident_answer(dispatcher, asked, honorific=honorific_of(tracker))
            if answered:
                comment = comment if len(comment.split()) >= MIN_COMMENT_WORDS else ""
                if comment:
                    surveys.record(tracker.get_slot("survey_id"), comment=comment[:2000])
                return {"survey_comment": comment[:2000] or "-", "survey_interrupted": True, **answered}
        surveys.record(tracker.get_slot("survey_id"), comment=text[:2000])
        return {"survey_comment": text[:2000]}

    def _score(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        survey_id = tracker.get_slot("survey_id")
        corrected = self._corrected(slot, dispatcher, tracker)
        if corrected:
            return corrected
        if asks_about_scale(str(value or "")):  # "5 là cao nhất hả em?": explained, asked again
            dispatcher.utter_message(response=f"utter_survey_scale_{QUESTIONS[slot]}")
            return {slot: None}
        score = _button_score(tracker, QUESTIONS[slot])
        if score is None:  # typed, not clicked (a clicked 0 is an answer too)
            score = parse_score(QUESTIONS[slot], "" if value is None else str(value))
        if score == SKIP:
            surveys.record(survey_id, status=stopped_status(tracker, asking=slot))
            return {slot: None, "survey_skipped": True}
        if score is None:
            answered = confident_answer(dispatcher, str(value or ""), honorific=honorific_of(tracker))
            if answered:  # a question, not an answer: answer it and let the survey go
                surveys.record(survey_id, status=stopped_status(tracker, asking=slot))
                return {slot: None, "survey_skipped": True, "survey_interrupted": True, **answered}
            if not tracker.get_slot("survey_reasks"):
                dispatcher.utter_message(response="utter_survey_reask")
                return {slot: None, "survey_reasks": 1}
            unanswered = [*(tracker.get_slot("survey_unanswered") or []), slot]
            return {slot: None, "survey_reasks": None, "survey_unanswered": unanswered}
        surveys.record(survey_id, status="partial", **{QUESTIONS[slot]: int(score)})
        return {slot: float(score), "survey_reasks": None}

    def _corrected(
        self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any] | None:
        """An earlier score corrected ("à nhầm, 4 sao thôi"): stored, and `slot` asked again."""
        previous = previous_question(slot, load())
        fix = correction(tracker.latest_message.get("text") or "", QUESTIONS.get(slot), previous)
        if fix is None:
            return None
        question, score = fix
        surveys.record(tracker.get_slot("survey_id"), **{question: score})
        dispatcher.utter_message(response="utter_survey_corrected")
        return {slot: None, f"{question}_score": float(score)}


def stopped_status(tracker: Tracker, asking: str | None = None) -> str:
    """`partial` if a score was already given, else `skipped`. The slot being asked holds the raw
    text of the message that stopped the survey, not an answer, so it does not count."""
    answered = any(tracker.get_slot(s) is not None for s in QUESTIONS if s != asking)
    return "partial" if answered else "skipped"


def _button_score(tracker: Tracker, question: str) -> int | None:
    """The score of a clicked button (intent survey_answer with entity score), if on the question's
    scale: whatever the path, a score out of range is never stored."""
    if (tracker.latest_message.get("intent") or {}).get("name") != "survey_answer":
        return None
    found = next(tracker.get_latest_entity_values("score"), None)
    value = "" if found is None else str(found)  # 0 is a score (NPS)
    score = int(value) if value.isdigit() and len(value) < 3 else None
    return score if score is not None and LOWEST[question] <= score <= SCALES[question] else None


class ActionSurveyDone(Action):
    """Closes the survey: completed when every scored question was answered, and thanks the
    customer by name."""

    def name(self) -> str:
        return "action_survey_done"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        survey_id = tracker.get_slot("survey_id")
        if tracker.get_slot("survey_skipped"):
            if not tracker.get_slot("survey_interrupted"):
                dispatcher.utter_message(response="utter_survey_skipped")
            return cleared()
        asked = load().scored()
        complete = all(tracker.get_slot(s) is not None for s, q in QUESTIONS.items() if q in asked)
        if survey_id:
            mood = json.dumps(current_summary(tracker.sender_id, tracker.events), ensure_ascii=False)
            surveys.record(survey_id, status="completed" if complete else "partial", sentiment=mood)
        if not tracker.get_slot("survey_interrupted"):  # else a question was just answered
            dispatcher.utter_message(response="utter_survey_thanks")
        return cleared()


def cleared() -> list[EventType]:
    """Empties the survey's slots once it is over, ready for the next resolved issue."""
    return [SlotSet(slot, None) for slot in ("survey_id", *SURVEY_SLOTS)]


class ActionStopSurvey(Action):
    """The customer turned to something else mid-survey: keep what was answered, ask no more."""

    def name(self) -> str:
        return "action_stop_survey"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        survey_id = tracker.get_slot("survey_id")
        if survey_id:
            surveys.record(survey_id, status=stopped_status(tracker))
        return [*cleared(), SlotSet("requested_slot", None)]
