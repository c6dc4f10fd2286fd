"""A policy that keeps the assistant silent while staff own a conversation.

After a hand-over (slot `handoff`), customer messages are still received, stored and scored for
sentiment, but the assistant must not answer them: staff do, from the console. The policy predicts
`action_listen` with full confidence and the highest priority for every message, except the
intent with which staff hand the conversation back.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from vietcx.dialogue.tracker_policy import TrackerPolicy
from vietcx.store import escalations


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class HandoffPolicy(TrackerPolicy):
    """Predicts silence (`action_listen`) while the conversation is handed to staff."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Above every other policy: nothing may answer for staff."""
        return {"priority": 8, "slot": "handoff", "handback_intent": escalations.HAND_BACK_INTENT}

    def configure(self, config: dict[str, Any]) -> None:
        """Keeps the settings."""
        self._slot, self._handback = str(config["slot"]), str(config["handback_intent"])

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Silence after each customer message while handed over; no opinion otherwise."""
        probabilities = self._default_predictions(domain)
        handed_over = bool(tracker.get_slot(self._slot))
        if (
            handed_over
            and tracker.latest_action_name == ACTION_LISTEN_NAME
            and tracker.latest_message.intent.get("name") != self._handback
        ):
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(probabilities)
