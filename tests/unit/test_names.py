"""Reading a Vietnamese name from a customer's answer, and addressing them by it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from vietcx.names import NEUTRAL, make_name, name_from_profile, name_in_passing, parse_name_answer

CASES = Path(__file__).parent / "data" / "name_answers.tsv"


def load_cases() -> list[dict[str, str]]:
    with open(CASES, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


@pytest.mark.parametrize("case", load_cases(), ids=lambda c: c["text"])
def test_name_answers(case: dict[str, str]) -> None:
    answer = parse_name_answer(case["text"])
    assert answer.declined == (case["declined"] == "yes")
    if case["given"]:
        assert answer.name is not None
        assert (answer.name.given, answer.name.full, answer.name.honorific) == (
            case["given"],
            case["full"],
            case["honorific"],
        )
    else:
        assert answer.name is None


def test_the_case_file_is_varied() -> None:
    cases = load_cases()
    assert len(cases) >= 30
    assert sum(1 for c in cases if c["given"] and c["text"].isascii()) >= 10  # typed without diacritics
    assert sum(1 for c in cases if not c["given"]) >= 10  # no name in the sentence


def test_address_uses_the_given_name_never_the_family_name() -> None:
    name = make_name(["Nguyễn", "Văn", "An"])
    assert name.address == "anh An"
    assert make_name(["Trần", "Thị", "Ngọc"]).address == "chị Ngọc"
    assert make_name(["Minh"]).address == f"{NEUTRAL} Minh"


@pytest.mark.parametrize(
    "profile, address",
    [("Trần Thị Ngọc", "chị Ngọc"), ("Ngọc Trần", "anh/chị Ngọc"), ("Lê Văn Tám 🌸", "anh Tám"),
     ("nguyen van an", "anh An"), ("John Smith", "anh/chị Smith"), ("", None), ("🌸🌸", None),
     ("<b>Lan</b>", None), ("a" * 300, None), ("https://fb.com/lan", None)],
)  # fmt: skip
def test_profile_names(profile: str, address: str | None) -> None:
    """A name the shop's backend sent is taken as it is (platform names: test_platform_names.py)."""
    name = name_from_profile(profile, vouched=True)
    assert (name.address if name else None) == address


def test_hostile_answers_do_not_crash() -> None:
    for text in ["", "   ", "😀", "<script>alert(1)</script>", "a" * 10_000, "1234567890"]:
        parse_name_answer(text)


def test_a_name_signed_before_a_question_is_taken_and_the_question_kept() -> None:
    name, rest = name_in_passing("Dũng đây, cho anh hỏi giao máy lạnh ra Vũng Tàu mất mấy hôm")
    assert name is not None and name.address == "anh Dũng"
    assert rest == "cho anh hỏi giao máy lạnh ra Vũng Tàu mất mấy hôm"
    assert name_in_passing("hàng đây, phí ship sao")[0] is None  # not written as a name
    assert name_in_passing("phí ship bao nhiêu") == (None, "phí ship bao nhiêu")


def test_a_name_typed_without_marks_is_kept_as_typed() -> None:
    name = parse_name_answer("ten minh la tran thi mai").name
    assert name is not None and (name.full, name.address) == ("Tran Thi Mai", "chị Mai")
