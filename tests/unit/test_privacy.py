"""Masking of personal data in exported text, and keyed pseudonyms for ids."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

import pytest

from vietcx import privacy
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


def test_ids_become_stable_pseudonyms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIETCX_PSEUDONYM_SECRET", "khoá thử nghiệm")
    assert mask_id("zalo-123") == mask_id("zalo-123") != mask_id("zalo-124")
    assert "zalo-123" not in mask_id("zalo-123")
    assert mask_text(None) is None and mask_id("") == ""


def test_pseudonyms_are_keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nobody without the key can hash a guessed phone number to find the customer's pseudonym."""
    monkeypatch.setenv("VIETCX_PSEUDONYM_SECRET", "khoá thứ nhất")
    first = mask_id("0912345678")
    plain = hashlib.sha256(b"0912345678").hexdigest()
    assert first.removeprefix("id-") not in plain
    expected = hmac.new("khoá thứ nhất".encode(), b"0912345678", hashlib.sha256).hexdigest()
    assert first == "id-" + expected[:16]
    monkeypatch.setenv("VIETCX_PSEUDONYM_SECRET", "khoá thứ hai")
    assert mask_id("0912345678") != first
    monkeypatch.setenv("VIETCX_PSEUDONYM_SECRET", "khoá thứ nhất")
    assert mask_id("0912345678") == first  # the same key, the same pseudonym in every export


def test_without_the_variable_a_private_key_file_is_made_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIETCX_PSEUDONYM_SECRET", raising=False)
    monkeypatch.setattr(privacy, "PSEUDONYM_FILE", tmp_path / "var" / "pseudonym-secret")
    first = mask_id("zalo-123")
    key = privacy.PSEUDONYM_FILE.read_text(encoding="utf-8")
    assert len(key) == 64 and stat.S_IMODE(privacy.PSEUDONYM_FILE.stat().st_mode) == 0o600
    assert (
        mask_id("zalo-123")
        == first
        == "id-" + hmac.new(key.encode(), b"zalo-123", hashlib.sha256).hexdigest()[:16]
    )
    monkeypatch.setattr(privacy, "PSEUDONYM_FILE", tmp_path / "another-secret")
    assert mask_id("zalo-123") != first
