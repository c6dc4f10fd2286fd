"""Reading a typed survey answer as a score: "5", "5 sao", "năm", "rất hài lòng", "hơi khó", "⭐⭐⭐⭐".

CSAT is 1–5 (satisfaction), CES 1–7 (how easy it was), NPS 0–10 (would recommend; asked only when
data/survey.yml switches it on). Customers click buttons, but as often type a number ("9 điểm"), a
number word (with or without diacritics: "chín", "muoi diem"), a phrase, or an emoji; or ask to skip.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

from vietcx.normalize import expand_text, fold

SKIP = "skip"
SCALES = {"csat": 5, "ces": 7, "nps": 10}
# the lowest score of each scale (NPS starts at 0)
LOWEST = {"csat": 1, "ces": 1, "nps": 0}

_NUMBER_WORDS = {
    "khong": 0,
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "nam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
    "muoi": 10,
}
_PARTICLES = {
    "a",
    "ak",
    "ah",
    "ha",
    "nha",
    "nhe",
    "nhi",
    "shop",
    "ad",
    "admin",
    "em",
    "oi",
    "luon",
    "day",
    "do",
}
# a whole number as typed ("5", "5 sao", "5/5", "cho 4đ"), not a part of "-1", "4.5" or "1e9"
_NUMBER = re.compile(r"(?<![\d\-])(?<!\d[.,])\d+(?!\d|[.,]\d|e\d)")
_UNITS = {"sao", "diem"}  # "năm sao", "bảy điểm"
_SKIP_WHOLE = {
    "bo qua",
    "thoi",
    "khong",
    "ko",
    "k",
    "khoi",
    "thoi khoi",
    "skip",
    "thoi bo qua",
    "khong can",
    "khong co",
    "ko co",
    "khong co gi",
    "ko co gi",
    "het",
    "khong gop y",
}
# words that frame an answer: "ý mình là hài lòng", "mình chọn rất dễ"
_FRAME = {"y", "minh", "toi", "la", "chon", "thi", "cho", "danh", "gia"}
# words that add nothing to "nothing more": "ko có gì thêm", "không ạ, cảm ơn shop", "hết rồi"
_SKIP_FILLER = {"them", "nua", "roi", "ca", "cam", "on", "tks", "thanks", "nhieu", "vang", "da", "gi"}
_SKIP_ANYWHERE = re.compile(r"\b(?:bo qua|skip|(?:khong|ko|k) (?:muon|can) (?:tra loi|danh gia|khao sat))\b")
_PHRASES = {
    "csat": {
        "rat hai long": 5,
        "hai long lam": 5,
        "cuc ky hai long": 5,
        "tuyet voi": 5,
        "xuat sac": 5,
        "rat tot": 5,
        "qua tuyet": 5,
        "hai long": 4,
        "ok": 4,
        "oke": 4,
        "on": 4,
        "tot": 4,
        "kha tot": 4,
        "binh thuong": 3,
        "bt": 3,
        "tam duoc": 3,
        "tam on": 3,
        "cung duoc": 3,
        "tam tam": 3,
        "khong hai long": 2,
        "ko hai long": 2,
        "chua hai long": 2,
        "khong tot": 2,
        "te": 2,
        "chan": 2,
        "that vong": 2,
        "hoi that vong": 2,
        "rat that vong": 1,
        "kem": 2,
        "rat khong hai long": 1,
        "rat te": 1,
        "qua te": 1,
        "te hai": 1,
        "rat kem": 1,
        "qua kem": 1,
    },
    "ces": {
        "rat de": 7,
        "qua de": 7,
        "cuc ky de": 7,
        "rat de dang": 7,
        "sieu de": 7,
        "de ot": 7,
        "de ec": 7,
        "de": 6,
        "de dang": 6,
        "kha de": 5,
        "kha de dang": 5,
        "hoi de": 5,
        "hoi de dang": 5,
        "cung de dang": 5,
        "khong kho lam": 5,
        "ko kho lam": 5,
        "cung de": 5,
        "binh thuong": 4,
        "bt": 4,
        "tam duoc": 4,
        "hoi kho": 3,
        "hoi kho khan": 3,
        "khong de lam": 3,
        "ko de lam": 3,
        "kha kho": 3,
        "hoi rac roi": 3,
        "kho": 2,
        "kho khan": 2,
        "rac roi": 2,
        "rat kho": 1,
        "qua kho": 1,
        "cuc ky kho": 1,
        "rat kho khan": 1,
    },
    "nps": {
        "chac chan": 10,
        "chac chan co": 10,
        "chac chan roi": 10,
        "chac chan se gioi thieu": 10,
        "khong bao gio": 0,
    },
}
_EMOJI = {
    "csat": {
        "😍": 5,
        "🥰": 5,
        "❤": 5,
        "👍": 4,
        "😊": 4,
        "🙂": 4,
        "😐": 3,
        "😕": 2,
        "😞": 2,
        "😠": 1,
        "😡": 1,
        "👎": 1,
    },
    "ces": {"👍": 6},
    "nps": {},
}
_STARS = re.compile(r"[⭐★]")


def parse_score(question: str, text: str) -> int | str | None:
    """The score for `question` ("csat"/"ces"/"nps"), SKIP to skip the survey, or None if unreadable."""
    scale, lowest = SCALES[question], LOWEST[question]
    raw = unicodedata.normalize("NFC", text or "").strip().lower()
    words = [w for w in re.findall(r"[a-z]+", fold(raw)) if w not in _PARTICLES]
    core = [w for w in words if w not in _FRAME]
    if len(core) > 1 and core[-1] == "thoi":
        core = core[:-1]  # "hài lòng thôi": just satisfied ("thôi" alone skips)
    phrase = " ".join(words)
    bare = " ".join(w for w in words if w not in _SKIP_FILLER)
    if phrase in _SKIP_WHOLE or bare in _SKIP_WHOLE or _SKIP_ANYWHERE.search(fold(raw)):
        return SKIP
    number = _NUMBER.search(raw)
    if number:
        value = int(number.group())
        return value if lowest <= value <= scale else None
    if question == "csat" and _STARS.search(raw):
        stars = len(_STARS.findall(raw))
        return stars if stars <= scale else None
    known = _PHRASES[question]
    for candidate in (phrase, " ".join(core)):
        if candidate in known:
            return known[candidate]
    if words and words[0] in _NUMBER_WORDS and (len(words) == 1 or (len(words) == 2 and words[1] in _UNITS)):
        value = _NUMBER_WORDS[words[0]]
        return value if lowest <= value <= scale else None
    close = difflib.get_close_matches(phrase, known, n=1, cutoff=0.85) if len(phrase) >= 5 else []
    if close:
        return known[close[0]]
    emoji = [score for symbol, score in _EMOJI[question].items() if symbol in raw]
    return emoji[0] if emoji else None


# "5 là cao nhất hả em?", "7 là dễ hay khó vậy?": a question about the scale, not a score
_ABOUT_SCALE = re.compile(
    r"\b(?:cao nhat|thap nhat|tot nhat|te nhat|toi da|nghia la|la gi|y la|la sao|muc nao|thang diem"
    r"|bao nhieu sao|may sao|may diem|de hay kho|kho hay de|tot hay te)\b"
)
# a question's last word, after any "em", "shop" addressing the assistant
_ASKING_END = re.compile(r"\b(?:ha|ho|khong|ko|chua|nhi|vay)(?: (?:em|shop|ad|oi))*$")


def asks_about_scale(text: str) -> bool:
    """Whether the customer asks how the scale reads instead of answering ("5 là cao nhất hả
    em?"): the scale is explained and the question asked again, no score is taken from it."""
    folded = fold(text or "").strip(" .!")
    if not _ABOUT_SCALE.search(folded):
        return False
    return "?" in (text or "") or _ASKING_END.search(folded) is not None


_CORRECTING = re.compile(r"\b(?:nham|sua lai|sua|khong phai|chinh lai|doi lai)\b")
_CUES = {"csat": re.compile(r"\b(?:sao|hai long)\b"), "ces": re.compile(r"\b(?:de|kho|de dang|kho khan)\b")}


def correction(text: str, asking: str | None, previous: str | None) -> tuple[str, int] | None:
    """(question, score) when the customer corrects an earlier answer instead of answering
    `asking`: "à nhầm, 4 sao thôi" (CSAT, by its stars), "à nhầm, câu dễ dàng ấy 5 thôi" (CES),
    "nhầm, 4 thôi" (the `previous` question)."""
    folded = fold(expand_text(text or ""))
    if not _CORRECTING.search(folded):
        return None
    target = next((question for question, cue in _CUES.items() if cue.search(folded)), previous)
    if target is None or target == asking:
        return None
    meant = re.split(r"\b(?:chu|khong phai)\b", folded, maxsplit=1)[0]
    for candidate in (text, meant if meant.strip() else text):
        score = parse_score(target, candidate)
        if isinstance(score, int):
            return target, score
    return None
