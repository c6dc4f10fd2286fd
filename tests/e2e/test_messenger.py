"""Messenger end to end: signed webhooks from "Meta" to the real Rasa and action servers, answers
through a local fake of the Graph API's Send API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import requests
from fake_graph import FakeGraph, fake_graph
from sqlalchemy import select, update

from harness import Assistant
from vietcx.store import escalations, outbox
from vietcx.store.db import customers, engine, surveys


@pytest.fixture(scope="module")
def graph(assistant: Assistant) -> Iterator[FakeGraph]:
    port = urlsplit(assistant.env["VIETCX_GRAPH_URL"]).port
    with fake_graph(port, assistant.env["VIETCX_MESSENGER_PAGE_TOKEN"]) as fake:
        yield fake


def event(psid: str, text: str | None = None, **message: object) -> dict:
    body: dict = {"mid": f"m_{uuid.uuid4().hex}", **message}
    if text is not None:
        body["text"] = text
    return {
        "sender": {"id": psid},
        "recipient": {"id": "PAGE"},
        "timestamp": int(time.time() * 1000),
        "message": body,
    }


def post(
    assistant: Assistant, *events: dict, secret: str | None = None, signed: bool = True
) -> requests.Response:
    raw = json.dumps(
        {"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": list(events)}]}
    ).encode()
    key = (secret or assistant.env["VIETCX_MESSENGER_APP_SECRET"]).encode()
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(key, raw, hashlib.sha256).hexdigest()
    return requests.post(f"{assistant.url}/webhooks/messenger/webhook", data=raw, headers=headers, timeout=30)


def wait_for(graph: FakeGraph, psid: str, count: int = 1, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = graph.to(psid)
        if len(sent) >= count:
            return sent
        time.sleep(0.2)
    raise AssertionError(f"{psid} got {graph.to(psid)}")


def wait_until(graph: FakeGraph, psid: str, wanted: str, timeout: float = 60) -> dict:
    """The first message sent to `psid` whose text holds `wanted`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in graph.to(psid) if wanted in (m.get("text") or "")]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"{psid} got {graph.to(psid)}")


def new_psid() -> str:
    return str(uuid.uuid4().int)[:16]


def test_the_subscription_handshake(assistant: Assistant, graph: FakeGraph) -> None:
    url = f"{assistant.url}/webhooks/messenger/webhook"
    good = {
        "hub.mode": "subscribe",
        "hub.verify_token": assistant.env["VIETCX_MESSENGER_VERIFY_TOKEN"],
        "hub.challenge": "1158201444",
    }
    answer = requests.get(url, params=good, timeout=30)
    assert answer.status_code == 200 and answer.text == "1158201444"
    assert requests.get(url, params={**good, "hub.verify_token": "guess"}, timeout=30).status_code == 403


def test_a_message_is_acknowledged_at_once_and_answered_through_the_send_api(
    assistant: Assistant, graph: FakeGraph
) -> None:
    psid = new_psid()
    started = time.perf_counter()
    answer = post(assistant, event(psid, "xin chào shop"))
    acknowledged = time.perf_counter() - started
    assert answer.status_code == 200 and acknowledged < 2.0  # Meta resends after ~20 s, Zalo needs 2 s
    [greeting, *_] = wait_for(graph, psid)
    assert "Điện Máy Sao Mai" in greeting["text"]
    users = [e for e in assistant.tracker(f"messenger-{psid}")["events"] if e["event"] == "user"]
    assert users[0]["input_channel"] == "messenger" and users[0]["text"] == "xin chào shop"


def test_forged_unsigned_or_tampered_webhooks_are_refused_and_not_stored(
    assistant: Assistant, graph: FakeGraph
) -> None:
    psid = new_psid()
    assert post(assistant, event(psid, "xin chào"), signed=False).status_code == 401
    assert post(assistant, event(psid, "xin chào"), secret="guessed-secret").status_code == 401
    time.sleep(2)
    assert graph.to(psid) == []
    assert not [e for e in assistant.tracker(f"messenger-{psid}")["events"] if e["event"] == "user"]


def test_a_resent_event_is_answered_once_and_a_batch_every_time(
    assistant: Assistant, graph: FakeGraph
) -> None:
    psid = new_psid()
    same = event(psid, "phí ship bao nhiêu vậy shop")
    assert post(assistant, same).status_code == 200
    assert post(assistant, same).status_code == 200  # Meta's resend after a time-out
    wait_for(graph, psid)
    time.sleep(3)
    users = [e for e in assistant.tracker(f"messenger-{psid}")["events"] if e["event"] == "user"]
    assert len(users) == 1

    batch = [new_psid() for _ in range(3)]
    echo = event(batch[0], "tin của trang", is_echo=True)
    receipt = {"sender": {"id": batch[0]}, "recipient": {"id": "PAGE"}, "delivery": {"mids": ["m_1"]}}
    assert post(assistant, *(event(p, "xin chào") for p in batch), echo, receipt).status_code == 200
    for customer in batch:
        assert "Điện Máy Sao Mai" in wait_for(graph, customer)[0]["text"]
    time.sleep(2)
    assert len([e for e in assistant.tracker(f"messenger-{batch[0]}")["events"] if e["event"] == "user"]) == 1


def test_a_sticker_gets_a_polite_answer(assistant: Assistant, graph: FakeGraph) -> None:
    psid = new_psid()
    sticker = event(
        psid,
        None,
        sticker_id=369239263222822,
        attachments=[{"type": "image", "payload": {"url": "https://x"}}],
    )
    assert post(assistant, sticker).status_code == 200
    assert "chỉ đọc được tin nhắn chữ" in wait_for(graph, psid)[0]["text"]


