"""Sentiment of every customer message: negative / neutral / positive, with a confidence.

underthesea's sentiment model downloads its weights at run time, which cannot work here, so the
product trains its own with `rasa train`: a logistic regression over the multilingual-e5-small
sentence embedding and word and character n-grams of the folded text (vietcx/text_features.py,
robust to missing diacritics), from the labelled files `data/sentiment/*.tsv` (each text also as
typed without diacritics): short chat messages (`train.tsv`) and long, mixed customer reviews
(`reviews_train.tsv`). A mixed message that reports a real problem ("hàng đẹp nhưng giao chậm
quá") is labelled negative, since the CX team must see it; one whose downside is trivial ("máy
ngon, chỉ tiếc hộp hơi móp") positive. Fine-tuning the encoder's top layers instead was measured
and lost on both held-out sets (bench/sentiment_finetune.py).
The result is stored with the message (`parse_data["sentiment"]`), hence in the tracker.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression

from vietcx.embeddings import DEFAULT_MODEL_DIR, embed, load_model
from vietcx.nlu.embedding_featurizer import token_text
from vietcx.nlu.tokenizer import VietnameseTokenizer
from vietcx.normalize import fold
from vietcx.settings import PROJECT
from vietcx.text_features import TextFeatures

SENTIMENT = "sentiment"
LABELS = ("negative", "neutral", "positive")
MAX_CHARS = 2000  # the feeling of a message shows early; longer texts are cut for speed


def read_labelled(path: Path) -> list[tuple[str, str]]:
    """(label, text) rows of a `label<TAB>text` file."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = [
            (r["label"].strip(), r["text"].strip())
            for r in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]
    unknown = {label for label, _ in rows} - set(LABELS)
    if unknown:
        raise ValueError(f"{path}: unknown labels {sorted(unknown)}; use {', '.join(LABELS)}")
    return [(label, text) for label, text in rows if text]


class SentimentModel:
    """The features and classifier, usable outside Rasa (benchmarks, tests).

    The embedding half of the features is the sentence vector the pipeline's
    SentenceEmbeddingFeaturizer already computed for the message (same model, same text: the
    tokens' expanded forms), so classifying costs no second pass of the model; texts without one
    (training rows, use outside Rasa) are tokenized and embedded the same way here.
    """

    def __init__(self, model_name: str, c: float = 4.0, shorthand_file: str | None = None) -> None:
        self._embedder = load_model(model_name)
        self._tokenizer = _tokenizer(shorthand_file)
        self._shorthand_file = shorthand_file
        self._text_features = TextFeatures()
        self._classifier = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")

    def sentence_vectors(self, texts: list[str]) -> np.ndarray:
        """[len(texts) × dim] embeddings of the texts as the featurizer embeds a message."""
        tokens = [self._tokenizer.tokenize(Message(data={TEXT: t[:MAX_CHARS]}), TEXT) for t in texts]
        return embed(self._embedder, [token_text(t) for t in tokens])

    def _features(self, texts: list[str], vectors: np.ndarray | None, fit: bool = False) -> sparse.csr_matrix:
        texts = [t[:MAX_CHARS] for t in texts]
        if fit:
            self._text_features.fit(texts)
        if vectors is None:
            vectors = self.sentence_vectors(texts)
        return self._text_features.transform(texts, vectors)

    def fit(self, rows: list[tuple[str, str]]) -> SentimentModel:
        texts = [text for _, text in rows]
        labels = [label for label, _ in rows]
        texts, labels = texts + [fold(t) for t in texts], labels + labels
        self._classifier.fit(self._features(texts, None, fit=True), labels)
        return self

    def predict(
        self, texts: list[str], vectors: list[np.ndarray | None] | None = None
    ) -> list[dict[str, Any]]:
        """Per text: label, confidence and the probability of every label. `vectors` are the
        texts' sentence embeddings where already known (None: computed here)."""
        vectors = vectors or [None] * len(texts)
        present = [i for i, t in enumerate(texts) if t and t.strip()]
        missing = [i for i in present if vectors[i] is None]
        computed = self.sentence_vectors([texts[i] for i in missing]) if missing else []
        known = dict(zip(missing, computed, strict=True))
        known.update({i: vectors[i] for i in present if vectors[i] is not None})
        probabilities = (
            self._classifier.predict_proba(
                self._features([texts[i] for i in present], np.vstack([known[i] for i in present]))
            )
            if present
            else []
        )
        by_index = dict(zip(present, probabilities, strict=True))
        results = []
        for index in range(len(texts)):
            if index not in by_index:
                results.append({"label": "neutral", "confidence": 1.0, "scores": {"neutral": 1.0}})
                continue
            scores = {
                str(c): round(float(p), 4)
                for c, p in zip(self._classifier.classes_, by_index[index], strict=True)
            }
            best = max(scores, key=scores.get)
            results.append({"label": best, "confidence": scores[best], "scores": scores})
        return results

    @property
    def dimension(self) -> int:
        """Length of the sentence embedding the classifier was trained on."""
        return int(self._classifier.n_features_in_ - self._text_features.sparse_width)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_embedder", "_tokenizer")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._tokenizer = _tokenizer(state.get("_shorthand_file"))

    def attach(self, model_name: str) -> SentimentModel:
        """Reattaches the (shared, unpickled) embedding model after loading."""
        self._embedder = load_model(model_name)
        return self


