"""A policy that decides who answers a conversation handed to staff.

After a hand-over (slot `handoff`), customer messages are still received, stored and scored for
sentiment. Once a staff member has taken the escalation, the assistant must not answer: staff do,
from the console, so the policy predicts `action_listen`. Until then nobody should wait in silence:
each message goes to `action_while_waiting` (answers what the FAQ is sure of, offers a call back
after a while), unless the customer chose to go on with the assistant (`waiting_state`
"assistant"), or a form (the call-back number) is running: then the other policies answer. The
intent with which staff hand the conversation back is always left to the rules.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import SQLAlchemyError

from vietcx.dialogue.tracker_policy import TrackerPolicy
from vietcx.store import escalations

logger = logging.getLogger(__name__)
WHILE_WAITING = "action_while_waiting"
# the customer chose to go on with the assistant while the escalation waits
WITH_ASSISTANT = "assistant"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class HandoffPolicy(TrackerPolicy):
    """Silence once staff took the conversation; the waiting action until then."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Above every other policy: nothing may answer for staff."""
        return {
            "priority": 8,
            "slot": "handoff",
            "waiting_slot": "waiting_state",
            "handback_intent": escalations.HAND_BACK_INTENT,
        }

    def configure(self, config: dict[str, Any]) -> None:
        """Keeps the settings."""
        self._slot, self._handback = str(config["slot"]), str(config["handback_intent"])
        self._waiting = str(config["waiting_slot"])

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """The action while handed over (see the module's docstring); no opinion otherwise."""
        probabilities = self._default_predictions(domain)
        chosen = self._choose(tracker) if tracker.get_slot(self._slot) else None
        if chosen:
            probabilities[domain.index_for_action(chosen)] = 1.0
        return self._prediction(probabilities)

    def _choose(self, tracker: DialogueStateTracker) -> str | None:
        if tracker.latest_action_name == WHILE_WAITING:
            return ACTION_LISTEN_NAME
        if tracker.latest_action_name != ACTION_LISTEN_NAME:
            return None
        if tracker.latest_message.intent.get("name") == self._handback:
            return None
        if taken_by_staff(tracker.sender_id):
            return ACTION_LISTEN_NAME
        if tracker.active_loop_name or tracker.get_slot(self._waiting) == WITH_ASSISTANT:
            return None
        return WHILE_WAITING


def taken_by_staff(sender_id: str) -> bool:
    """Whether staff own the conversation now: a staff member took its escalation, or there is no
    unresolved one to wait for (resolved, and the hand-back is on its way): silence either way."""
    try:
        escalation = escalations.current(sender_id)
    except SQLAlchemyError:  # the database is unreachable: as before, staff answer
        logger.exception("Could not read the escalation of %s", sender_id)
        return True
    return escalation is None or escalation["status"] == "assigned"
