"""Escalations on a real SQLite file; staff hours; the hand-over message."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import update

from actions import handoff
from actions.handoff import hand_over
from vietcx.staff_hours import StaffHours
from vietcx.store import escalations
from vietcx.store.db import engine
from vietcx.store.db import escalations as table

HCM = timezone(timedelta(hours=7))


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    url = f"sqlite:///{tmp_path / 'vietcx.db'}"
    monkeypatch.setenv("VIETCX_DATABASE_URL", url)
    return engine(url)


def test_one_unresolved_escalation_per_conversation(db) -> None:  # noqa: ANN001
    first, opened = escalations.open_escalation("s1", "web", "c1", "Ngọc", "customer_request", db=db)
    again, opened_again = escalations.open_escalation("s1", "web", "c1", "Ngọc", "faq_fallback", db=db)
    assert (
        opened and not opened_again and again["id"] == first["id"] and again["reason"] == "customer_request"
    )
    escalations.assign(first["id"], "lan", db)
    escalations.resolve(first["id"], "lan", db)
    with pytest.raises(escalations.EscalationError):
        escalations.resolve(first["id"], "lan", db)
    later, opened_later = escalations.open_escalation("s1", "web", "c1", "Ngọc", "faq_fallback", db=db)
    assert opened_later and later["id"] != first["id"]
    assert escalations.counts(db=db) == {"open": 1, "assigned": 0, "resolved": 1}


def test_two_writers_at_once_still_open_one(db) -> None:  # noqa: ANN001
    results: list[dict] = []

    def open_one() -> None:
        results.append(escalations.open_escalation("s2", "web", None, None, "customer_request", db=db)[0])

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({r["id"] for r in results}) == 1
    assert escalations.counts(db=db)["open"] == 1


def test_the_wait_estimate_follows_how_fast_staff_picked_up_lately(db) -> None:  # noqa: ANN001
    assert (
        escalations.estimated_wait_minutes(
            escalations.open_escalation("a", "web", None, None, "customer_request", db=db)[0]["id"], 5, db
        )
        == 5
    )  # no history: the configured default
    now = datetime.now(timezone.utc)
    for number, minutes in enumerate([2, 4, 12]):
        row = escalations.open_escalation(f"h{number}", "web", None, None, "customer_request", db=db)[0]
        with db.begin() as connection:
            connection.execute(
                update(table)
                .where(table.c.id == row["id"])
                .values(
                    status="resolved",
                    created_at=now - timedelta(minutes=30),
                    assigned_at=now - timedelta(minutes=30 - minutes),
                )  # fmt: skip
            )
    waiting = escalations.open_escalation("b", "web", None, None, "customer_request", db=db)[0]
    assert escalations.estimated_wait_minutes(waiting["id"], 5, db) == 4 * 2  # median 4 min, one ahead


def test_staff_hours() -> None:
    hours = StaffHours.parse("08:00-21:00")
    assert hours.is_open(datetime(2026, 11, 25, 9, 0, tzinfo=HCM))
    assert not hours.is_open(datetime(2026, 11, 25, 21, 0, tzinfo=HCM))
    assert not hours.is_open(datetime(2026, 11, 25, 23, 30, tzinfo=HCM))
    assert (
        hours.next_opening(datetime(2026, 11, 25, 23, 30, tzinfo=HCM))
        .isoformat()
        .startswith("2026-11-26T08:00")
    )
    assert (
        hours.next_opening(datetime(2026, 11, 26, 6, 0, tzinfo=HCM))
        .isoformat()
        .startswith("2026-11-26T08:00")
    )
    # UTC moments are read in Hanoi time: 03:00 UTC is 10:00 there, 15:00 UTC is 22:00
    assert hours.is_open(datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc))
    assert not hours.is_open(datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc))
    assert StaffHours.parse("00:00-24:00").is_open(datetime(2026, 11, 25, 23, 59, tzinfo=HCM))
    assert hours.label() == "8:00–21:00"
    for bad in ["8-21", "21:00-08:00", "soon"]:
        with pytest.raises(ValueError):
            StaffHours.parse(bad)


def tracker(sender: str, name: str | None = None) -> Tracker:
    slots = {"customer_address": "chị Ngọc" if name else "anh/chị", "customer_honorific": "chị" if name else "anh/chị",
             "customer_name": name, "customer_channel": "zalo", "customer_id": "z-1"}  # fmt: skip
    return Tracker(sender, slots, {"text": "cho gặp nhân viên"}, [], False, None, {}, "action_listen")


def at(moment: datetime) -> type[datetime]:
    """A `datetime` whose now() is `moment`, for the hand-over to read the clock from."""

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):  # noqa: ANN001, ANN206 (datetime's own signature)
            return moment.astimezone(tz)

    return Clock


@pytest.mark.parametrize(
    ("local_time", "opening"),
    [(datetime(2026, 11, 25, 23, 30, tzinfo=HCM), "8:00 sáng mai"), (datetime(2026, 11, 26, 6, 0, tzinfo=HCM), "8:00 sáng nay")],
)  # fmt: skip
def test_after_hours_the_customer_is_told_when_someone_answers(
    db,
    monkeypatch: pytest.MonkeyPatch,
    local_time: datetime,
    opening: str,  # noqa: ANN001
) -> None:
    monkeypatch.setenv("VIETCX_STAFF_HOURS", "08:00-21:00")
    monkeypatch.setattr(handoff, "datetime", at(local_time))
    dispatcher = CollectingDispatcher()
    sender = f"s-night-{local_time.hour}"
    events = hand_over(dispatcher, tracker(sender, "Trần Thị Ngọc"), "customer_request")
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff_after_hours"
    assert message["hours"] == "8:00–21:00" and message["opening"] == opening
    assert {"event": "slot", "timestamp": None, "name": "handoff", "value": True} in events
    row = escalations.current(sender, db)
    assert (row["reason"], row["channel"], row["customer_id"], row["customer_name"]) == (
        "customer_request", "zalo", "z-1", "Trần Thị Ngọc")  # fmt: skip


def test_in_hours_the_customer_gets_a_wait_estimate(db, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("VIETCX_STAFF_HOURS", "00:00-24:00")
    dispatcher = CollectingDispatcher()
    hand_over(dispatcher, tracker("s-day"), "faq_fallback")
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff" and message["minutes"] >= 1


def test_two_staff_taking_at_once_cannot_both_get_it(db) -> None:  # noqa: ANN001
    row = escalations.open_escalation("s4", "web", None, None, "customer_request", db=db)[0]
    escalations.assign(row["id"], "lan", db, held_by=None)
    with pytest.raises(escalations.EscalationError):
        escalations.assign(row["id"], "minh", db, held_by=None)  # saw it unheld, but Lan was faster
    assert escalations.get(row["id"], db)["staff"] == "lan"
    escalations.assign(row["id"], "admin", db, held_by="lan")  # a take-over that knows who held it
    assert escalations.get(row["id"], db)["staff"] == "admin"


def test_engine_follows_the_configured_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("one.db", "two.db"):
        monkeypatch.setenv("VIETCX_DATABASE_URL", f"sqlite:///{tmp_path / name}")
        assert engine().url.database == str(tmp_path / name)
