"""Training-time copies of every example typed without diacritics.

Many customers type "toi muon doi tra" for "tôi muốn đổi trả". The sparse features already ignore
diacritics (the tokenizer's lemmas are folded), but the sentence embeddings of such text are far
from those of the accented text. Training on both forms teaches the classifier to rely on the
features that survive. Removing marks keeps NFC text the same length, so entity offsets still hold.
"""

from __future__ import annotations

import copy
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_VALUE,
    INTENT,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from vietcx.normalize import strip_diacritics


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class DiacriticFreeCopies(GraphComponent):
    """Adds a diacritic-free copy of each accented intent example (training only)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """`enabled: false` trains on the data as written (to measure what the copies bring)."""
        return {"enabled": True}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DiacriticFreeCopies:
        """Creates the component (see parent class for full docstring)."""
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        """Keeps the config."""
        self._enabled = config["enabled"]

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Returns the training data with the copies added."""
        if not self._enabled:
            return training_data
        seen = {m.get(TEXT) for m in training_data.training_examples}
        copies: list[Message] = []
        for example in training_data.training_examples:
            text = example.get(TEXT)
            if not text or not example.get(INTENT):
                continue
            stripped = strip_diacritics(text)
            if stripped in seen:
                continue
            seen.add(stripped)
            entities = _strip_entities(example, stripped)
            copies.append(Message(data={**example.data, TEXT: stripped, ENTITIES: entities}))
        return TrainingData(
            training_examples=training_data.training_examples + copies,
            entity_synonyms=training_data.entity_synonyms,
            regex_features=training_data.regex_features,
            lookup_tables=training_data.lookup_tables,
            responses=training_data.responses,
        )

    def process(self, messages: list[Message]) -> list[Message]:
        """Nothing to do at inference time."""
        return messages


def _strip_entities(example: Message, stripped: str) -> list[dict[str, Any]]:
    """The example's entities over the stripped text; literal values follow the text."""
    entities = copy.deepcopy(example.get(ENTITIES) or [])
    text = example.get(TEXT)
    for entity in entities:
        span = slice(entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END])
        if entity.get(ENTITY_ATTRIBUTE_VALUE) == text[span]:
            entity[ENTITY_ATTRIBUTE_VALUE] = stripped[span]
    return entities
