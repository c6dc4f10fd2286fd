"""Who the customer is: session start, greeting by name, asking for and correcting the name."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecuted, EventType, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import SURE, confident_answer
from vietcx.kb.scope import mentions_other_shop
from vietcx.names import NEUTRAL, Name, name_from_profile, name_in_passing, parse_name_answer, stated_name
from vietcx.replies import corrected_name, is_question
from vietcx.store import profiles

# a reply to the name question longer than this says something more, which may be a question
MAX_ANSWER_WORDS = 5
NAME_SLOTS = ("customer_name", "customer_address", "customer_honorific")
# Channels whose customer name comes from the shop's own backend (the web page's signed identity,
# the REST API's token holder): a real name by definition. Other channels (Zalo, Messenger) pass
# the platform's display name, used only when it reads as a person's name.
VOUCHED_CHANNELS = frozenset({"web", "rest"})


def customer_key(tracker: Tracker) -> tuple[str, str]:
    """(channel, channel user id) of the conversation, as set at session start."""
    channel = tracker.get_slot("customer_channel") or tracker.get_latest_input_channel() or "rest"
    return channel, tracker.get_slot("customer_id") or tracker.sender_id


def name_slots(name: Name | None) -> list[EventType]:
    """The slots that responses use to address the customer ("chị Ngọc" / "chị")."""
    if name is None:
        return [
            SlotSet("customer_name", None),
            SlotSet("customer_address", NEUTRAL),
            SlotSet("customer_honorific", NEUTRAL),
        ]
    return [
        SlotSet("customer_name", name.full),
        SlotSet("customer_address", name.address),
        SlotSet("customer_honorific", name.honorific),
    ]


def given_name_in_passing(tracker: Tracker) -> tuple[list[EventType], str]:
    """A name the customer gives along with a question while none is known yet ("Dũng đây, cho
    anh hỏi …"): saved, with the slots that address them (the honorific last), and the message
    without it, which is what to answer."""
    text = tracker.latest_message.get("text") or ""
    if tracker.get_slot("customer_name"):
        return [], text
    name, rest = name_in_passing(text)
    if name is None or not rest:
        return [], text
    channel, user_id = customer_key(tracker)
    profiles.save_name(channel, user_id, name, source="customer")
    return name_slots(name), rest


class ActionSessionStart(Action):
    """Starts a session knowing the customer: channel profile name first, then the stored one."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        metadata = tracker.get_slot("session_started_metadata") or {}
        customer = metadata.get("customer") if isinstance(metadata.get("customer"), dict) else {}
        channel = str(metadata.get("channel") or tracker.get_latest_input_channel() or "rest")
        user_id = str(customer.get("id") or tracker.sender_id)
        display_name = str(customer.get("name") or "").strip() or None

        profile, seen = profiles.start_conversation(channel, user_id, display_name)
        name = profile.name if profile.name_source == "customer" else None
        if name is None and display_name:
            name = name_from_profile(display_name, vouched=channel in VOUCHED_CHANNELS)
            if name:
                profiles.save_name(channel, user_id, name, source="channel")
        name = name or profile.name

        events: list[EventType] = [SessionStarted()]
        events += [SlotSet(key, value) for key, value in _carried_slots(tracker, domain).items()]
        events += [
            SlotSet("customer_channel", channel),
            SlotSet("customer_id", user_id),
            SlotSet("returning_customer", seen),
            SlotSet("name_declined", profile.name_declined),
            SlotSet("name_requested", None),
            SlotSet("name_answered", None),
            *name_slots(name),
            ActionExecuted("action_listen"),
        ]
        return events


def _carried_slots(tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
    """Slots carried over from the previous session, as Rasa's own session start does."""
    if not domain.get("session_config", {}).get("carry_over_slots_to_new_session", True):
        return {}
    return {key: value for key, value in tracker.current_slot_values().items() if value is not None}


class ActionGreet(Action):
    """Greets by name (welcoming back a returning customer), or asks for the name once. A greeting
    that also asks something ("chào shop, cho hỏi phí ship bao nhiêu") is greeted briefly and
    answered; the name can wait."""

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        events: list[EventType] = []
        named = bool(tracker.get_slot("customer_name"))
        address = str(tracker.get_slot("customer_address") or NEUTRAL)
        honorific = str(tracker.get_slot("customer_honorific") or NEUTRAL)
        stated = None if named else stated_name(text)  # "chào shop, mình là Tâm"
        if stated:
            channel, user_id = customer_key(tracker)
            profiles.save_name(channel, user_id, stated, source="customer")
            events, named = name_slots(stated), True
            address, honorific = stated.address, stated.honorific
        if is_question(text):
            # "Dũng đây, cho anh hỏi …": the customer introduced themselves to ask; the question
            # is the point and is answered as any question. A bare greeting must be surer.
            question = name_in_passing(text)[1] if stated else text
            answered = confident_answer(
                dispatcher,
                question,
                0.0 if stated else SURE,
                lead="utter_greet_short",
                honorific=honorific,
                fill={"customer_address": address},
            )
            if answered:
                return [*events, *(SlotSet(key, value) for key, value in answered.items())]
        if named:
            returning = tracker.get_slot("returning_customer") and not stated
            response = "utter_welcome_back" if returning else "utter_greet_named"
            slots = {"customer_address": address, "customer_honorific": honorific}
            dispatcher.utter_message(response=response, **slots)
            return events
        dispatcher.utter_message(response="utter_greet")
        if tracker.get_slot("name_declined") or tracker.get_slot("name_requested"):
            return []
        return [SlotSet("name_requested", True), FollowupAction("name_form")]


class ValidateNameForm(FormValidationAction):
    """Reads the answer to "may I have your name?"; asks once, accepts a refusal."""

    def name(self) -> str:
        return "validate_name_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("name_answered"):
            return []  # one answer, whatever it was: never ask twice
        return domain_slots

    async def validate_customer_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = parse_name_answer(str(value or ""))
        channel, user_id = customer_key(tracker)
        slots: dict[str, Any] = {"name_answered": True, "customer_name": None}
        if answer.name:
            profiles.save_name(channel, user_id, answer.name, source="customer")
            slots.update({event["name"]: event["value"] for event in name_slots(answer.name)})
        elif answer.declined or (tracker.latest_message.get("intent") or {}).get("name") == "deny":
            profiles.decline_name(channel, user_id)
            slots["name_declined"] = True
        return slots


class ActionConfirmName(Action):
    """After the name question: greet by the new name, or carry on politely without one; a question
    asked in the same message ("thôi khỏi, cho hỏi shop có lắp máy lạnh không") is answered."""

    def name(self) -> str:
        return "action_confirm_name"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        named = bool(tracker.get_slot("customer_name"))
        text = tracker.latest_message.get("text") or ""
        if is_question(text) and mentions_other_shop(text):
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        if is_question(text) or len(text.split()) > MAX_ANSWER_WORDS:  # "…, cho mình xin số tổng đài"
            lead = "utter_name_noted" if named else "utter_name_declined_short"
            honorific = str(tracker.get_slot("customer_honorific") or NEUTRAL)
            question = name_in_passing(text)[1]  # "Dũng đây, cho anh hỏi …": what is asked
            sure = 0.0 if is_question(question) else SURE  # a question gets the search's own say
            answered = confident_answer(dispatcher, question, sure, lead=lead, honorific=honorific)
            if answered:
                return [SlotSet(key, value) for key, value in answered.items()]
        if named:
            dispatcher.utter_message(response="utter_greet_named")
        elif tracker.get_slot("name_declined"):
            dispatcher.utter_message(response="utter_name_declined")
        else:
            dispatcher.utter_message(response="utter_how_can_i_help")
        return []


class ActionSetName(Action):
    """The customer states or corrects their name mid-conversation ("không phải, tên mình là Lan")."""

    def name(self) -> str:
        return "action_set_name"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        name = parse_name_answer(text).name or corrected_name(text)  # "…, anh là chồng Ngọc, tên Tuấn"
        if not name:
            dispatcher.utter_message(response="utter_name_unclear")
            return []
        channel, user_id = customer_key(tracker)
        profiles.save_name(channel, user_id, name, source="customer")
        corrected = bool(tracker.get_slot("customer_name"))
        events = [*name_slots(name), SlotSet("name_declined", False)]
        response = "utter_name_corrected" if corrected else "utter_name_noted"
        dispatcher.utter_message(
            response=response, customer_address=name.address, customer_honorific=name.honorific
        )
        return events
