"""Vietnamese names: reading one from a customer's answer, and addressing the customer properly.

A Vietnamese full name is family + middle + given ("Nguyễn Văn An"); a customer is addressed by
honorific + given name ("anh An"), never by the family name. The honorific is the one the customer
used for themselves ("tên chị là Hoa"), else the middle name's hint ("Văn" → anh, "Thị" → chị),
else the neutral "anh/chị". A name typed without diacritics is kept as typed ("Tran Thi Mai"): the
customer's own spelling, where marks guessed back from the name list could misspell it.

A chat platform's display name ("Bé Bông 🌸", "Shop Quần Áo", "Tuấn Nguyễn") is used only when it
reads as a Vietnamese person's name (see `name_from_profile`); otherwise the customer is asked.
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
HONORIFICS_FILE = PROJECT / "data" / "lexicon" / "given_name_honorifics.yml"
NEUTRAL = "anh/chị"
MAX_NAME_WORDS = 5
MAX_WORD_CHARS = 20

_SELF = r"(?P<pro>toi|minh|mk|mik|em|e|anh|a|chi|c|to|tui)"
_NAME = r"(?P<name>.+)"
# Matched on the folded text (lower case, no diacritics), whose offsets equal the original's.
# After these the words are surely meant as a name, even when lower case and unknown.
_EXPLICIT = [
    re.compile(rf"\b{_SELF} ten(?: la\b)? {_NAME}"),
    re.compile(rf"\b(?:ho ten|ten)(?: that)?(?: cua)?(?: {_SELF})?(?: la\b|\s*:)\s*{_NAME}"),
    re.compile(rf"\b(?:my name is|i am|i'm|call me)\s+{_NAME}"),
]
# "Dũng đây", "anh Dũng đây ạ": a name signed the way one answers the phone; as framed as "tên là",
# but only when capitalised ("hàng đây" is not a name).
_SIGNED = [
    re.compile(
        rf"^(?:da |vang )?(?:{_SELF} )?(?P<name>[^,.;!?]+?) (?:day|nay)\b"
        r"(?= *(?:a|nhe|nha)?\b *(?:[,.;!?]|$))"
    )
]
# After these only capitalised or known name words count ("em là khách quen" has no name).
_LOOSE = [
    re.compile(rf"\bgoi(?: {_SELF})?(?: la\b)? {_NAME}"),
    re.compile(rf"^(?:da |vang )?{_SELF} la\b {_NAME}"),
    re.compile(rf"^(?:da )?(?P<pro>anh|chi|c) {_NAME}"),
    re.compile(rf"^(?:con )?ten {_NAME}"),
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
    "đây",
    "day",
    "nè",
    "ne",
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
# Listed given names ("Nguyễn Thị Bé") that on a platform profile open a nickname ("Bé Bông",
# "Út Nhỏ", "Bé Trần"): never taken from a profile, the customer is asked instead.
_PROFILE_NICKNAMES = frozenset({"Bé", "Út"})
# titles and roles that open an account name that is not a person's name to greet by
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "boss", "sep", "shop", "admin", "bac si"})
# A listed given name that alone is as likely a form of address ("anh" = elder brother, "you").
_NOT_ALONE = frozenset({"anh"})
# The middles of a Vietnamese name abroad written given-first: "Tuan Van Nguyen", "Lan Thi Tran".
_GENDER_MIDDLES = frozenset({"van", "thi"})
# A tone mark on the second vowel of a word-final "oa", "oe", "uy" ("hoà", "thuỷ", in NFD), to be
# moved to the first as the lexicon writes it ("hòa", "thủy"): both placements are in daily use.
_SECOND_VOWEL_TONE = re.compile(r"([ou])([aey])([\u0300\u0301\u0303\u0309\u0323])$")


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
    explicit: bool = False  # framed as a name ("tên là …", "mình là …"), not a bare word


@dataclass(frozen=True)
class _Lexicon:
    by_position: dict[str, dict[str, set[str]]]  # position → folded → accented spellings

    def known(self, word: str) -> bool:
        return any(fold(word) in spellings for spellings in self.by_position.values())

    def spellings(self, word: str, position: str, exact: bool) -> set[str]:
        """The listed spellings the word may stand for: any with its unaccented form, or when
        `exact` (a name typed with marks) only its own, wherever the tone sits ("Hoà" is "Hòa",
        "Ngốc" is not "Ngọc", and "Trinh" is not "Trịnh")."""
        listed = self.by_position[position].get(fold(word), set())
        if not exact:
            return listed
        return {spelling for spelling in listed if _tone_key(spelling) == _tone_key(word)}


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
    signed = _find_name(original, folded, _SIGNED, explicit=False)
    if signed:
        return NameAnswer(name=signed.name, explicit=True)
    return _find_name(original, folded, _LOOSE, explicit=False) or NameAnswer()


def stated_name(text: str) -> Name | None:
    """A name the customer states in passing, in any clause of a longer message ("chào shop, mình
    là Tâm"); only when framed as a name ("mình là", "tên", "Dũng đây"), never a bare word."""
    return name_in_passing(text)[0]


def name_in_passing(text: str) -> tuple[Name | None, str]:
    """A name stated in passing (see `stated_name`) and the rest of the message without the clause
    that gave it: "Dũng đây, cho anh hỏi giao ra Vũng Tàu mất mấy hôm" → (Dũng, "cho anh hỏi …")."""
    clauses = re.split(r"([,.;!?\n]+)", text or "")
    for index in range(0, len(clauses), 2):
        answer = parse_name_answer(clauses[index])
        if answer.name and answer.explicit:
            rest = "".join(clauses[:index] + clauses[index + 2 :]).strip(" ,.;!\n")
            return answer.name, rest
    return None, text


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
        signed = pattern in _SIGNED  # "Dũng đây": written as a name, capitalised
        plausible = all(w[0].isupper() if signed else _looks_like_name(w, lexicon) for w in words)
        if words and (explicit or plausible):
            pronoun = match.groupdict().get("pro")
            honorific = _HONORIFIC_OF_PRONOUN.get(pronoun or "")
            framed = explicit or pattern is not _LOOSE[-1]
            return NameAnswer(name=make_name(words, honorific), explicit=framed)
    return None


def name_from_profile(display_name: str, *, vouched: bool = False) -> Name | None:
    """The customer's name from a profile's display name ("Trần Thị Ngọc", "Ngoc Tran 🌸"), or None.

    A chat platform's display name is often a nickname, a shop or a title ("Bé Bông", "Shop Quần
    Áo", "Mr Bean", "Boss"), and greeting a customer by one is worse than asking their name. So
    it counts only when it reads as a Vietnamese person's name; emoji and punctuation around the
    words are dropped, but any digit, or more than MAX_NAME_WORDS words, refuses it:

    - every word is a listed name word for its position (family, middle…, given; the lexicon is
      an allow-list, so kinship, titles, business and nickname words never fit, and no list of
      them could be complete), in any case; typed without any marks, or with marks and each word
      then spelled as listed (a keyboard that writes marks writes them all: "Ngọc Trinh" is
      not Trịnh Ngọc);
    - in Vietnamese order (family first), else Western order (family last: "Lan Anh Nguyễn"), or
      given-first when Văn/Thị precede the family name as names are written abroad ("Tuan Van
      Nguyen");
    - there is a family name: given names alone may be a phrase ("Hoa Hồng", "Thanh Xuân") and
      a compound given name is not addressed by its last word ("Lan Anh" is "chị Lan Anh");
    - except a lone given name written exactly as listed, with its marks ("Ngọc", "Lan"): a
      Vietnamese writing a name they go by writes it so, and the greeting is then the word the
      customer chose. Without its marks ("Ngoc", "Tho") a lone word may as well be a nickname
      (ngốc "silly", thỏ "rabbit") and nothing else on the profile says it is a name; "Anh"
      alone is a form of address;
    - Bé and Út, though listed, are never taken (they open nicknames: "Bé Trần").

    So a foreign name ("John Smith") gives None as well: the assistant asks politely instead of
    guessing which word is the given name.

    `vouched` is for a name the shop's own backend sent (the web page's signed identity, the
    REST API): it is the customer's account name, not forged, so any letters are taken, family
    name moved first when it is last, as always; but an account name is typed by the customer
    too, so one that opens with a nickname or a title ("Bé Bông 🌸", "Mr Bean", "Sếp Tùng") is
    not a name to greet by, and the customer is asked.
    """
    display_name = unicodedata.normalize("NFKC", display_name or "")  # fancy fonts as letters
    if re.search(r"[<>{}]|https?:", display_name):
        return None  # markup or a link is not a name
    words = re.findall(r"[^\W\d_]+", display_name)
    if vouched:
        words = words[:MAX_NAME_WORDS]
        if words and (words[0].title() in _PROFILE_NICKNAMES or fold(words[0]) in _TITLES):
            return None
    elif re.search(r"\d", display_name) or len(words) > MAX_NAME_WORDS:
        return None
    if not words or any(len(word) > MAX_WORD_CHARS for word in words):
        return None
    ordered = _family_first(words) if vouched else _platform_reading(words)
    return make_name(ordered) if ordered else None


def _family_first(words: list[str]) -> list[str]:
    """The words with a last family name moved first ("Ngọc Trần" → Trần Ngọc), else as given."""
    by_position = _lexicon().by_position
    first_is_family = fold(words[0]) in by_position["family"]
    if len(words) >= 2 and not first_is_family and fold(words[-1]) in by_position["family"]:
        return [words[-1], *words[:-1]]
    return words


def _platform_reading(words: list[str]) -> list[str] | None:
    """The words in family … given order when each is a listed name for its place, else None."""
    if len(words) == 1:
        alone = words[0].lower() not in _NOT_ALONE
        return words if alone and _profile_spellings(words[0], "given", exact=True) else None
    marked = any(fold(word) != word.lower() for word in words)
    family, rest = words[-1], words[:-1]
    if len(rest) >= 2 and fold(rest[-1]) in _GENDER_MIDDLES:
        western = [family, *rest[1:], rest[0]]  # "Tuan Van Nguyen" → Nguyen Van Tuan
    else:
        western = [family, *rest]  # "Lan Anh Nguyễn" → Nguyễn Lan Anh
    for reading in (words, western):
        positions = ["family", *["middle"] * (len(reading) - 2), "given"]
        if all(_profile_spellings(w, p, marked) for w, p in zip(reading, positions, strict=True)):
            return reading
    return None


def _profile_spellings(word: str, position: str, exact: bool) -> set[str]:
    """The listed names the word may be in that position, less those that open nicknames."""
    return _lexicon().spellings(word, position, exact) - _PROFILE_NICKNAMES


def make_name(words: list[str], honorific: str | None = None) -> Name:
    """Builds a name from its words (family … given), capitalised but spelled as the customer
    typed it: "tran thi mai" is "Tran Thi Mai", since marks guessed back could misspell a name."""
    written = [word[:1].upper() + word[1:].lower() for word in words]
    if not honorific:
        middles = {fold(w) for w in written[1:-1]}
        hinted = "chị" if "thi" in middles else "anh" if "van" in middles else None
        honorific = hinted or likely_honorific(written[-1])
    return Name(full=" ".join(written), given=written[-1], honorific=honorific)


def addressed(text: str, honorific: str) -> str:
    """A text written to "anh/chị" (a knowledge-base answer) addressed to the customer's known
    honorific: "Dạ, anh/chị có thể…" → "Dạ, chị có thể…"."""
    if honorific == NEUTRAL:
        return text
    return text.replace("Anh/chị", honorific[:1].upper() + honorific[1:]).replace(NEUTRAL, honorific)


def likely_honorific(given: str) -> str:
    """ "anh" or "chị" for a given name borne mostly by men or by women (the editable list
    `data/lexicon/given_name_honorifics.yml`), else the neutral "anh/chị". A name typed without
    marks is read as that name when it is one ("Lan" is Lan, not Lân); else it counts only when
    every listed name it may stand for agrees: "Tuan" can only be Tuấn (anh), "Hung" Hùng or Hưng."""
    by_name = _honorifics()
    word = unicodedata.normalize("NFC", given).strip().title()
    if (
        fold(word) != word.lower()
        or word in by_name
        or word in _lexicon().by_position["given"].get(word.lower(), set())
    ):
        return by_name.get(word, NEUTRAL)
    spellings = _lexicon().by_position["given"].get(word.lower(), set())
    spellings |= {name for name in by_name if fold(name) == word.lower()}
    honorifics = {by_name.get(spelling, NEUTRAL) for spelling in spellings}
    return honorifics.pop() if len(honorifics) == 1 else NEUTRAL


@functools.lru_cache(maxsize=1)
def _honorifics(path: str = str(HONORIFICS_FILE)) -> dict[str, str]:
    """{given name: "anh" or "chị"}, from the editable list."""
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    return {
        unicodedata.normalize("NFC", str(name)): str(honorific)
        for honorific, names in raw.items()
        for name in names or []
    }


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


def _tone_key(word: str) -> str:
    """A spelling compared regardless of where the tone sits in "oa", "oe", "uy": hoà = hòa."""
    return _SECOND_VOWEL_TONE.sub(r"\1\3\2", unicodedata.normalize("NFD", word.lower()))
