"""Zalo OA end to end: signed webhooks from "Zalo" to the real Rasa and action servers, answers,
profile names and token refreshes through a local fake of Zalo's OA API and OAuth."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import requests
from fake_zalo import FakeZalo, fake_zalo
from sqlalchemy import func, select, update

from harness import Assistant
from vietcx.store import escalations, outbox, staff, tokens
from vietcx.store.db import channel_events, customers, engine, surveys

PASSWORD = "mật khẩu đủ dài 2026"


@pytest.fixture(scope="module")
def zalo(assistant: Assistant) -> Iterator[FakeZalo]:
    port = urlsplit(assistant.env["VIETCX_ZALO_API_URL"]).port
    with fake_zalo(port, assistant.env) as fake:
        yield fake


def new_user() -> str:
    return str(uuid.uuid4().int)[:18]


def text_event(assistant: Assistant, user: str, text: str, **extra: object) -> dict:
    return {
        "app_id": assistant.env["VIETCX_ZALO_APP_ID"],
        "user_id_by_app": "55" + user[:10],
        "event_name": "user_send_text",
        "timestamp": str(int(time.time() * 1000)),
        "sender": {"id": user},
        "recipient": {"id": "579745863508352884"},
        "message": {"msg_id": uuid.uuid4().hex, "text": text},
        **extra,
    }


def post(
    assistant: Assistant, event: dict, secret: str | None = None, signed: bool = True
) -> requests.Response:
    raw = json.dumps(event, ensure_ascii=False).encode()
    key = secret or assistant.env["VIETCX_ZALO_OA_SECRET"]
    headers = {"Content-Type": "application/json"}
    if signed:
        mac = hashlib.sha256(event["app_id"].encode() + raw + event["timestamp"].encode() + key.encode())
        headers["X-ZEvent-Signature"] = "mac=" + mac.hexdigest()
    return requests.post(f"{assistant.url}/webhooks/zalo/webhook", data=raw, headers=headers, timeout=30)


def say(assistant: Assistant, user: str, text: str) -> requests.Response:
    answer = post(assistant, text_event(assistant, user, text))
    assert answer.status_code == 200, answer.text
    return answer


def wait_until(check: Callable[[], object], timeout: float = 60, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def message_with(zalo: FakeZalo, user: str, wanted: str, after: int = 0) -> dict:
    """The first message to `user` (from the `after`-th on) whose text holds `wanted`."""

    def found() -> dict | None:
        return next((m for m in zalo.to(user)[after:] if wanted in (m.get("text") or "")), None)

    return wait_until(found, what=f"{wanted!r} in {zalo.to(user)}")  # type: ignore[return-value]


def buttons_after(zalo: FakeZalo, user: str, question: dict) -> list[dict]:
    """The buttons of a question and of the follow-up messages that carry the rest of them."""
    sent = zalo.to(user)
    start = sent.index(question)
    found = []
    for message in sent[start:]:
        if message is not question and "attachment" not in message:
            break
        found += message.get("attachment", {}).get("payload", {}).get("buttons", [])
    return found


def user_turns(assistant: Assistant, user: str) -> list[dict]:
    return [e for e in assistant.tracker(f"zalo-{user}")["events"] if e["event"] == "user"]


def test_a_message_is_acknowledged_at_once_and_greets_by_the_zalo_name(
    assistant: Assistant, zalo: FakeZalo
) -> None:
    user = new_user()
    zalo.names[user] = "Nguyễn Thị Ngọc"
    started = time.perf_counter()
    say(assistant, user, "xin chào shop")
    assert time.perf_counter() - started < 2.0  # Zalo disables a webhook that takes 2 s
    greeting = message_with(zalo, user, "Ngọc")
    assert "chị Ngọc" in greeting["text"] and "Nguyễn" not in greeting["text"]
    say(assistant, user, "phí ship bao nhiêu vậy")
    wait_until(lambda: len(user_turns(assistant, user)) == 2, what="the second turn")
    assert zalo.profile_calls.count(user) == 1  # asked once, kept with the profile
    [turn, _] = user_turns(assistant, user)
    assert turn["input_channel"] == "zalo" and turn["text"] == "xin chào shop"


def test_a_nickname_is_not_taken_for_a_name(assistant: Assistant, zalo: FakeZalo) -> None:
    user = new_user()
    zalo.names[user] = "Bé Bông 🌸"
    say(assistant, user, "chào shop")
    asked = message_with(zalo, user, "xưng hô")
    assert "Bông" not in asked["text"]


def test_forged_unsigned_stale_or_foreign_webhooks_are_refused_and_not_stored(
    assistant: Assistant, zalo: FakeZalo
) -> None:
    user = new_user()
    event = text_event(assistant, user, "xin chào")
    assert post(assistant, event, signed=False).status_code == 401
    assert post(assistant, event, secret="guessed-secret").status_code == 401
    stale = {**event, "timestamp": str(int((time.time() - 14 * 3600) * 1000))}
    assert post(assistant, stale).status_code == 403
    foreign = {**event, "app_id": "1234567890"}
    assert post(assistant, foreign).status_code == 403
    time.sleep(2)
    assert zalo.to(user) == [] and user_turns(assistant, user) == []
    with engine(assistant.database_url).connect() as connection:
        stored = connection.execute(
            select(func.count()).where(channel_events.c.event_id == event["message"]["msg_id"])
        ).scalar()
    assert stored == 0


def test_a_resent_event_is_answered_once(assistant: Assistant, zalo: FakeZalo) -> None:
    user = new_user()
    event = text_event(assistant, user, "shop ơi sản phẩm bảo hành bao lâu")
    for _ in range(3):  # Zalo resends what it got no 200 for within 2 s
        assert post(assistant, event).status_code == 200
    wait_until(lambda: zalo.to(user), what="an answer")
    time.sleep(3)
    assert len(user_turns(assistant, user)) == 1


def test_stickers_get_a_polite_answer_and_a_follow_the_welcome(assistant: Assistant, zalo: FakeZalo) -> None:
    user = new_user()
    sticker = text_event(assistant, user, "")
    sticker["event_name"] = "user_send_sticker"
    sticker["message"] = {
        "msg_id": uuid.uuid4().hex,
        "attachments": [{"type": "sticker", "payload": {"id": "1"}}],
    }
    assert post(assistant, sticker).status_code == 200
    assert "chỉ đọc được tin nhắn chữ" in message_with(zalo, user, "tin nhắn chữ")["text"]

    follower = new_user()
    zalo.names[follower] = "Trần Văn Hùng"
    follow = {
        "app_id": assistant.env["VIETCX_ZALO_APP_ID"],
        "oa_id": "579745863508352884",
        "event_name": "follow",
        "timestamp": str(int(time.time() * 1000)),
        "follower": {"id": follower},
        "source": "oa_profile",
    }
    assert post(assistant, follow).status_code == 200
    welcome = message_with(zalo, follower, "Hùng")
    assert "anh Hùng" in welcome["text"]
    receipt = {**follow, "event_name": "user_seen_message", "sender": {"id": follower}}
    assert post(assistant, receipt).status_code == 200


def test_a_whole_survey_by_tapping_zalo_buttons(assistant: Assistant, zalo: FakeZalo) -> None:
    user = new_user()
    say(assistant, user, "sản phẩm được bảo hành bao lâu vậy shop")
    solved = message_with(zalo, user, "đã giải quyết được vấn đề")
    [yes] = [b for b in buttons_after(zalo, user, solved) if b["title"] == "Đã giải quyết"]
    assert yes["type"] == "oa.query.show" and yes["payload"] == "Đã giải quyết"
    seen = len(zalo.to(user))
    say(assistant, user, yes["payload"])  # a tapped oa.query.show button: its payload as the customer's text

    csat = message_with(zalo, user, "hài lòng với", after=seen)
    choices = buttons_after(zalo, user, csat)
    assert [b["title"][0] for b in choices[:5]] == list("12345")
    seen = len(zalo.to(user))
    say(assistant, user, next(b["payload"] for b in choices if b["title"].startswith("5")))

    ces = message_with(zalo, user, "dễ dàng", after=seen)
    choices = buttons_after(zalo, user, ces)
    assert [b["title"][0] for b in choices[:7]] == list("1234567")  # all seven, one tap each
    assert all(len(m["attachment"]["payload"]["buttons"]) <= 5 for m in zalo.to(user) if "attachment" in m)
    say(assistant, user, next(b["payload"] for b in choices if b["title"].startswith("6")))
    message_with(zalo, user, "góp ý")
    with engine(assistant.database_url).connect() as connection:
        [row] = connection.execute(select(surveys).where(surveys.c.sender_id == f"zalo-{user}")).all()
    assert (row.csat, row.ces, row.channel) == (5, 6, "zalo")


def test_a_staff_reply_from_the_console_is_pushed_at_once(console: Assistant, zalo: FakeZalo) -> None:
    user = new_user()
    say(console, user, "cho tôi gặp nhân viên")
    message_with(zalo, user, "nhân viên")
    db = engine(console.database_url)
    escalation = wait_until(lambda: escalations.current(f"zalo-{user}", db), what="the escalation")
    assert escalation["channel"] == "zalo"
    username = f"lan{uuid.uuid4().hex[:6]}"
    staff.add(username, "Nguyễn Thị Lan", PASSWORD, "agent", db=db)
    console.staff_reply(
        console.staff_session(username, PASSWORD), escalation["id"], "Dạ em là Lan, em hỗ trợ mình ngay ạ"
    )
    message_with(zalo, user, "em là Lan", after=0)  # no message from the customer needed
    [queued] = outbox.messages(f"zalo-{user}", db)
    wait_until(lambda: outbox.messages(f"zalo-{user}", db)[0]["delivered_at"], what="delivered")
    assert len([m for m in zalo.to(user) if "em là Lan" in (m.get("text") or "")]) == 1
    assert queued["author"] == "staff"


def test_an_expired_token_is_refreshed_once_and_the_message_resent(
    assistant: Assistant, zalo: FakeZalo
) -> None:
    user = new_user()
    say(assistant, user, "xin chào")
    message_with(zalo, user, "Điện Máy Sao Mai")
    refreshes = zalo.refreshes
    zalo.expire()
    seen = len(zalo.to(user))
    say(assistant, user, "phí ship bao nhiêu vậy shop")
    wait_until(lambda: len(zalo.to(user)) > seen, what="the answer after a refresh")
    assert zalo.refreshes == refreshes + 1 and zalo.refused_refreshes == 0
    stored = tokens.get("zalo", engine(assistant.database_url))
    assert stored is not None and stored.refresh_token == zalo.refresh_token  # the new single-use token kept


def test_outside_the_window_a_message_is_marked_undeliverable_and_shown_to_staff(
    console: Assistant, zalo: FakeZalo
) -> None:
    db = engine(console.database_url)
    old, blocked = new_user(), new_user()
    for user in (old, blocked):
        say(console, user, "cho tôi gặp nhân viên")
        message_with(zalo, user, "nhân viên")
    eight_days_ago = datetime.now(timezone.utc) - timedelta(days=8)
    with db.begin() as connection:
        connection.execute(
            update(customers)
            .where(customers.c.channel == "zalo", customers.c.channel_user_id == old)
            .values(last_message_at=eight_days_ago)
        )
    zalo.outside_window.add(blocked)  # Zalo itself says -230
    ids = {}
    for user in (old, blocked):
        escalation = wait_until(lambda u=user: escalations.current(f"zalo-{u}", db), what="escalation")
        ids[user] = escalation["id"]
        outbox.send(f"zalo-{user}", "Dạ em là Lan ạ", "staff", "lan", escalation["id"], db=db)
    for user in (old, blocked):
        failed = wait_until(lambda u=user: outbox.messages(f"zalo-{u}", db)[0]["failed_at"], what="marked")
        assert failed and "7 ngày" in outbox.messages(f"zalo-{user}", db)[0]["failure"]
        assert not [m for m in zalo.to(user) if "em là Lan" in (m.get("text") or "")]
    username = f"lan{uuid.uuid4().hex[:6]}"
    staff.add(username, "Nguyễn Thị Lan", PASSWORD, "agent", db=db)
    client = console.staff_session(username, PASSWORD)
    page = client.get(f"{console.console_url}/escalations/{ids[old]}/transcript", timeout=30).text
    assert "Không gửi được tới khách" in page and "7 ngày" in page


def test_acknowledgements_stay_fast_while_the_nlu_is_busy(assistant: Assistant, zalo: FakeZalo) -> None:
    users = [new_user() for _ in range(8)]
    times = []
    for user in users:  # eight customers at once: the turns queue up, the webhooks must not
        started = time.perf_counter()
        say(assistant, user, "cho mình hỏi đổi trả hàng thế nào vậy shop")
        times.append(time.perf_counter() - started)
    assert max(times) < 1.0, times
    for user in users:
        wait_until(lambda u=user: zalo.to(u), timeout=120, what="every answer")
