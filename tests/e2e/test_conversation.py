"""A Vietnamese conversation over the REST channel, against the real Rasa and action servers."""

from __future__ import annotations

import uuid

import requests

from harness import Assistant
from harness import reply_text as texts


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def test_a_conversation_in_vietnamese(assistant: Assistant) -> None:
    sender = new_sender()
    assert "xin chào" in texts(assistant.chat(sender, "xin chào shop ạ")).lower()
    assert "trợ lý ảo" in texts(assistant.chat(sender, "em là bot hả"))
    assert "không có gì" in texts(assistant.chat(sender, "cảm ơn shop nhé")).lower()
    assert "hẹn gặp lại" in texts(assistant.chat(sender, "tạm biệt")).lower()
    assert "nhân viên" in texts(assistant.chat(sender, "à khoan, cho tôi gặp nhân viên"))
    # staff own the conversation now: a holding line once while nobody has taken it, then silence
    assert "vui lòng chờ" in texts(assistant.chat(sender, "tạm biệt"))
    assert assistant.chat(sender, "tạm biệt") == []


def test_without_diacritics_and_shorthand(assistant: Assistant) -> None:
    sender = new_sender()
    assert "xin chào" in texts(assistant.chat(sender, "chao shop")).lower()
    assert "không có gì" in texts(assistant.chat(sender, "tks ad nhiu")).lower()
    assert "nhân viên" in texts(assistant.chat(sender, "cho minh gap nv tu van voi")).lower()


def test_the_conversation_is_stored_with_its_intents(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.chat(sender, "xin chào")
    assistant.chat(sender, "hom nay troi co mua khong")
    intents = [
        e["parse_data"]["intent"]["name"] for e in assistant.tracker(sender)["events"] if e["event"] == "user"
    ]
    assert intents == ["greet", "out_of_scope"]


def test_complaint_offers_a_person_with_buttons(assistant: Assistant) -> None:
    replies = assistant.chat(new_sender(), "giao hàng chậm quá, thất vọng thật sự")
    buttons = [b for r in replies for b in r.get("buttons", [])]
    assert "xin lỗi" in texts(replies).lower()
    assert "/request_human" in [b["payload"] for b in buttons]


def test_hostile_input_gets_a_polite_answer(assistant: Assistant) -> None:
    for text in [
        "",
        "   ",
        "😀😀😀",
        "<script>alert('x')</script>",
        "a" * 10_000,
        "What is the capital of France?",
    ]:
        replies = assistant.chat(new_sender(), text)
        assert replies, f"no answer to {text[:30]!r}"
        assert all("ạ" in r["text"] for r in replies if "text" in r), replies


def test_malformed_requests_get_a_clear_400(assistant: Assistant) -> None:
    url = f"{assistant.url}/webhooks/rest/webhook"
    bad_bodies = [b"{not json", b"[1, 2]", b'{"message": "hi"}', b'{"sender": "x", "message": 5}',
                  b'{"sender": "x", "message": "hi", "metadata": "oops"}']  # fmt: skip
    for body in bad_bodies:
        headers = {**assistant.rest_headers, "Content-Type": "application/json"}
        reply = requests.post(url, data=body, headers=headers, timeout=30)
        assert reply.status_code == 400, body
        assert "error" in reply.json()
    too_long = requests.post(
        url, json={"sender": "x", "message": "a" * 10_001}, headers=assistant.rest_headers, timeout=30
    )
    assert too_long.status_code == 400
    # the server is still fine afterwards
    assert assistant.chat(new_sender(), "xin chào")
