"""Finding the FAQ topic a customer asks about, and deciding whether to answer, ask, or admit it.

The signals are those of a semantic search combined with a lexical one, over the example questions
and titles: multilingual-e5-small embeddings of the text (each example indexed as written and
without diacritics, since e5 compares unaccented text well only with unaccented text), and word
1–2-gram and character 2–5-gram TF-IDF over folded text (no diacritics, lower case, shorthand
expanded), which is what survives "ship mat bao lau" or "bh ntn". A logistic regression fitted on
the examples when the file is loaded (no `rasa train`; about a second once the examples' embeddings
are in the cache, see `Embeddings`) turns them into one
probability per topic, with the NLU's out-of-scope examples and the shop questions only staff can
answer (for_staff.yml beside the KB: a product's stock, price, specs) as a "none of these" class.
Measured on the knowledge base (5-fold cross-validation, 54 examples a topic): 0.92 of questions ranked right
(nearest-example cosine: 0.55 with 14 examples a topic, where this classifier had 0.75).
The thresholds that turn probabilities into a decision are tuned the same way
(`bench/faq_eval.py --tune`), never on the held-out set.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sparse
from sklearn.linear_model import LogisticRegression

from vietcx.embeddings import DEFAULT_MODEL_DIR, embed, load_model
from vietcx.kb.loader import KnowledgeBaseError, Topic, load, load_for_staff
from vietcx.normalize import expand_text, fold
from vietcx.settings import PROJECT, cache_dir, for_staff_file, kb_file
from vietcx.text_features import TextFeatures

logger = logging.getLogger(__name__)
OUT_OF_SCOPE_DATA = PROJECT / "data" / "nlu" / "core.yml"
NONE = -1  # the class of questions that belong to no topic
EMBEDDING_WEIGHT = 2.0  # dense features count as much as the sparse ones


@dataclass(frozen=True)
class Match:
    """A topic and the probability that the question is about it."""

    topic: Topic
    score: float


@dataclass(frozen=True)
class Decision:
    """`answer` (one topic), `choose` (close topics to offer as buttons) or `unknown`."""

    kind: str
    matches: list[Match] = field(default_factory=list)


@dataclass(frozen=True)
class Thresholds:
    """Where the probabilities turn into decisions (tuned by `bench/faq_eval.py --tune`)."""

    answer: float = 0.3  # the best topic at least this likely: answer it...
    margin: float = 0.05  # ...if it leads the next one by this much; otherwise offer the close ones
    suggest: float = 0.2  # below this no topic is likely enough: say so and offer a person
    # a message that only names a subject ("ship", "hỏi về đơn hàng") offers every topic this close
    # and at least this likely: the question it will become is still open
    vague_margin: float = 0.5
    vague_floor: float = 0.1

    def decide(self, ranked: list[Match], vague: bool = False) -> Decision:
        """Answer, offer a choice, or admit not knowing; `ranked` is best first."""
        if not ranked or ranked[0].score < self.suggest:
            return Decision("unknown", ranked[:3])
        best = ranked[0].score
        margin = self.vague_margin if vague else self.margin
        floor = self.vague_floor if vague else self.suggest
        close = [m for m in ranked[:3] if m.score >= floor and best - m.score < margin]
        if best >= self.answer and len(close) == 1:
            return Decision("answer", ranked[:1])
        return Decision("choose", close)


class Embeddings:
    """Sentence embeddings remembered per text, so a reload embeds only new or changed examples.

    Embedding the knowledge base's 2 500 texts (each example as written and folded) takes tens of
    seconds of this machine's CPU: they are also kept on disk
    (`<VIETCX_CACHE_DIR>/kb-embeddings-<model>-<fingerprint>.npz`), so a restarted or an
    additional action server is ready in a second and embeds only what staff changed since."""

    def __init__(self, model_name: str, cache: Path | None = None) -> None:
        self.model = load_model(model_name)
        # a rebuilt model gives other vectors: its fingerprint keeps the old ones from being reused
        name = f"kb-embeddings-{Path(model_name).name}-{self.model.fingerprint}.npz"
        self._cache = cache or cache_dir() / name
        self._known: dict[str, np.ndarray] = self._read()

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._known))
        if missing:
            self._known.update(zip(missing, embed(self.model, missing), strict=True))
            if len(missing) > 1:  # a knowledge base (re)load, not one customer's question
                self._write()
        return np.stack([self._known[t] for t in texts])

    def _read(self) -> dict[str, np.ndarray]:
        try:
            with np.load(self._cache, allow_pickle=False) as stored:
                return dict(zip(stored["texts"].tolist(), stored["vectors"], strict=True))
        except (OSError, KeyError, ValueError) as error:
            if self._cache.exists():
                logger.warning("Embedding cache %s unreadable (%s): starting afresh", self._cache, error)
            return {}

    def _write(self) -> None:
        """Atomically (a reader never sees half a file); a failure only costs time at the next start."""
        texts = list(self._known)
        try:
            self._cache.parent.mkdir(parents=True, exist_ok=True)
            partial = self._cache.with_suffix(f".{os.getpid()}.partial.npz")
            np.savez(
                partial, texts=np.array(texts, dtype=str), vectors=np.stack([self._known[t] for t in texts])
            )
            os.replace(partial, self._cache)
        except OSError as error:
            logger.warning("Embedding cache %s not written: %s", self._cache, error)


def out_of_scope_examples(path: Path = OUT_OF_SCOPE_DATA) -> list[str]:
    """Questions the shop does not answer, from the NLU training data."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [m.get("text") for m in load_data(str(path)).intent_examples if m.get("intent") == "out_of_scope"]


