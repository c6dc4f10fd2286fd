"""A policy that reacts to an angry customer: two strongly negative messages in a row.

Rules cannot see the sentiment of messages; a policy sees the whole tracker. When the last two
customer messages are both negative with at least `threshold` confidence, and the assistant has
not already reacted to them, it predicts `action` (an empathetic reply, a hand-over to staff and a
review flag) with full confidence and a priority above the rules. A message read as the answer
to the assistant's question ("chưa" to "đã giải quyết chưa ạ?", vietcx/replies.py) is an answer,
not anger, whatever its sentiment.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from vietcx.dialogue.tracker_policy import TrackerPolicy
from vietcx.replies import answered_question


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class NegativeSentimentPolicy(TrackerPolicy):
    """Predicts the empathy action after consecutive strongly negative messages."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Above RulePolicy (6) so that it wins a tie."""
        return {"priority": 7, "threshold": 0.7, "in_a_row": 2, "action": "action_sentiment_handoff"}

    def configure(self, config: dict[str, Any]) -> None:
        """Keeps the settings."""
        self._threshold = float(config["threshold"])
        self._in_a_row = int(config["in_a_row"])
        self._action = str(config["action"])

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Full confidence in the empathy action right after the second angry message, else nothing."""
        probabilities = self._default_predictions(domain)
        if tracker.latest_action_name == ACTION_LISTEN_NAME and self._angry(tracker):
            probabilities[domain.index_for_action(self._action)] = 1.0
        elif tracker.latest_action_name == self._action:
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0  # then wait for the customer
        return self._prediction(probabilities)

    def _angry(self, tracker: DialogueStateTracker) -> bool:
        recent: list[UserUttered] = []
        for event in reversed(tracker.applied_events()):
            if isinstance(event, ActionExecuted) and event.action_name == self._action:
                return False  # already reacted to (some of) these messages
            if isinstance(event, UserUttered):
                recent.append(event)
                if len(recent) == self._in_a_row:
                    break
        if len(recent) < self._in_a_row:
            return False
        return all(
            self._strongly_negative(event.parse_data.get("sentiment") or {})
            and not answered_question(event.parse_data)
            for event in recent
        )

    def _strongly_negative(self, sentiment: dict[str, Any]) -> bool:
        return (
            sentiment.get("label") == "negative" and float(sentiment.get("confidence", 0)) >= self._threshold
        )
