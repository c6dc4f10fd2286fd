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


def expand_text(text: str, lexicon: dict[str, str] | None = None) -> str:
    """A whole message with every shorthand word expanded ("sp ko dc" → "sản phẩm không được")."""
    lexicon = load_shorthand() if lexicon is None else lexicon
    return _WORD.sub(
        lambda match: expand_shorthand(match.group(), lexicon), unicodedata.normalize("NFC", text)
    )
