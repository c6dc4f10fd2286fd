"""Nobody waits in silence, with the real Rasa and action servers: until a staff member takes the
escalation the assistant answers what the FAQ is sure of (staff will still follow up), after the
wait (a tiny VIETCX_CALLBACK_AFTER_MINUTES here) it offers a call back, with its answer or unasked
through the outbox, checks the number, stores it on the escalation; once staff take the
conversation the assistant is silent again."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from harness import Assistant, reply_buttons, reply_text, running_assistant
from vietcx.store import escalations, staff
from vietcx.store.db import engine

NGOC = {"customer": {"name": "Trần Thị Ngọc"}}
FOLLOW_UP = "nhân viên chăm sóc khách hàng vẫn sẽ liên hệ lại với chị Ngọc"
OFFER = "để lại số điện thoại để nhân viên gọi lại"


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """Servers of their own where a call back is offered after 0.02 minutes (1.2 s) of waiting."""
    with running_assistant(extra_env={"VIETCX_CALLBACK_AFTER_MINUTES": "0.02"}) as running:
        running.start_console()
        yield running


def own(replies: list[dict]) -> list[dict]:
    """The assistant's own answers, without the outbox's messages that come along until the client
    acknowledges them (the call-back offer may have come from the action server's sweep)."""
    return [r for r in replies if "outbox_id" not in (r.get("custom") or {})]


def escalate(assistant: Assistant) -> tuple[str, dict]:
    sender = f"wait-{uuid.uuid4().hex[:8]}"
    assistant.chat(sender, "xin chào", NGOC)
    assert "nhân viên" in reply_text(assistant.chat(sender, "cho tôi gặp nhân viên", NGOC))
    escalation = escalations.current(sender, engine(assistant.database_url))
    assert escalation and escalation["status"] == "open"
    return sender, escalation


def test_answers_while_waiting_then_a_call_back_is_offered_and_the_number_stored(quick: Assistant) -> None:
    db = engine(quick.database_url)
    sender, escalation = escalate(quick)
    replies = reply_text(quick.chat(sender, "sản phẩm được bảo hành bao lâu vậy shop", NGOC))
    assert "bảo hành" in replies.lower() and FOLLOW_UP in replies
    assert "đã giải quyết được vấn đề" not in replies  # no "solved?" while a person is coming

    time.sleep(1.5)  # longer than the configured wait
    offered = quick.chat(sender, "alo, có ai không", NGOC)
    assert OFFER in reply_text(offered) and "chị Ngọc" in reply_text(offered)
    assert [b["title"] for b in reply_buttons(offered)] == ["Gọi lại cho tôi", "Tiếp tục với trợ lý ảo"]

    assert "số điện thoại" in reply_text(quick.chat(sender, "gọi lại cho tôi", NGOC))  # typed, not clicked
    wrong = reply_text(quick.chat(sender, "0123 456", NGOC))
    assert "chưa ghi nhận được" in wrong
    noted = reply_text(quick.chat(sender, "số mình là +84 912.345.678 nhé", NGOC))
    assert "0912 345 678" in noted and "gọi lại" in noted
    stored = escalations.get(escalation["id"], db)
    assert stored["callback_phone"] == "0912345678" and stored["callback_requested_at"] is not None
    assert stored["status"] == "open"

    # the console shows it in the queue and on the escalation's page
    agent = f"lan-{sender}"
    staff.add(agent, "Nguyễn Thị Lan", "mat-khau-rat-dai", db=db)
    client = quick.staff_session(agent, "mat-khau-rat-dai")
    assert "0912 345 678" in client.get(f"{quick.console_url}/", timeout=30).text
    assert (
        "0912 345 678" in client.get(f"{quick.console_url}/escalations/{escalation['id']}", timeout=30).text
    )

    # a staff member takes it: the assistant is silent again, even for a question it knows
    escalations.assign(escalation["id"], agent, db)
    replies = quick.chat(sender, "sản phẩm được bảo hành bao lâu vậy shop", NGOC)
    assert own(replies) == []


def test_the_offer_comes_unasked_and_the_customer_goes_on_with_the_assistant(quick: Assistant) -> None:
    sender, escalation = escalate(quick)
    offer: list[dict] = []
    deadline = time.monotonic() + 60
    while not offer and time.monotonic() < deadline:  # the action server sweeps every 2 s in tests
        time.sleep(1)
        answer = requests.get(
            f"{quick.url}/webhooks/rest/updates",
            params={"sender": sender},
            headers=quick.rest_headers,
            timeout=30,
        )
        offer = [m for m in answer.json() if OFFER in m.get("text", "")]
    assert offer, "no call-back offer reached the customer who wrote nothing"
    assert "chị Ngọc" in offer[0]["text"]
    assert [b["title"] for b in offer[0]["buttons"]] == ["Gọi lại cho tôi", "Tiếp tục với trợ lý ảo"]
    assert escalations.get(escalation["id"], engine(quick.database_url))["callback_offered_at"] is not None

    assert "Em tiếp tục hỗ trợ" in reply_text(quick.chat(sender, "Tiếp tục với trợ lý ảo", NGOC))
    answered = reply_text(quick.chat(sender, "sản phẩm được bảo hành bao lâu vậy shop", NGOC))
    assert "bảo hành" in answered.lower() and "đã giải quyết được vấn đề" in answered  # as usual
