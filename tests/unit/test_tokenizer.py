"""The Vietnamese tokenizer: exact offsets, word segmentation, shorthand, hostile input."""

from __future__ import annotations

import time
import unicodedata

import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.message import Message

from vietcx.nlu.tokenizer import NORM, VietnameseTokenizer

SAMPLE = [
    "tôi muốn đổi trả sản phẩm",
    "toi muon doi tra san pham",
    "Sản phẩm này có bảo hành ko ạ? https://saomai.vn/bao-hanh?id=12 😡😡",
    "giá 1.500.000đ, ship 2-3 ngày nha ad",
    "iPhone 15 Pro Max còn hàng k shop",
    "Mình tên là Nguyễn Văn An, sđt 0912 345 678, email an.nguyen@gmail.com",
    "<script>alert('x')</script>",
    "ok   \t  nhé\n\ncảm ơn",
    "👍🏻👍🏻 tuyệt vời!!!",
    unicodedata.normalize("NFD", "Tôi muốn gặp nhân viên"),
]


@pytest.fixture(scope="module")
def tokenizer() -> VietnameseTokenizer:
    return VietnameseTokenizer(VietnameseTokenizer.get_default_config())


def tokens_of(tokenizer: VietnameseTokenizer, text: str) -> list:
    return tokenizer.tokenize(Message(data={TEXT: text}), TEXT)


@pytest.mark.parametrize("text", SAMPLE)
def test_offsets_point_into_the_original_text(tokenizer: VietnameseTokenizer, text: str) -> None:
    tokens = tokens_of(tokenizer, text)
    assert tokens
    previous_end = 0
    for token in tokens:
        assert text[token.start : token.end] == token.text
        assert token.start >= previous_end  # ordered, never overlapping
        previous_end = token.end


def test_multi_syllable_words_are_one_token(tokenizer: VietnameseTokenizer) -> None:
    words = [t.text for t in tokens_of(tokenizer, "tôi muốn đổi trả sản phẩm bảo hành")]
    assert "sản phẩm" in words
    assert "bảo hành" in words


def test_lemmas_fold_diacritics_and_carry_syllables(tokenizer: VietnameseTokenizer) -> None:
    token = next(t for t in tokens_of(tokenizer, "sản phẩm tốt") if t.text == "sản phẩm")
    assert token.lemma == "san_pham san pham"


@pytest.mark.parametrize(
    "short, full",
    [("ko", "không"), ("k", "không"), ("hok", "không"), ("dc", "được"), ("đc", "được"),
     ("sp", "sản phẩm"), ("nv", "nhân viên"), ("tks", "cảm ơn"), ("ship", "giao hàng"), ("ad", "admin")],
)  # fmt: skip
def test_shorthand_is_expanded(tokenizer: VietnameseTokenizer, short: str, full: str) -> None:
    tokens = tokens_of(tokenizer, f"xem {short} giúp mình")
    assert full in " ".join(t.get(NORM) for t in tokens)
    assert any(short in t.text.split() for t in tokens)


def test_typed_without_diacritics_shares_the_lemmas(tokenizer: VietnameseTokenizer) -> None:
    def syllables(text: str) -> set[str]:
        return {part for t in tokens_of(tokenizer, text) for part in t.lemma.split() if "_" not in part}

    assert syllables("tôi muốn đổi trả sản phẩm") == syllables("toi muon doi tra sp")


def test_decomposed_accents_keep_exact_offsets(tokenizer: VietnameseTokenizer) -> None:
    text = unicodedata.normalize("NFD", "chào chị Ngọc")
    tokens = tokens_of(tokenizer, text)
    assert [unicodedata.normalize("NFC", t.text) for t in tokens] == ["chào", "chị", "Ngọc"]
    assert tokens[-1].end == len(text)


@pytest.mark.parametrize("text", ["", "   ", "\n", "?!...", "\u200b"])
def test_empty_or_punctuation_only_gives_no_tokens(tokenizer: VietnameseTokenizer, text: str) -> None:
    assert tokens_of(tokenizer, text) == []


def test_emoji_urls_and_numbers_are_kept(tokenizer: VietnameseTokenizer) -> None:
    words = [t.text for t in tokens_of(tokenizer, "😡 xem https://saomai.vn/a?b=1 giá 1.500.000đ")]
    assert words[0] == "😡"
    assert "https://saomai.vn/a?b=1" in words
    assert "1.500.000đ" in words


def test_ten_thousand_characters(tokenizer: VietnameseTokenizer) -> None:
    text = ("tôi muốn hỏi về sản phẩm này 😀 " * 400)[:10_000]
    started = time.monotonic()
    tokens = tokens_of(tokenizer, text)
    assert len(tokens) > 1000
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert time.monotonic() - started < 5


def test_entities_align_with_tokens(tokenizer: VietnameseTokenizer) -> None:
    examples = [
        "cho mình hỏi [sản phẩm](product) này còn bảo hành không",
        "đơn hàng [DH123456](order_id) của tôi đâu rồi",
        "tôi ở [Hà Nội](city), ship mấy ngày",
        "toi o [ha noi](city) ship may ngay",
        "mua [2](quantity) cái [nồi cơm điện](product) được giảm không",
    ]
    lines = "".join(f"    - {example}\n" for example in examples)
    data = RasaYAMLReader().reads(f"version: '3.1'\nnlu:\n- intent: ask\n  examples: |\n{lines}")
    tokenizer.process_training_data(data)
    for message in data.training_examples:
        tokens = message.get(TOKENS_NAMES[TEXT])
        starts, ends = {t.start for t in tokens}, {t.end for t in tokens}
        for entity in message.get("entities"):
            assert entity["start"] in starts and entity["end"] in ends, (message.get(TEXT), entity)
