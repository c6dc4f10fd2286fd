"""Vietnamese phone numbers as customers type them for a call back: accepted forms, refused ones."""

from __future__ import annotations

import pytest

from vietcx.phones import display, normalize


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("84912345678", "0912345678"),
        ("số em là 0387-123-456 nhé", "0387123456"),
        ("0562 111 222", "0562111222"),
        ("0701234567", "0701234567"),
        ("0812345678", "0812345678"),
        ("024 3825 1234", "02438251234"),
        ("+84 24 3825 1234", "02438251234"),
        ("(028) 3823 4567", "02838234567"),
    ],
)
def test_accepted_numbers(text: str, number: str) -> None:
    assert normalize(text) == number


@pytest.mark.parametrize(
    "text",
    [
        "",
        "không có số",
        "0123456789",  # 01x is no longer a Vietnamese prefix
        "0612345678",  # no 06x mobiles
        "091234567",  # a digit short
        "09123456789",  # a digit too many
        "0243825123",  # a landline a digit short
        "+1 912 345 678",
        "12345",
        "0912abc345",
    ],
)
def test_refused_numbers(text: str) -> None:
    assert normalize(text) is None


def test_display_groups_the_digits_as_read_aloud() -> None:
    assert display("0912345678") == "0912 345 678"
    assert display("02438251234") == "024 3825 1234"
