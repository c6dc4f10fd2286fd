"""Vietnamese names: reading one from a customer's answer, and addressing the customer properly.

A Vietnamese full name is family + middle + given ("Nguyễn Văn An"); a customer is addressed by
honorific + given name ("anh An"), never by the family name. The honorific is the one the customer
used for themselves ("tên chị là Hoa"), else the middle name's hint ("Văn" → anh, "Thị" → chị),
else the neutral "anh/chị". A name typed without diacritics gets them back only when the name list
(`data/lexicon/vietnamese_names.yml`) has exactly one spelling for it in that position.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

import yaml

from vietcx.normalize import fold
from vietcx.settings import PROJECT

NAMES_FILE = PROJECT / "data" / "lexicon" / "vietnamese_names.yml"
NEUTRAL = "anh/chị"
MAX_NAME_WORDS = 5
MAX_WORD_CHARS = 20

_SELF = r"(?P<pro>toi|minh|mk|mik|em|e|anh|a|chi|c|to|tui)"
_NAME = r"(?P<name>.+)"
# Matched on the folded text (lower case, no diacritics), whose offsets equal the original's.
# After these the words are surely meant as a name, even when lower case and unknown.
_EXPLICIT = [
    re.compile(rf"\b{_SELF} ten(?: la\b)? {_NAME}"),
    re.compile(rf"\b(?:ho ten|ten)(?: cua)?(?: {_SELF})?(?: la\b|\s*:)\s*{_NAME}"),
    re.compile(rf"\b(?:my name is|i am|i'm|call me)\s+{_NAME}"),
]
# After these only capitalised or known name words count ("em là khách quen" has no name).
_LOOSE = [
    re.compile(rf"\bgoi(?: {_SELF})?(?: la\b)? {_NAME}"),
    re.compile(rf"^(?:da |vang )?{_SELF} la\b {_NAME}"),
    re.compile(rf"^(?:da )?(?P<pro>anh|chi|c) {_NAME}"),
    re.compile(rf"^(?:da |vang )?{_NAME}"),
]
# Matched on the lower-case text as typed: "khỏi" declines, "Khôi" is a name.
_DECLINE = re.compile(
    r"\b(?:(?:không|khong|ko|k|hok|chưa|chua) (?:muốn|muon|thích|thich|tiện|tien|cần|can|cho|dám|dam)|"
    r"bí mật|bi mat|giấu tên|giau ten|sao phải|sao phai|làm gì|lam gi|no thanks|rather not|"
    r"(?:^|thôi |thoi )(?:khỏi|khoi)|(?:khỏi|khoi) (?:đi|di|cần|can|nha|nhé|nhe))"
)
# words that end a name: particles, courtesy, addressing the shop (compared as typed, lower case)
_STOP = {
    "a",
    "ạ",
    "à",
    "ak",
    "ah",
    "ha",
    "hả",
    "nhé",
    "nhe",
    "nha",
    "nhỉ",
    "đó",
    "đấy",
    "rồi",
    "roi",
    "được",
    "duoc",
    "ơi",
    "oi",
    "với",
    "voi",
    "luôn",
    "luon",
    "shop",
    "ad",
    "admin",
    "em",
    "bạn",
    "cảm",
    "cam",
    "thanks",
    "thank",
    "please",
    "và",
    "còn",
    "nhưng",
    "mà",
}
_HONORIFIC_OF_PRONOUN = {"anh": "anh", "a": "anh", "chi": "chị", "c": "chị"}


@dataclass(frozen=True)
class Name:
    """A customer's name as displayed, and how to address them."""

    full: str
    given: str
    honorific: str = NEUTRAL

    @property
    def address(self) -> str:
        """ "anh An", "chị Ngọc", "anh/chị Minh"."""
        return f"{self.honorific} {self.given}"


@dataclass(frozen=True)
class NameAnswer:
    """What a customer's answer to "may I have your name?" says."""

    name: Name | None = None
    declined: bool = False


