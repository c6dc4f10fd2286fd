"""The held-out sets in bench/data share no text with what the assistant is trained on.

A held-out line that is also a training example (once diacritics, case, spacing and the
punctuation at its ends are ignored) measures memory, not generalisation. Training texts are the
NLU examples (data/nlu/*.yml, entity annotations removed), the knowledge base's questions (the
`faq` intent's examples and the FAQ search index, the questions only staff can answer) and the
sentiment classifier's data.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import cache
from pathlib import Path

import pytest
import yaml

from vietcx.kb.loader import load, load_for_staff
from vietcx.normalize import fold
from vietcx.settings import PROJECT

BENCH_DATA = PROJECT / "bench" / "data"
# [text](entity), [text]{"entity": ..., "value": ...} and [text][...] keep only `text`
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\}|\[[^\]]*\])")
# customer turns shorter than this ("ok", "5", "có") are legitimately in both
MIN_DIALOGUE_WORDS = 4


def key(text: str) -> str:
    """Comparison key: folded (NFC, lower case, no diacritics), one space between words, no
    punctuation at either end."""
    chars = list(" ".join(fold(text).split()))
    while chars and _at_edge(chars[0]):
        chars.pop(0)
    while chars and _at_edge(chars[-1]):
        chars.pop()
    return "".join(chars)


def _at_edge(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith("P")


def tsv_column(path: Path, column: str) -> list[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        assert reader.fieldnames and column in reader.fieldnames, f"{path}: no column '{column}'"
        return [row[column].strip() for row in reader if (row[column] or "").strip()]


def nlu_examples() -> list[str]:
    texts = []
    for path in sorted((PROJECT / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.append(_ANNOTATION.sub(r"\1", line[2:]))
    return texts


@cache
def training_keys() -> dict[str, str]:
    """{comparison key: where the training text comes from}."""
    sources = {
        "data/nlu/*.yml": nlu_examples(),
        "data/kb/faq.yml": [q for topic in load(PROJECT / "data" / "kb" / "faq.yml") for q in topic.examples],
        "data/kb/for_staff.yml": load_for_staff(PROJECT / "data" / "kb" / "for_staff.yml"),
        **{
            f"data/sentiment/{path.name}": tsv_column(path, "text")
            for path in sorted((PROJECT / "data" / "sentiment").glob("*.tsv"))
        },
    }
    keys: dict[str, str] = {}
    for source, texts in sources.items():
        assert texts, f"no training texts read from {source}"
        for text in texts:
            keys.setdefault(key(text), source)
    return keys


def dialogue_turns(path: Path) -> list[str]:
    conversations = yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]
    turns = [str(turn["user"]) for c in conversations for turn in c["turns"] if "user" in turn]
    return [t for t in turns if len(t.split()) >= MIN_DIALOGUE_WORDS]


HELD_OUT = {
    "nlu_heldout.tsv": lambda p: tsv_column(p, "text"),
    "faq_heldout.tsv": lambda p: tsv_column(p, "question"),
    "sentiment_heldout.tsv": lambda p: tsv_column(p, "text"),
    "sentiment_reviews_heldout.tsv": lambda p: tsv_column(p, "text"),
    "dialogues_heldout.yml": dialogue_turns,
    "dialogues_heldout_2.yml": dialogue_turns,
    "dialogues_heldout_3.yml": dialogue_turns,
}


def test_the_key_ignores_diacritics_case_spacing_and_end_punctuation() -> None:
    assert key("  Ship mất  bao lâu vậy shop? ") == "ship mat bao lau vay shop"
    assert key("...Đúng rồi!!") == key("dung roi") == "dung roi"
    assert key("Đổi trả được không, shop!!") == "doi tra duoc khong, shop"
    assert key("chào shop 😊") != key("chào shop")  # an emoji is not punctuation


def test_annotations_are_read_as_plain_text() -> None:
    assert _ANNOTATION.sub(r"\1", "tên mình là [Nguyễn Văn An](person)") == "tên mình là Nguyễn Văn An"
    assert _ANNOTATION.sub(r"\1", 'mình là [Hoa]{"entity": "person"} nhé') == "mình là Hoa nhé"


def test_every_held_out_file_is_checked() -> None:
    assert sorted(HELD_OUT) == sorted(p.name for p in BENCH_DATA.iterdir() if p.suffix in {".tsv", ".yml"})


@pytest.mark.parametrize("name", sorted(HELD_OUT))
def test_held_out_texts_are_not_training_texts(name: str) -> None:
    texts = HELD_OUT[name](BENCH_DATA / name)
    assert texts, f"bench/data/{name}: nothing read"
    trained = training_keys()
    shared = [f"  {text!r} (in {trained[key(text)]})" for text in texts if key(text) in trained]
    assert not shared, (
        f"bench/data/{name}: {len(shared)} of {len(texts)} held-out lines are training texts:\n"
        + "\n".join(shared)
    )
