"""Masking of personal data in exported text."""

from __future__ import annotations

import pytest

from vietcx.privacy import mask_id, mask_text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("gọi mình số 0912345678 nhé", "gọi mình số [số điện thoại] nhé"),
        ("sđt 0912 345 678", "sđt [số điện thoại]"),
        ("+84 912.345.678 ạ", "[số điện thoại] ạ"),
        ("mail an.nguyen@gmail.com", "mail [email]"),
        ("tên tôi là Nguyễn Văn An, rất hài lòng", "tên tôi là [tên], rất hài lòng"),
        ("đơn DH123456 giao 2 ngày", "đơn DH123456 giao 2 ngày"),  # an order number is not a phone
        ("giá 1.500.000đ", "giá 1.500.000đ"),
    ],
)
def test_mask_text(text: str, expected: str) -> None:
    assert mask_text(text) == expected


def test_known_names_are_masked_wherever_they_appear() -> None:
    assert (
        mask_text("chị Ngọc rất vui, Ngọc sẽ quay lại", ["Trần Thị Ngọc", "Ngọc"])
        == "chị [tên] rất vui, [tên] sẽ quay lại"
    )


def test_ids_become_stable_pseudonyms() -> None:
    assert mask_id("zalo-123") == mask_id("zalo-123") != mask_id("zalo-124")
    assert "zalo-123" not in mask_id("zalo-123")
    assert mask_text(None) is None and mask_id("") == ""