def training_files(pattern: str) -> list[Path]:
    """The labelled files (`label<TAB>text`) the classifier learns from: every file the pattern
    (relative to the project) matches, so staff can add one."""
    return sorted(PROJECT.glob(pattern))


def _tokenizer(shorthand_file: str | None) -> VietnameseTokenizer:
    config = VietnameseTokenizer.get_default_config()
    return VietnameseTokenizer({**config, "shorthand_file": shorthand_file or config["shorthand_file"]})


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SentimentClassifier(GraphComponent):
    """Labels every message's sentiment (see module docstring)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The labelled file (relative to the project) and the embedding model."""
        return {"training_files": "data/sentiment/*.tsv", "model": str(DEFAULT_MODEL_DIR), "C": 8.0}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain when a labelled file changes (Rasa does not see them otherwise)."""
        settings = {**cls.get_default_config(), **config}  # Rasa passes only what config.yml sets
        digest = hashlib.sha256()
        for path in training_files(settings["training_files"]):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def __init__(
        self,
        config: dict[str, Any],
        storage: ModelStorage,
        resource: Resource,
        model: SentimentModel | None = None,
    ) -> None:
        self._config, self._storage, self._resource, self._model = config, storage, resource, model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentimentClassifier:
        """An untrained classifier."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Trains on the labelled file (not on the intent examples) and stores the model."""
        rows = [row for path in training_files(self._config["training_files"]) for row in read_labelled(path)]
        self._model = SentimentModel(str(self._config["model"]), float(self._config["C"])).fit(rows)
        with self._storage.write_to(self._resource) as folder:
            joblib.dump(self._model, Path(folder) / "sentiment.joblib")
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentimentClassifier:
        """Loads the stored classifier and reattaches the shared embedding model."""
        with model_storage.read_from(resource) as folder:
            model: SentimentModel = joblib.load(Path(folder) / "sentiment.joblib")
        return cls(config, model_storage, resource, model.attach(str(config["model"])))

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds `sentiment` to every message's parse data."""
        if self._model is None:
            return messages
        texts = [m.get(TEXT) if isinstance(m.get(TEXT), str) else "" for m in messages]
        vectors = [self._sentence_vector(m) for m in messages]
        for message, result in zip(messages, self._model.predict(texts, vectors), strict=True):
            if isinstance(message.get(TEXT), str):
                message.set(SENTIMENT, result, add_to_output=True)
        return messages

    def _sentence_vector(self, message: Message) -> np.ndarray | None:
        """The sentence embedding the featurizer put on the message, if it is the one trained on."""
        _, sentence = message.get_dense_features(TEXT)
        if sentence is None or sentence.features.shape[-1] != self._model.dimension:
            return None
        return np.asarray(sentence.features, dtype=np.float32).reshape(-1)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to add to the intent examples."""
        return training_data
