"""The features both of the project's text classifiers read (the FAQ search and the sentiment):
a sentence embedding beside word 1–2-grams and character 2–5-grams of the folded text.

The embedding carries meaning across wordings; the n-grams, over the text folded to lower case
without diacritics, carry the exact words customers type, with or without marks ("sp ko dc" as
"san pham khong duoc"). Each classifier brings its own embedding (computed once per message) and
its own estimator; what the features are is written only here.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from vietcx.normalize import expand_text, fold


def folded(text: str) -> str:
    """The form the n-grams are counted on: shorthand expanded, lower case, no diacritics."""
    return fold(expand_text(text))


class TextFeatures:
    """Sentence embedding (scaled by `embedding_weight`) + word and character TF-IDF n-grams."""

    def __init__(self, embedding_weight: float = 1.0) -> None:
        self.embedding_weight = embedding_weight
        self._words = TfidfVectorizer(
            analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\w+"
        )
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)

    def fit(self, texts: list[str]) -> TextFeatures:
        """Learns the n-gram vocabularies from the training texts."""
        forms = [folded(t) for t in texts]
        self._words.fit(forms)
        self._chars.fit(forms)
        return self

    def transform(self, texts: list[str], vectors: np.ndarray) -> sparse.csr_matrix:
        """[len(texts) × features]: the texts' sentence `vectors` and their n-grams."""
        forms = [folded(t) for t in texts]
        dense = sparse.csr_matrix(np.asarray(vectors) * self.embedding_weight)
        return sparse.hstack([dense, self._words.transform(forms), self._chars.transform(forms)]).tocsr()

    @property
    def sparse_width(self) -> int:
        """How many n-gram features follow the embedding."""
        return len(self._words.vocabulary_) + len(self._chars.vocabulary_)
