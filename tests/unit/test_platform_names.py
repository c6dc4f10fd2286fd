"""Display names from chat platforms (Zalo, Messenger): a customer is greeted by one only when it
reads as a Vietnamese person's name, never by a nickname, a shop or a title."""

from __future__ import annotations

import asyncio
import csv
import unicodedata
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.customer import ActionSessionStart
from vietcx.names import name_from_profile

TABLE = Path(__file__).parent / "data" / "platform_names.tsv"
KNOWN_MISS = "known miss"
MIN_ACCURACY = 0.94  # 173 of the 182 rows when written; the misses are marked in the table


def load_table() -> list[dict[str, str]]:
    with open(TABLE, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def outcome(display_name: str) -> tuple[str, str]:
    """(given name, honorific) as the table writes them, "-" for none."""
    name = name_from_profile(display_name)
    return (name.given, name.honorific) if name else ("-", "-")


def expected(row: dict[str, str]) -> tuple[str, str]:
    return row["expected_given"], row["expected_honorific"]


def as_param(row: dict[str, str]) -> object:
    """A row; the known misses are expected to fail, and must be updated when they no longer do."""
    miss = pytest.mark.xfail(reason=row["note"], strict=True)
    return pytest.param(row, marks=[miss] if row["note"].startswith(KNOWN_MISS) else [])


@pytest.mark.parametrize("row", [as_param(row) for row in load_table()], ids=lambda r: r["display_name"])
def test_platform_name(row: dict[str, str]) -> None:
    assert outcome(row["display_name"]) == expected(row), row["note"]


def test_accuracy_on_the_table() -> None:
    rows = load_table()
    right = sum(outcome(row["display_name"]) == expected(row) for row in rows)
    assert right / len(rows) >= MIN_ACCURACY, f"{right}/{len(rows)} right"


def test_the_table_is_varied() -> None:
    rows = load_table()
    names = [row for row in rows if row["expected_given"] != "-"]
    assert len(rows) >= 80
    assert len(names) >= 30 and len(rows) - len(names) >= 30  # names and not names
    assert sum(1 for row in names if row["display_name"].isascii()) >= 10  # no diacritics
    assert sum(1 for row in rows if "Western order" in row["note"]) >= 10
    assert sum(1 for row in rows if not unicodedata.category(row["display_name"][-1]).startswith("L")) >= 10


@pytest.mark.parametrize(
    "display_name, full",
    [("Ngoc Tran 🌸", "Tran Ngoc"), ("Tuan Van Nguyen", "Nguyen Van Tuan"), ("Lan Anh Nguyễn", "Nguyễn Lan Anh"),
     ("nguyen thi lan", "Nguyen Thi Lan"), ("Nguyễn Thị Hoà", "Nguyễn Thị Hoà"),
     (unicodedata.normalize("NFD", "Trần Thị Ngọc"), "Trần Thị Ngọc"), ("𝓝𝓰𝓸𝓬 𝓣𝓻𝓪𝓷", "Tran Ngoc")],
)  # fmt: skip
def test_full_name_in_vietnamese_order(display_name: str, full: str) -> None:
    name = name_from_profile(display_name)
    assert name is not None and name.full == full


def test_hostile_display_names_give_none() -> None:
    for display_name in ["", "   ", "😀" * 500, "Lan " * 5000, "<b>Lan</b>", "\u0301\u0301", "ℕ𝕘𝕠𝕔 ①"]:
        assert name_from_profile(display_name) is None


def test_a_name_the_shop_sent_is_taken_as_it_is_unless_a_nickname_or_title() -> None:
    assert name_from_profile("Hoàng Thị Mơ Mộng") is None  # not every word a listed name
    vouched = name_from_profile("Hoàng Thị Mơ Mộng", vouched=True)
    assert vouched is not None and vouched.address == "chị Mộng"
    for nickname in ["Bé Bông 🌸", "Mr Bean", "Sếp Tùng", "út nhỏ"]:
        assert name_from_profile(nickname, vouched=True) is None, nickname


def start_session(channel: str, display_name: str) -> dict[str, object]:
    """The slots ActionSessionStart sets for a first conversation with this profile name."""
    metadata = {"channel": channel, "customer": {"id": f"{channel}-1", "name": display_name}}
    tracker = Tracker("s1", {"session_started_metadata": metadata}, {}, [], False, None, {}, "action_listen")
    domain = {"session_config": {"carry_over_slots_to_new_session": False}}
    events = asyncio.run(ActionSessionStart().run(CollectingDispatcher(), tracker, domain))
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}


@pytest.mark.parametrize(
    "channel, display_name, address",
    [("zalo", "Bé Bông 🌸", "anh/chị"), ("messenger", "Tuấn Nguyễn", "anh Tuấn"),
     ("web", "Bé Bông 🌸", "anh/chị"), ("web", "Mr Bean", "anh/chị"), ("web", "Lê Minh Tuấn", "anh Tuấn"), ("rest", "John Smith", "anh/chị Smith")],
)  # fmt: skip
def test_session_start_is_strict_only_with_platform_names(
    channel: str, display_name: str, address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIETCX_DATABASE_URL", f"sqlite:///{tmp_path / 'profiles.db'}")
    assert start_session(channel, display_name)["customer_address"] == address
