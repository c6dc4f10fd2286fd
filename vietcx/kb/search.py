"""Finding the FAQ topic a customer asks about, and deciding whether to answer, ask, or admit it.

Two signals, per topic the best over its title and example questions:
  - semantic: cosine of multilingual-e5-small embeddings. Examples are indexed as written and
    without diacritics, since e5 compares unaccented text well only with unaccented text;
  - lexical: cosine of character 2–4-gram TF-IDF vectors over folded text (no diacritics, lower
    case, shorthand expanded), which is what survives "ship mat bao lau" or "bh ntn".
The score is a weighted sum; the thresholds that turn it into a decision were tuned on the
knowledge base's own examples (leave-one-out, `bench/faq_eval.py --tune`), never on the held-out set.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from vietcx.embeddings import DEFAULT_MODEL_DIR, embed, load_model
from vietcx.kb.loader import DEFAULT_KB, KnowledgeBaseError, Topic, load
from vietcx.normalize import expand_text, fold
from vietcx.settings import PROJECT

logger = logging.getLogger(__name__)
CACHE_DIR = PROJECT / "var" / "cache"


@dataclass(frozen=True)
class Weights:
    """How the two signals combine and where the decisions fall (see module docstring)."""

    semantic: float = 0.5
    answer: float = 0.62  # best topic at least this: answer it...
    margin: float = 0.04  # ...if it leads the next topic by this much; else offer the close ones
    suggest: float = 0.5  # below this, no topic is close enough: say so and offer a person


@dataclass(frozen=True)
class Match:
    """A topic and how well the query matches it."""

    topic: Topic
    score: float
    semantic: float
    lexical: float


@dataclass(frozen=True)
class Decision:
    """`answer` (one topic), `choose` (close topics to offer as buttons) or `unknown`."""

    kind: str
    matches: list[Match] = field(default_factory=list)


class Index:
    """The searchable form of a list of topics."""

    def __init__(
        self, topics: list[Topic], model_name: str = str(DEFAULT_MODEL_DIR), weights: Weights = Weights()
    ) -> None:
        self.topics = topics
        self.weights = weights
        self._model = load_model(model_name)
        texts, owners = [], []
        for number, topic in enumerate(topics):
            for text in (topic.title, *topic.examples):
                texts.append(expand_text(text))
                owners.append(number)
        folded = [fold(text) for text in texts]
        self._owners = np.array(owners + owners)
        self._vectors = self._cached_embeddings(texts + folded, model_name)
        self._lexical = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        self._lexical_matrix = self._lexical.fit_transform(folded + folded)

    def _cached_embeddings(self, texts: list[str], model_name: str) -> np.ndarray:
        """Embeddings of the examples, recomputed only when the examples or the model change."""
        key = hashlib.sha256("\n".join([model_name, *texts]).encode("utf-8")).hexdigest()[:24]
        path = CACHE_DIR / f"kb-{key}.npy"
        if path.exists():
            return np.load(path)
        vectors = embed(self._model, texts)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(temporary, vectors)
        temporary.replace(path)
        return vectors

    def rank(self, query: str) -> list[Match]:
        """Every topic, best first, with its combined score."""
        expanded = expand_text(query)
        semantic = self._vectors @ embed(self._model, [expanded])[0]
        lexical = (self._lexical_matrix @ self._lexical.transform([fold(expanded)]).T).toarray().ravel()
        best_semantic = np.full(len(self.topics), -1.0)
        best_lexical = np.zeros(len(self.topics))
        np.maximum.at(best_semantic, self._owners, semantic)
        np.maximum.at(best_lexical, self._owners, lexical)
        return sorted(
            (
                Match(topic, self.score(sem, lex), float(sem), float(lex))
                for topic, sem, lex in zip(self.topics, best_semantic, best_lexical, strict=True)
            ),
            key=lambda match: match.score,
            reverse=True,
        )

    def score(self, semantic: float, lexical: float) -> float:
        """e5 cosines of unrelated Vietnamese texts sit near 0.8: rescale them to 0–1 first."""
        semantic_scaled = min(max((semantic - 0.8) / 0.2, 0.0), 1.0)
        return self.weights.semantic * semantic_scaled + (1 - self.weights.semantic) * lexical

    def decide(self, query: str) -> Decision:
        """Answer, offer a choice, or admit not knowing."""
        if not query.strip():
            return Decision("unknown")
        ranked = self.rank(query)
        best = ranked[0]
        close = [
            m
            for m in ranked[:3]
            if m.score >= self.weights.suggest and best.score - m.score < self.weights.margin
        ]
        if best.score >= self.weights.answer and len(close) <= 1:
            return Decision("answer", [best])
        if best.score >= self.weights.suggest:
            return Decision("choose", close if len(close) > 1 else [best])
        return Decision("unknown", ranked[:3])


class KnowledgeBase:
    """The live knowledge base: reloads itself when the file changes, keeps the last good version."""

    def __init__(self, path: Path = DEFAULT_KB, model_name: str = str(DEFAULT_MODEL_DIR)) -> None:
        self.path = path
        self.model_name = model_name
        self._index: Index | None = None
        self._stamp: tuple[int, int] | None = None
        self.last_error: str | None = None

    def index(self) -> Index:
        """The current index, reloading first if the file changed since the last load."""
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        if stamp != self._stamp or self._index is None:
            self._stamp = stamp
            self.reload()
        if self._index is None:
            raise KnowledgeBaseError(self.path, [self.last_error or "no usable version"])
        return self._index

    def reload(self) -> bool:
        """Loads the file now; on any problem keeps serving the previous version and logs why."""
        try:
            self._index = Index(load(self.path), self.model_name)
        except KnowledgeBaseError as error:
            self.last_error = str(error)
            logger.error("Knowledge base not reloaded, still serving the last good version: %s", error)
            return False
        self.last_error = None
        logger.info("Knowledge base loaded: %d topics from %s", len(self._index.topics), self.path)
        return True

    def topic(self, topic_id: str) -> Topic | None:
        """A topic by id (for the buttons of a choice)."""
        return next((t for t in self.index().topics if t.id == topic_id), None)

    def decide(self, query: str) -> Decision:
        """See Index.decide."""
        return self.index().decide(query)
