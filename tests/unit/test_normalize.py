"""Normalisation helpers shared by every component."""

from __future__ import annotations

import unicodedata

import pytest

from vietcx.normalize import expand_text, fold, load_shorthand, nfc_with_offsets, strip_diacritics


@pytest.mark.parametrize(
    "text, stripped",
    [("Đổi trả sản phẩm", "Doi tra san pham"), ("ĐƯỢC", "DUOC"), ("Nguyễn Thị Ngọc", "Nguyen Thi Ngoc"),
     ("không có gì ạ", "khong co gi a"), ("abc 123 😀", "abc 123 😀")],
)  # fmt: skip
def test_strip_diacritics_keeps_length(text: str, stripped: str) -> None:
    assert strip_diacritics(text) == stripped
    assert len(strip_diacritics(text)) == len(text)


def test_fold_is_the_comparison_key() -> None:
    assert fold("Tôi MUỐN") == fold("toi muon") == fold(unicodedata.normalize("NFD", "tôi muốn"))


def test_nfc_offsets_map_back_to_the_original() -> None:
    original = unicodedata.normalize("NFD", "Ngọc ơi")
    nfc, offsets = nfc_with_offsets(original)
    assert nfc == "Ngọc ơi"
    assert len(offsets) == len(nfc) + 1
    assert original[offsets[0] : offsets[4]] == unicodedata.normalize("NFD", "Ngọc")
    assert offsets[-1] == len(original)


def test_shorthand_file_loads_and_rejects_conflicts(tmp_path) -> None:
    lexicon = load_shorthand()
    assert lexicon["ko"] == "không" and lexicon["dc"] == "được" and lexicon["sp"] == "sản phẩm"
    bad = tmp_path / "bad.yml"
    bad.write_text("không: [k]\nkhông biết: [k]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'k'"):
        load_shorthand(str(bad))


def test_shorthand_decided_by_its_neighbours() -> None:
    """ "bh" is bảo hành beside "bao lâu", bây giờ beside "thì sao", and left alone otherwise."""
    assert expand_text("laptop mua bên mình bh bao lâu, bh ở đâu vậy") == (
        "laptop mua bên mình bảo hành bao lâu, bảo hành ở đâu vậy"
    )
    assert expand_text("tivi LG ben em bh may nam") == "tivi LG ben em bảo hành may nam"
    assert expand_text("bh thì sao shop") == "bây giờ thì sao shop"
    assert expand_text("bh") == "bh"
