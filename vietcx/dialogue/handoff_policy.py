"""A policy that keeps the assistant silent while staff own a conversation.

After a hand-over (slot `handoff`), customer messages are still received, stored and scored for
sentiment, but the assistant must not answer them: staff do, from the console. The policy predicts
`action_listen` with full confidence and the highest priority for every message, except the
intent with which staff hand the conversation back.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class HandoffPolicy(Policy):
    """Predicts silence (`action_listen`) while the conversation is handed to staff."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Above every other policy: nothing may answer for staff."""
        return {"priority": 8, "slot": "handoff", "handback_intent": "EXTERNAL_staff_resolved"}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        """Keeps the slot and intent names."""
        config = {**self.get_default_config(), **config}
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self._slot, self._handback = str(config["slot"]), str(config["handback_intent"])

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        """Nothing to learn."""
        return self._resource

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