def test_a_whole_survey_by_tapping_quick_replies(assistant: Assistant, graph: FakeGraph) -> None:
    psid = new_psid()
    post(assistant, event(psid, "sản phẩm được bảo hành bao lâu vậy shop"))
    solved = wait_until(graph, psid, "đã giải quyết được vấn đề")
    tap = next(q for q in solved["quick_replies"] if q["payload"] == "/faq_resolved")
    post(assistant, event(psid, tap["title"], quick_reply={"payload": tap["payload"]}))
    csat = wait_until(graph, psid, "hài lòng với")
    assert len(csat["quick_replies"]) >= 5 and all(len(q["title"]) <= 20 for q in csat["quick_replies"])
    five = next(q for q in csat["quick_replies"] if q["payload"] == '/survey_answer{"score": 5}')
    post(assistant, event(psid, five["title"], quick_reply={"payload": five["payload"]}))
    ces = wait_until(graph, psid, "dễ dàng")
    assert len(ces["quick_replies"]) >= 7
    six = next(q for q in ces["quick_replies"] if q["payload"] == '/survey_answer{"score": 6}')
    post(assistant, event(psid, six["title"], quick_reply={"payload": six["payload"]}))
    wait_until(graph, psid, "góp ý")
    with engine(assistant.database_url).connect() as connection:
        [row] = connection.execute(select(surveys).where(surveys.c.sender_id == f"messenger-{psid}")).all()
    assert (row.csat, row.ces, row.channel) == (5, 6, "messenger")


def test_the_send_api_failing_for_a_moment_loses_nothing(assistant: Assistant, graph: FakeGraph) -> None:
    psid = new_psid()
    graph.failures = 2
    post(assistant, event(psid, "xin chào"))
    assert "Điện Máy Sao Mai" in wait_for(graph, psid, timeout=60)[0]["text"]


def test_the_profile_name_greets_and_is_asked_for_once(assistant: Assistant, graph: FakeGraph) -> None:
    psid = new_psid()
    graph.profiles[psid] = {"first_name": "Ngọc", "last_name": "Nguyễn"}
    post(assistant, event(psid, "xin chào shop"))
    greeting = wait_until(graph, psid, "Ngọc")
    assert "chị Ngọc" in greeting["text"] and "Nguyễn" not in greeting["text"]
    post(assistant, event(psid, "cảm ơn shop"))
    wait_for(graph, psid, count=2)
    assert graph.profile_calls.count(psid) == 1


def set_last_message(assistant: Assistant, psid: str, ago: timedelta) -> None:
    with engine(assistant.database_url).begin() as connection:
        connection.execute(
            update(customers)
            .where(customers.c.channel == "messenger", customers.c.channel_user_id == psid)
            .values(last_message_at=datetime.now(timezone.utc) - ago)
        )


def test_a_staff_reply_is_pushed_at_once_and_tagged_after_a_day(
    assistant: Assistant, graph: FakeGraph
) -> None:
    psid, later, gone = new_psid(), new_psid(), new_psid()
    db = engine(assistant.database_url)
    for customer in (psid, later, gone):
        post(assistant, event(customer, "cho tôi gặp nhân viên"))
        wait_until(graph, customer, "nhân viên")
    set_last_message(assistant, later, timedelta(days=2))
    set_last_message(assistant, gone, timedelta(days=8))
    for customer in (psid, later, gone):
        escalation = escalations.current(f"messenger-{customer}", db)
        assert escalation and escalation["channel"] == "messenger"
        outbox.send(
            f"messenger-{customer}",
            "Dạ em là Lan, em hỗ trợ mình ngay ạ",
            "staff",
            "lan",
            escalation["id"],
            db=db,
        )
    now = wait_until(graph, psid, "em là Lan")  # pushed: the customer wrote nothing since
    assert now["text"].startswith("Dạ em là Lan")
    assert [m for m in graph.sent if m["recipient"]["id"] == psid][-1]["messaging_type"] == "RESPONSE"
    wait_until(graph, later, "em là Lan")
    tagged = [m for m in graph.sent if m["recipient"]["id"] == later][-1]
    assert (tagged["messaging_type"], tagged["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    deadline = time.monotonic() + 20
    while outbox.messages(f"messenger-{gone}", db)[0]["failed_at"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
    [failed] = outbox.messages(f"messenger-{gone}", db)
    assert failed["failed_at"] is not None and "7 ngày" in failed["failure"]
    assert not [m for m in graph.to(gone) if "em là Lan" in (m.get("text") or "")]
    for customer in (psid, later):
        assert outbox.messages(f"messenger-{customer}", db)[0]["delivered_at"] is not None
        assert len([m for m in graph.to(customer) if "em là Lan" in (m.get("text") or "")]) == 1


def test_the_bot_may_not_write_after_a_day(assistant: Assistant, graph: FakeGraph) -> None:
    psid = new_psid()
    post(assistant, event(psid, "xin chào"))
    wait_for(graph, psid)
    set_last_message(assistant, psid, timedelta(hours=25))
    db = engine(assistant.database_url)
    outbox.send(f"messenger-{psid}", "Anh/chị đánh giá giúp em nhé", "bot", db=db)
    deadline = time.monotonic() + 20
    while outbox.messages(f"messenger-{psid}", db)[0]["failed_at"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "24 giờ" in (outbox.messages(f"messenger-{psid}", db)[0]["failure"] or "")