class Index:
    """A classifier over a list of topics (see module docstring)."""

    def __init__(
        self,
        topics: list[Topic],
        embeddings: Embeddings,
        negatives: list[str],
        thresholds: Thresholds = Thresholds(),
    ) -> None:
        self.topics = topics
        self.thresholds = thresholds
        self._embeddings = embeddings
        texts, labels = [], []
        for number, topic in enumerate(topics):
            for text in (topic.title, *topic.examples):
                texts.append(text)
                labels.append(number)
        texts += negatives
        labels += [NONE] * len(negatives)
        rows = [expand_text(t) for t in texts]
        rows += [fold(r) for r in rows]  # every example also as typed without diacritics
        self._text_features = TextFeatures(EMBEDDING_WEIGHT).fit(rows)
        self._classifier = LogisticRegression(C=20, max_iter=3000)
        self._classifier.fit(self._features(rows), labels + labels)

    def _features(self, expanded: list[str]) -> sparse.csr_matrix:
        return self._text_features.transform(expanded, self._embeddings(expanded))

    def rank(self, query: str) -> list[Match]:
        """Every topic with its probability, best first."""
        probabilities = self._classifier.predict_proba(self._features([expand_text(query)]))[0]
        by_class = dict(zip(self._classifier.classes_, probabilities, strict=True))
        matches = [Match(topic, float(by_class.get(number, 0.0))) for number, topic in enumerate(self.topics)]
        return sorted(matches, key=lambda m: m.score, reverse=True)

    def decide(self, query: str, vague: bool = False) -> Decision:
        """See Thresholds.decide."""
        if not query.strip():
            return Decision("unknown")
        return self.thresholds.decide(self.rank(query), vague)


def _stamp(path: Path) -> tuple[int, int] | None:
    """What tells that a file changed (None: no file)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class KnowledgeBase:
    """The live knowledge base: reloads itself when the file changes, keeps the last good version."""

    def __init__(self, path: Path | None = None, model_name: str = str(DEFAULT_MODEL_DIR)) -> None:
        self.path = path or kb_file()
        self.model_name = model_name
        self._embeddings: Embeddings | None = None
        self._lock = threading.Lock()
        self._index: Index | None = None
        self.for_staff = for_staff_file(self.path)
        self._stamp: tuple[tuple[int, int] | None, ...] | None = None
        self.last_error: str | None = None

    def index(self) -> Index:
        """The current index, reloading first if the file changed since the last load."""
        stamp = tuple(_stamp(p) for p in (self.path, self.for_staff))
        with self._lock:
            if stamp != self._stamp or self._index is None:
                self._stamp = stamp
                self._reload()
            if self._index is None:
                raise KnowledgeBaseError(self.path, [self.last_error or "no usable version"])
            return self._index

    def _reload(self) -> None:
        """Loads the file; on any problem keeps serving the previous version and logs why."""
        try:
            self._embeddings = self._embeddings or Embeddings(self.model_name)
            negatives = out_of_scope_examples() + load_for_staff(self.for_staff)
            self._index = Index(load(self.path), self._embeddings, negatives)
        except KnowledgeBaseError as error:
            self.last_error = str(error)
            logger.error("Knowledge base not reloaded, still serving the last good version: %s", error)
            return
        self.last_error = None
        logger.info("Knowledge base loaded: %d topics from %s", len(self._index.topics), self.path)

    def topic(self, topic_id: str) -> Topic | None:
        """A topic by id (for the buttons of a choice)."""
        return next((t for t in self.index().topics if t.id == topic_id), None)

    def decide(self, query: str, vague: bool = False) -> Decision:
        """See Index.decide."""
        return self.index().decide(query, vague)
