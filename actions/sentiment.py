"""Reacting to an angry customer: empathy, a staff member at once, and a flag for staff review."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.customer import customer_key
from actions.handoff import NEGATIVE_SENTIMENT, hand_over
from vietcx.store import sentiment


class ActionSentimentHandoff(Action):
    """Two strongly negative messages in a row (see vietcx.dialogue.sentiment_policy)."""

    def name(self) -> str:
        return "action_sentiment_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        channel, customer_id = customer_key(tracker)
        sentiment.flag(tracker.sender_id, channel, customer_id, NEGATIVE_SENTIMENT)
        dispatcher.utter_message(response="utter_sentiment_empathy")
        return hand_over(dispatcher, tracker, NEGATIVE_SENTIMENT)
