"""Waiting for staff without silence: staff hours counted, the call-back offer, the number asked
for and stored on the escalation (actions against a real SQLite file; the FAQ answers while waiting
are tested end to end in tests/e2e/test_waiting_for_staff.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import update

from actions import waiting
from actions.waiting import ActionCallbackNoted, ActionWhileWaiting, ValidateCallbackForm, choice
from vietcx import callbacks
from vietcx.dialogue.handoff_policy import taken_by_staff
from vietcx.names import make_name
from vietcx.staff_hours import StaffHours
from vietcx.store import escalations, outbox, profiles
from vietcx.store.db import engine
from vietcx.store.db import escalations as table

HCM = timezone(timedelta(hours=7))


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    url = f"sqlite:///{tmp_path / 'vietcx.db'}"
    monkeypatch.setenv("VIETCX_DATABASE_URL", url)
    monkeypatch.setenv("VIETCX_STAFF_HOURS", "00:00-24:00")
    return engine(url)


@pytest.fixture(autouse=True)
def no_faq(monkeypatch: pytest.MonkeyPatch) -> None:
    """The knowledge base knows none of these messages (its search is tested elsewhere)."""
    monkeypatch.setattr(waiting, "confident_answer", lambda *args, **kwargs: None)


def tracker(sender: str, text: str, **slots: object) -> Tracker:
    base = {"customer_address": "chị Ngọc", "customer_honorific": "chị", "handoff": True}
    return Tracker(
        sender,
        {**base, **slots},
        {"text": text, "intent": {"name": "faq"}},
        [],
        False,
        None,
        {},
        "action_listen",
    )


def waiting_since(sender: str, minutes: float, db) -> dict:  # noqa: ANN001
    row, _ = escalations.open_escalation(sender, "zalo", "z-1", "Ngọc", "customer_request", db=db)
    with db.begin() as connection:
        created = datetime.now(timezone.utc) - timedelta(minutes=minutes)
        connection.execute(update(table).where(table.c.id == row["id"]).values(created_at=created))
    return row


def run(action, sender: str, text: str, **slots: object) -> tuple[list[dict], list[dict]]:  # noqa: ANN001
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker(sender, text, **slots), {}))
    return dispatcher.messages, events


def slot(events: list[dict], name: str) -> object:
    return next(e["value"] for e in events if e.get("event") == "slot" and e["name"] == name)


def test_only_staff_hours_count() -> None:
    hours = StaffHours.parse("08:00-21:00")
    evening = datetime(2026, 11, 25, 20, 55, tzinfo=HCM)
    assert hours.minutes_open_between(evening, datetime(2026, 11, 26, 8, 5, tzinfo=HCM)) == pytest.approx(10)
    assert hours.minutes_open_between(evening, evening + timedelta(minutes=3)) == pytest.approx(3)
    night = datetime(2026, 11, 25, 22, 0, tzinfo=HCM)
    assert hours.minutes_open_between(night, night + timedelta(hours=9)) == 0
    assert hours.minutes_open_between(night, night - timedelta(hours=1)) == 0
    always = StaffHours.parse("00:00-24:00")
    assert always.minutes_open_between(night, night + timedelta(days=2)) == pytest.approx(2 * 24 * 60)


@pytest.mark.parametrize(
    ("text", "chosen"),
    [
        ("Gọi lại cho tôi", "callback"),
        ("goi lai cho minh nhe", "callback"),
        ("gọi điện cho em đi", "callback"),
        ("Tiếp tục với trợ lý ảo", "assistant"),
        ("tiep tuc voi bot", "assistant"),
        ("alo", None),
    ],
)
def test_answers_to_the_offer_typed_or_clicked(text: str, chosen: str | None) -> None:
    assert choice(text) == chosen


def test_a_holding_line_once_then_the_offer_after_the_wait(db, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("VIETCX_CALLBACK_AFTER_MINUTES", "10")
    waiting_since("s-wait", 2, db)
    messages, events = run(ActionWhileWaiting(), "s-wait", "alo có ai không")
    assert [m["response"] for m in messages] == ["utter_waiting_hold"] and slot(
        events, "waiting_state"
    ) == "held"
    messages, events = run(ActionWhileWaiting(), "s-wait", "alo", waiting_state="held")
    assert messages == [] and events == []  # said once is enough

    waiting_since("s-long", 11, db)
    messages, events = run(ActionWhileWaiting(), "s-long", "sao lâu vậy", waiting_state="held")
    assert [m["response"] for m in messages] == ["utter_callback_offer"]
    assert slot(events, "waiting_state") == "offered"


def test_the_offer_answered(db) -> None:  # noqa: ANN001
    waiting_since("s-offer", 20, db)
    _, events = run(ActionWhileWaiting(), "s-offer", "Gọi lại cho tôi", waiting_state="offered")
    assert slot(events, "waiting_state") == "callback"
    assert {"event": "followup", "timestamp": None, "name": "callback_form"} in events
    messages, events = run(ActionWhileWaiting(), "s-offer", "tiếp tục với trợ lý", waiting_state="offered")
    assert [m["response"] for m in messages] == ["utter_continue_with_assistant"]
    assert slot(events, "waiting_state") == "assistant"


def test_the_number_is_checked_then_stored_on_the_escalation(db) -> None:  # noqa: ANN001
    row = waiting_since("s-phone", 20, db)
    form, dispatcher = ValidateCallbackForm(), CollectingDispatcher()
    wrong = asyncio.run(form.validate_callback_phone("0123", dispatcher, tracker("s-phone", "0123"), {}))
    assert wrong == {"callback_phone": None}
    assert [m["response"] for m in dispatcher.messages] == ["utter_callback_phone_invalid"]
    right = asyncio.run(
        form.validate_callback_phone("+84 912.345.678", dispatcher, tracker("s-phone", ""), {})
    )
    assert right == {"callback_phone": "0912345678"}
    given_up = asyncio.run(form.validate_callback_phone("thôi khỏi", dispatcher, tracker("s-phone", ""), {}))
    assert given_up == {"callback_phone": None, "waiting_state": "declined"}

    messages, _ = run(
        ActionCallbackNoted(), "s-phone", "", callback_phone="0912345678", waiting_state="callback"
    )
    assert messages[0]["response"] == "utter_callback_noted" and messages[0]["phone"] == "0912 345 678"
    stored = escalations.get(row["id"], db)
    assert stored["callback_phone"] == "0912345678" and stored["callback_requested_at"] is not None


def test_silence_once_a_staff_member_took_it(db) -> None:  # noqa: ANN001
    row = waiting_since("s-taken", 1, db)
    assert not taken_by_staff("s-taken")
    escalations.assign(row["id"], "lan", db)
    assert taken_by_staff("s-taken")
    assert taken_by_staff("s-nobody")  # nothing to wait for: staff answer, as before


def test_a_customer_who_writes_nothing_more_gets_the_offer_once_through_the_outbox(
    db,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIETCX_CALLBACK_AFTER_MINUTES", "10")
    profiles.save_name("zalo", "z-1", make_name(["Trần", "Thị", "Ngọc"]), source="customer", db=db)
    late = waiting_since("s-quiet", 11, db)
    waiting_since("s-recent", 3, db)
    assert callbacks.offer_due(db) == 1
    assert callbacks.offer_due(db) == 0  # once
    [queued] = outbox.pending("s-quiet", db=db)
    assert "chị Ngọc đã phải chờ lâu" in queued["text"] and queued["escalation_id"] == late["id"]
    assert [b["payload"] for b in queued["buttons"]] == ["Gọi lại cho tôi", "Tiếp tục với trợ lý ảo"]
    assert outbox.pending("s-recent", db=db) == []
    # the customer answers the offer they got from the outbox
    _, events = run(ActionWhileWaiting(), "s-quiet", "goi lai cho minh", waiting_state="held")
    assert slot(events, "waiting_state") == "callback"


def test_asking_for_a_person_again_is_not_a_faq_question(db, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """The FAQ knows how to reach staff; a waiting customer who asks again needs no such answer."""
    asked: list[str] = []
    monkeypatch.setattr(waiting, "confident_answer", lambda _d, text, *a, **k: asked.append(text))
    waiting_since("s-again", 1, db)
    again = Tracker(
        "s-again", {"handoff": True, "waiting_state": "held"},
        {"text": "cho gặp nhân viên", "intent": {"name": "request_human"}}, [], False, None, {}, "action_listen",
    )  # fmt: skip
    dispatcher = CollectingDispatcher()
    assert asyncio.run(ActionWhileWaiting().run(dispatcher, again, {})) == []
    assert asked == [] and dispatcher.messages == []
