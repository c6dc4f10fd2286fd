"""Typed survey answers read as scores, skips, or unreadable."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from vietcx.survey_answers import SKIP, asks_about_scale, correction, parse_score

CASES = Path(__file__).parent / "data" / "survey_answers.tsv"


def cases() -> list[dict[str, str]]:
    with open(CASES, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


@pytest.mark.parametrize("case", cases(), ids=lambda c: f"{c['question']}:{c['text']}")
def test_answers(case: dict[str, str]) -> None:
    expected = {"skip": SKIP, "none": None}.get(case["expected"], case["expected"])
    expected = int(expected) if isinstance(expected, str) and expected.isdigit() else expected
    assert parse_score(case["question"], case["text"]) == expected


def test_there_are_enough_varied_cases() -> None:
    rows = cases()
    assert len(rows) >= 40
    assert {r["question"] for r in rows} == {"csat", "ces"}
    assert sum(r["text"].isascii() and r["text"].isalpha() for r in rows) >= 5  # typed without diacritics


@pytest.mark.parametrize(
    "text", ["", "   ", "<script>alert(1)</script>", "a" * 10_000, "🙃" * 50, "đơn 123456 sao chưa giao"]
)
def test_hostile_answers_do_not_break_the_parser(text: str) -> None:
    assert parse_score("csat", text) in (None, SKIP, 1, 2, 3, 4, 5)


@pytest.mark.parametrize(
    ("text", "asking", "previous", "expected"),
    [
        ("à nhầm, 4 sao thôi", "ces", "csat", ("csat", 4)),
        ("à nhầm, câu dễ dàng ấy 5 thôi", None, "ces", ("ces", 5)),
        ("nham, 3 thoi", "ces", "csat", ("csat", 3)),
        ("sửa lại hài lòng 5", "ces", "csat", ("csat", 5)),
        ("4 sao", "ces", "csat", None),  # an answer, not a correction
        ("nhầm rồi", "ces", "csat", None),  # no new score: nothing to correct
        ("à nhầm, 9 sao", "ces", "csat", None),  # off the scale
        ("nhầm, 4 thôi", "csat", None, None),  # nothing answered before
        ("ý mình là hài lòng thôi chứ ko phải rất hài lòng", "ces", "csat", ("csat", 4)),
    ],
)
def test_corrections_of_an_earlier_answer(
    text: str, asking: str | None, previous: str | None, expected: tuple[str, int] | None
) -> None:
    assert correction(text, asking, previous) == expected


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("5 là cao nhất hả em?", True),
        ("5 la cao nhat ha em", True),
        ("7 là dễ hay khó vậy", True),
        ("5 sao là tốt nhất ạ", False),  # an answer with praise
        ("5", False),
        ("rất dễ", False),
    ],
)
def test_a_question_about_the_scale_is_not_a_score(text: str, asks: bool) -> None:
    assert asks_about_scale(text) is asks


def test_the_ces_wording_between_easy_and_neutral() -> None:
    assert [parse_score("ces", t) for t in ["hơi dễ", "hoi de", "khá dễ dàng", "không dễ lắm"]] == [5, 5, 5, 3]
