"""While an escalation waits for a staff member to take it, the customer is not left in silence.

vietcx.dialogue.handoff_policy sends each customer message here until staff take the escalation.
What the FAQ is sure of is answered (with the note that staff will still follow up); otherwise a
short holding line, once. After VIETCX_CALLBACK_AFTER_MINUTES of staff hours with nobody taking
it, the customer is offered a call back (the number goes on the escalation) or to go on with the
assistant, which then answers as usual until staff take the conversation. A customer who writes
nothing more gets the offer from the action server's sweep (vietcx/callbacks.py).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import SURE, confident_answer, honorific_of
from vietcx import phones
from vietcx.callbacks import waited_too_long
from vietcx.normalize import fold
from vietcx.store import escalations

# the values of the slot `waiting_state`: the holding line was said; the call back was offered;
# the customer wants it (the number is asked or given); declined it; goes on with the assistant
HELD, OFFERED, CALLBACK, DECLINED = "held", "offered", "callback", "declined"
WITH_ASSISTANT = "assistant"  # vietcx.dialogue.handoff_policy lets the other policies answer then
# what the offer's buttons send, and what customers type instead (folded, without diacritics)
CALLBACK_WORDS = re.compile(r"\b(?:goi lai|goi cho|goi dien|call ?back)\b")
ASSISTANT_WORDS = re.compile(r"\b(?:tiep tuc|tro ly|chat ?bot|bot)\b")
# messages that ask nothing of the knowledge base: "cho gặp nhân viên" again is not a question about
# how to reach staff (the FAQ knows that one), and pleasantries need no answer from it
NOT_QUESTIONS = {"request_human", "greet", "goodbye", "thank", "affirm", "deny", "inform_name"}
CANCEL_WORDS = re.compile(r"\b(?:thoi|khong can|bo qua|huy)\b")


def choice(text: str) -> str | None:
    """CALLBACK or WITH_ASSISTANT for an answer to the offer (a button or typed), else None."""
    folded = fold(text)
    if CALLBACK_WORDS.search(folded):
        return CALLBACK
    if ASSISTANT_WORDS.search(folded):
        return WITH_ASSISTANT
    return None


class ActionWhileWaiting(Action):
    """Answers a customer whose escalation nobody has taken yet (see the module's docstring)."""

    def name(self) -> str:
        return "action_while_waiting"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        state = tracker.get_slot("waiting_state")
        text = tracker.latest_message.get("text") or ""
        escalation = escalations.current(tracker.sender_id)
        if state in (None, HELD) and escalation and escalation["callback_offered_at"]:
            state = OFFERED  # offered by the sweep, through the outbox
        if state == OFFERED:
            chosen = choice(text)
            if chosen == CALLBACK:
                return [SlotSet("waiting_state", CALLBACK), FollowupAction("callback_form")]
            if chosen == WITH_ASSISTANT:
                dispatcher.utter_message(response="utter_continue_with_assistant")
                return [SlotSet("waiting_state", WITH_ASSISTANT)]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answered = None
        if intent not in NOT_QUESTIONS:
            answered = confident_answer(
                dispatcher, text, SURE, honorific=honorific_of(tracker), follow="utter_waiting_followup"
            )
        if (
            state in (None, HELD)
            and escalation
            and waited_too_long(escalation)
            and escalations.mark_callback_offered(escalation["id"])
        ):
            dispatcher.utter_message(response="utter_callback_offer")
            return [SlotSet("waiting_state", OFFERED)]
        if answered is None and state is None:
            dispatcher.utter_message(response="utter_waiting_hold")
            return [SlotSet("waiting_state", HELD)]
        return []


class ValidateCallbackForm(FormValidationAction):
    """Reads the number to call back; a wrong one is asked again politely, "thôi" gives it up."""

    def name(self) -> str:
        return "validate_callback_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return domain_slots if tracker.get_slot("waiting_state") == CALLBACK else []

    async def validate_callback_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {}
        number = phones.normalize(str(value))
        if number:
            return {"callback_phone": number}
        if CANCEL_WORDS.search(fold(str(value))):
            return {"callback_phone": None, "waiting_state": DECLINED}
        dispatcher.utter_message(response="utter_callback_phone_invalid")
        return {"callback_phone": None}


class ActionCallbackNoted(Action):
    """Stores the number on the escalation and tells the customer, or confirms they will be
    answered in the chat if they gave the call back up."""

    def name(self) -> str:
        return "action_callback_noted"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = tracker.get_slot("callback_phone")
        escalation = escalations.current(tracker.sender_id)
        if not number or not escalation:
            dispatcher.utter_message(response="utter_callback_cancelled")
            return [SlotSet("callback_phone", None), SlotSet("waiting_state", DECLINED)]
        escalations.request_callback(escalation["id"], number)
        dispatcher.utter_message(response="utter_callback_noted", phone=phones.display(number))
        return []