@dataclass(frozen=True)
class _Lexicon:
    by_position: dict[str, dict[str, set[str]]]  # position → folded → accented spellings

    def known(self, word: str) -> bool:
        return any(fold(word) in spellings for spellings in self.by_position.values())

    def restore(self, word: str, position: str) -> str:
        """The accented spelling when the typed word has no marks and exactly one is listed."""
        if fold(word) == word.lower():
            spellings = self.by_position[position].get(word.lower(), set())
            if len(spellings) == 1:
                return next(iter(spellings))
        return word[:1].upper() + word[1:].lower()


@functools.lru_cache(maxsize=4)
def _lexicon(path: str = str(NAMES_FILE)) -> _Lexicon:
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    by_position: dict[str, dict[str, set[str]]] = {}
    for position in ("family", "middle", "given"):
        spellings: dict[str, set[str]] = defaultdict(set)
        for word in raw.get(position) or []:
            word = unicodedata.normalize("NFC", str(word))
            spellings[fold(word)].add(word)
        by_position[position] = dict(spellings)
    return _Lexicon(by_position)


def parse_name_answer(text: str) -> NameAnswer:
    """Reads a name, or a refusal to give one, from a customer's message."""
    original = unicodedata.normalize("NFC", text or "").strip()
    folded = fold(original)
    if not folded:
        return NameAnswer()
    explicit = _find_name(original, folded, _EXPLICIT, explicit=True)
    if explicit:
        return explicit
    if _DECLINE.search(original.lower()):
        return NameAnswer(declined=True)
    return _find_name(original, folded, _LOOSE, explicit=False) or NameAnswer()


def _find_name(
    original: str, folded: str, patterns: list[re.Pattern[str]], explicit: bool
) -> NameAnswer | None:
    """The first pattern that frames a plausible name, read from the original text."""
    lexicon = _lexicon()
    for pattern in patterns:
        match = pattern.search(folded)
        if not match:
            continue
        words = _name_words(original[match.start("name") : match.end("name")])
        if words and (explicit or all(_looks_like_name(w, lexicon) for w in words)):
            pronoun = match.groupdict().get("pro")
            return NameAnswer(name=make_name(words, _HONORIFIC_OF_PRONOUN.get(pronoun or "")))
    return None


def name_from_profile(display_name: str) -> Name | None:
    """The name a channel's profile shows ("Trần Thị Ngọc", "Ngoc Tran 🌸"), when it is one."""
    display_name = unicodedata.normalize("NFC", display_name or "")
    if re.search(r"[<>{}]|https?:", display_name):
        return None  # markup or a link is not a name
    words = re.findall(r"[^\W\d_]+", display_name)[:MAX_NAME_WORDS]
    if not words or any(len(word) > MAX_WORD_CHARS for word in words):
        return None
    by_position = _lexicon().by_position
    first_is_family = fold(words[0]) in by_position["family"]
    if len(words) >= 2 and not first_is_family and fold(words[-1]) in by_position["family"]:
        words = [words[-1], *words[:-1]]  # Western order on a profile: "Ngọc Trần"
    return make_name(words)


def make_name(words: list[str], honorific: str | None = None) -> Name:
    """Builds a name from its words (family … given), restoring diacritics when sure."""
    lexicon = _lexicon()
    if len(words) == 1:
        restored = [lexicon.restore(words[0], "given")]
    else:
        positions = ["family", *["middle"] * (len(words) - 2), "given"]
        restored = [lexicon.restore(w, p) for w, p in zip(words, positions, strict=True)]
    if not honorific:
        middles = {fold(w) for w in restored[1:-1]}
        honorific = "chị" if "thi" in middles else "anh" if "van" in middles else NEUTRAL
    return Name(full=" ".join(restored), given=restored[-1], honorific=honorific)


def _name_words(fragment: str) -> list[str]:
    """The leading words of a fragment up to punctuation or a particle ("Lan nhé em" → [Lan])."""
    words: list[str] = []
    for token in re.findall(r"[^\W\d_]+|[^\w\s]", fragment):
        if not token[0].isalpha() or token.lower() in _STOP:
            break
        words.append(token)
    if any(len(word) > MAX_WORD_CHARS for word in words):
        return []
    return words if 0 < len(words) <= MAX_NAME_WORDS else []


def _looks_like_name(word: str, lexicon: _Lexicon) -> bool:
    """Without "tên là", a word counts as a name only if capitalised or a known name."""
    return word[0].isupper() or lexicon.known(word)
