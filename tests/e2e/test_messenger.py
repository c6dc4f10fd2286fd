"""Messenger end to end: signed webhooks from "Meta" to the real Rasa and action servers, answers
through a local fake of the Graph API's Send API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from fake_graph import FakeGraph, fake_graph
from sqlalchemy import select

from harness import Assistant
from vietcx.store import escalations, outbox
from vietcx.store.db import engine, surveys


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
    users = [e for e in assistant.tracker(psid)["events"] if e["event"] == "user"]
    assert users[0]["input_channel"] == "messenger" and users[0]["text"] == "xin chào shop"


def test_forged_unsigned_or_tampered_webhooks_are_refused_and_not_stored(
    assistant: Assistant, graph: FakeGraph
) -> None:
    psid = new_psid()
    assert post(assistant, event(psid, "xin chào"), signed=False).status_code == 401
    assert post(assistant, event(psid, "xin chào"), secret="guessed-secret").status_code == 401
    time.sleep(2)
    assert graph.to(psid) == []
    assert not [e for e in assistant.tracker(psid)["events"] if e["event"] == "user"]


def test_a_resent_event_is_answered_once_and_a_batch_every_time(
    assistant: Assistant, graph: FakeGraph
) -> None:
    psid = new_psid()
    same = event(psid, "phí ship bao nhiêu vậy shop")
    assert post(assistant, same).status_code == 200
    assert post(assistant, same).status_code == 200  # Meta's resend after a time-out
    wait_for(graph, psid)
    time.sleep(3)
    users = [e for e in assistant.tracker(psid)["events"] if e["event"] == "user"]
    assert len(users) == 1

    batch = [new_psid() for _ in range(3)]
    echo = event(batch[0], "tin của trang", is_echo=True)
    receipt = {"sender": {"id": batch[0]}, "recipient": {"id": "PAGE"}, "delivery": {"mids": ["m_1"]}}
    assert post(assistant, *(event(p, "xin chào") for p in batch), echo, receipt).status_code == 200
    for customer in batch:
        assert "Điện Máy Sao Mai" in wait_for(graph, customer)[0]["text"]
    time.sleep(2)
    assert len([e for e in assistant.tracker(batch[0])["events"] if e["event"] == "user"]) == 1


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
        [row] = connection.execute(select(surveys).where(surveys.c.sender_id == psid)).all()
    assert (row.csat, row.ces, row.channel) == (5, 6, "messenger")


def test_the_send_api_failing_for_a_moment_loses_nothing(assistant: Assistant, graph: FakeGraph) -> None:
    psid = new_psid()
    graph.failures = 2
    post(assistant, event(psid, "xin chào"))
    assert "Điện Máy Sao Mai" in wait_for(graph, psid, timeout=60)[0]["text"]


def test_a_staff_reply_reaches_the_customer_with_their_next_message(
    assistant: Assistant, graph: FakeGraph
) -> None:
    psid = new_psid()
    post(assistant, event(psid, "cho tôi gặp nhân viên"))
    wait_until(graph, psid, "nhân viên")
    db = engine(assistant.database_url)
    escalation = escalations.current(psid, db)
    assert escalation and escalation["channel"] == "messenger"
    outbox.send(psid, "Dạ em là Lan, em hỗ trợ mình ngay ạ", "staff", "lan", escalation["id"], db=db)
    post(assistant, event(psid, "alo có ai không"))
    wait_until(graph, psid, "em là Lan")
    deadline = time.monotonic() + 10
    while outbox.messages(psid, db)[0]["delivered_at"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert outbox.messages(psid, db)[0]["delivered_at"] is not None
