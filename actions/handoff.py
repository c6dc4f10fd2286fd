"""Handing a conversation to staff, and taking it back when staff resolve it.

Three paths lead here: the customer asks for a person, the FAQ search fails twice in a row, or
two strongly negative messages. Each opens (or reuses) the conversation's escalation, tells the
customer honestly when someone will answer, and sets `handoff`: until a staff member takes the
escalation the assistant still answers what it is sure of (actions/waiting.py), then it stays
silent (vietcx.dialogue.handoff_policy) until staff resolve the escalation in the console.
"""

from __future__ import annotations

from datetime import datetime, timezone

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.customer import customer_key
from vietcx.conversation_sentiment import current_summary
from vietcx.staff_hours import StaffHours
from vietcx.store import escalations

CUSTOMER_REQUEST, FAQ_FALLBACK, NEGATIVE_SENTIMENT = escalations.REASONS


def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list[EventType]:
    """Opens the escalation, tells the customer what happens next; returns the slots to set."""
    channel, customer_id = customer_key(tracker)
    name = tracker.get_slot("customer_name") or None
    summary = current_summary(tracker.sender_id, tracker.events)
    escalation, _ = escalations.open_escalation(
        tracker.sender_id, channel, customer_id, name, reason, summary
    )
    hours, now = StaffHours.from_env(), datetime.now(timezone.utc)
    if hours.is_open(now):
        minutes = escalations.estimated_wait_minutes(escalation["id"])
        dispatcher.utter_message(response="utter_handoff", minutes=minutes)
    else:
        opening = hours.next_opening(now)
        today = opening.date() == now.astimezone(hours.zone).date()
        when = f"{opening.hour}:{opening.minute:02d} {'sáng nay' if today else 'sáng mai'}"
        dispatcher.utter_message(response="utter_handoff_after_hours", hours=hours.label(), opening=when)
    return [SlotSet("handoff", True), SlotSet("faq_fallbacks", 0), SlotSet("waiting_state", None)]


class ActionHandoff(Action):
    """The customer asked for a person: angrily, an apology comes first."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        sentiment = tracker.latest_message.get("sentiment") or {}
        if sentiment.get("label") == "negative":  # "hàng dỏm …, tôi muốn gặp quản lý ngay"
            dispatcher.utter_message(response="utter_handoff_apology")
        return hand_over(dispatcher, tracker, CUSTOMER_REQUEST)


class ActionStaffResolved(Action):
    """Staff resolved the escalation in the console: the bot answers again and the survey follows
    (the console triggers the intent `EXTERNAL_staff_resolved`, then closes the escalation)."""

    def name(self) -> str:
        return "action_staff_resolved"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        escalation = escalations.current(tracker.sender_id)
        reason = escalation["reason"] if escalation else CUSTOMER_REQUEST
        dispatcher.utter_message(response="utter_handback")
        return [
            SlotSet("handoff", False),
            SlotSet("waiting_state", None),
            SlotSet("callback_phone", None),
            SlotSet("issue_resolved", True),
            SlotSet("resolved_topic", f"escalation:{reason}"),
            SlotSet("resolved_by", "staff"),
        ]
