"""Vietnamese text normalisation shared by the NLU components and the services.

Customers type in every Unicode form (NFC, decomposed NFD from some phone keyboards), often
without diacritics, and in chat shorthand ("ko dc sp"). Everything that compares Vietnamese text
goes through this one module so that training, parsing and search agree.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import yaml

from vietcx.settings import PROJECT

DEFAULT_LEXICON = PROJECT / "data" / "lexicon" / "shorthand.yml"
CONTEXT_LEXICON = PROJECT / "data" / "lexicon" / "shorthand_in_context.yml"
NEIGHBOURS = 3  # words either side that may decide a shorthand

_D_MAP = str.maketrans({"đ": "d", "Đ": "D"})
_WORD = re.compile(r"\w+")


def nfc_with_offsets(text: str) -> tuple[str, list[int]]:
    """Return `text` in NFC and, for every NFC character, its start offset in `text`.

    The list has one extra entry, `len(text)`, so that a span `[i, j)` of the NFC text maps
    back to `[offsets[i], offsets[j])` of the original: entity offsets stay exact even when a
    keyboard sent decomposed accents.
    """
    if unicodedata.is_normalized("NFC", text):
        return text, list(range(len(text) + 1))
    out: list[str] = []
    offsets: list[int] = []
    start = 0
    for end in range(1, len(text) + 1):
        # a cluster is a base character followed by its combining marks
        if end < len(text) and unicodedata.combining(text[end]):
            continue
        composed = unicodedata.normalize("NFC", text[start:end])
        out.append(composed)
        offsets.extend([start] * len(composed))
        start = end
    offsets.append(len(text))
    return "".join(out), offsets


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese tone and vowel marks ("Đổi trả" → "Doi tra").

    On NFC input the result has the same length, so offsets carry over unchanged.
    """
    decomposed = unicodedata.normalize("NFD", text.translate(_D_MAP))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def fold(text: str) -> str:
    """The comparison key used by every lexical match: NFC, lower case, no diacritics."""
    return strip_diacritics(unicodedata.normalize("NFC", text)).lower()


@functools.lru_cache(maxsize=8)
def load_shorthand(path: str = str(DEFAULT_LEXICON)) -> dict[str, str]:
    """Read the editable shorthand file into {lower-case shorthand: full form}.

    The file maps each full form to the list of ways customers abbreviate it.
    """
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    mapping: dict[str, str] = {}
    for full, variants in raw.items():
        for variant in variants or []:
            key = unicodedata.normalize("NFC", str(variant)).lower()
            if key in mapping and mapping[key] != full:
                raise ValueError(f"{path}: '{variant}' is listed under both '{mapping[key]}' and '{full}'")
            mapping[key] = str(full)
    return mapping


def expand_shorthand(word: str, lexicon: dict[str, str]) -> str:
    """Full form of one chat word ("dc" → "được"); the word itself when it is not shorthand."""
    return lexicon.get(word.lower(), word)


@functools.lru_cache(maxsize=8)
def load_shorthand_in_context(path: str = str(CONTEXT_LEXICON)) -> dict[str, list[tuple[str, list[str]]]]:
    """Read the editable file of shorthand decided by its neighbours into {shorthand: [(full form,
    [neighbour words])]}: "bh" is "bảo hành" beside "bao lâu" and "bây giờ" beside "thì sao"."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle) or {}
    except FileNotFoundError:
        return {}
    return {
        str(short).lower(): [(str(full), [fold(str(c)) for c in cues or []]) for full, cues in forms.items()]
        for short, forms in raw.items()
    }


def expand_text(text: str, lexicon: dict[str, str] | None = None) -> str:
    """A whole message with every shorthand word expanded ("sp ko dc" → "sản phẩm không được"), and
    the shorthand that its neighbours decide ("bh bao lâu" → "bảo hành bao lâu")."""
    lexicon = load_shorthand() if lexicon is None else lexicon
    text = unicodedata.normalize("NFC", text)
    in_context = load_shorthand_in_context()
    folded = fold(text)  # same offsets as the text

    def expand(match: re.Match[str]) -> str:
        word = match.group()
        forms = in_context.get(word.lower())
        if not forms:
            return expand_shorthand(word, lexicon)
        before = " ".join(_WORD.findall(folded[: match.start()])[-NEIGHBOURS:])
        after = " ".join(_WORD.findall(folded[match.end() :])[:NEIGHBOURS])
        around = f" {before} | {after} "
        for full, cues in forms:
            if any(f" {cue} " in around for cue in cues):
                return full
        return word

    return _WORD.sub(expand, text)
