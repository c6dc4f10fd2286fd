"""Dense features from the sentence-embedding model (multilingual-e5-small, vietcx/embeddings.py).

Sentence features are the model's own normalised mean-pooled embedding; sequence features are the
model's contextual sub-word vectors averaged over each Rasa token, so DIET sees one vector per
token. The text embedded is the tokens' expanded form ("sp" → "sản phẩm"), which the model knows.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from vietcx.embeddings import DEFAULT_MODEL_DIR, QUERY_PREFIX, load_model
from vietcx.nlu.tokenizer import NORM

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Featurizes messages with the sentence-embedding model of a folder."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Needs tokens to align sub-word vectors with."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns the default config (see parent class for full docstring)."""
        return {
            **DenseFeaturizer.get_default_config(),
            # a folder built by vietcx/embedding_build.py
            "model": str(DEFAULT_MODEL_DIR),
            "batch_size": 32,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """The model runs on ONNX Runtime (CPU) with a `tokenizers` tokenizer."""
        return ["onnxruntime", "tokenizers"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """A model must be named."""
        if not config.get("model"):
            raise ValueError("SentenceEmbeddingFeaturizer needs a 'model' (a model folder).")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        """Creates the featurizer (see parent class for full docstring)."""
        return cls(config, execution_context.node_name)

    def __init__(self, config: dict[str, Any], name: str) -> None:
        """Loads the model (shared with every other user in the process)."""
        super().__init__(name, config)
        self._model = load_model(str(config["model"]))
        self._batch_size = int(config["batch_size"])

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes the text of all training examples, in batches."""
        examples = [m for m in training_data.training_examples if m.get(TEXT)]
        for start in range(0, len(examples), self._batch_size):
            self._featurize(examples[start : start + self._batch_size])
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurizes incoming messages."""
        self._featurize([m for m in messages if isinstance(m.get(TEXT), str)])
        return messages

    def _featurize(self, messages: list[Message]) -> None:
        if not messages:
            return
        token_lists = [m.get(TOKENS_NAMES[TEXT]) or [] for m in messages]
        sequences, sentences = self.embed_tokens(token_lists)
        for message, sequence, sentence in zip(messages, sequences, sentences, strict=True):
            self.add_features_to_message(sequence, sentence, TEXT, message)

    def embed_tokens(self, token_lists: list[list[Token]]) -> tuple[list[np.ndarray], np.ndarray]:
        """Per message: a [tokens × dim] matrix and a [1 × dim] sentence vector."""
        texts, spans = zip(*(_text_and_spans(tokens) for tokens in token_lists), strict=True)
        encoded = self._model.encode(list(texts))
        sequences = [
            _pool(encoded.hidden[i][encoded.mask[i]], encoded.offsets[i][encoded.mask[i]], spans[i])
            for i in range(len(token_lists))
        ]
        return sequences, encoded.sentences[:, None, :]


def token_text(tokens: list[Token]) -> str:
    """The text the model embeds for a message: its tokens' expanded forms ("sp" → "sản phẩm"),
    without punctuation. Other components that embed text use it to see what DIET sees."""
    return " ".join(_norm(token) for token in tokens)


def _norm(token: Token) -> str:
    return token.get(NORM) or token.text


def _text_and_spans(tokens: list[Token]) -> tuple[str, list[tuple[int, int]]]:
    """The text to embed (prefix + token text) and each token's span in it."""
    spans, position = [], len(QUERY_PREFIX)
    for token in tokens:
        norm = _norm(token)
        spans.append((position, position + len(norm)))
        position += len(norm) + 1
    return (QUERY_PREFIX + token_text(tokens)).rstrip(), spans


def _pool(vectors: np.ndarray, offsets: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """Mean of the sub-word vectors overlapping each token span (zeros if truncated away)."""
    pooled = np.zeros((len(spans), vectors.shape[-1]), dtype=np.float32)
    starts, ends = offsets[:, 0], offsets[:, 1]
    for index, (start, end) in enumerate(spans):
        inside = (starts < end) & (ends > start) & (ends > starts)
        if inside.any():
            pooled[index] = vectors[inside].mean(axis=0)
    return pooled
