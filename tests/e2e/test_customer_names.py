"""Greeting customers by name over the REST channel, with the real servers and a real SQLite file."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from harness import PROJECT, Assistant
from harness import reply_text as texts
from vietcx.store import profiles
from vietcx.store.db import engine

ASKS_NAME = "cho em xin tên"


def new_sender() -> str:
    return f"name-{uuid.uuid4().hex[:8]}"


def stored(assistant: Assistant, sender: str) -> profiles.Profile | None:
    return profiles.get("rest", sender, engine(assistant.database_url))


def test_name_from_metadata_greets_by_given_name(assistant: Assistant) -> None:
    sender = new_sender()
    reply = texts(assistant.chat(sender, "xin chào", {"customer": {"id": sender, "name": "Trần Thị Ngọc"}}))
    assert "chị Ngọc" in reply
    assert "Trần" not in reply and ASKS_NAME not in reply


def test_asks_once_then_greets_by_the_answer_and_remembers_after_restart(assistant: Assistant) -> None:
    sender = new_sender()
    assert ASKS_NAME in texts(assistant.chat(sender, "chào shop"))
    assert "anh An" in texts(assistant.chat(sender, "mình tên là Nguyễn Văn An"))
    profile = stored(assistant, sender)
    assert profile and (profile.full_name, profile.given_name, profile.honorific) == (
        "Nguyễn Văn An",
        "An",
        "anh",
    )

    assistant.restart()  # both servers: the profile and the conversation live in SQLite
    assistant.new_session(sender)
    reply = texts(assistant.chat(sender, "xin chào"))
    assert "chào mừng anh An quay lại" in reply
    assert ASKS_NAME not in reply


def test_name_typed_without_diacritics(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.chat(sender, "chao ad")
    assert "chị Trang" in texts(assistant.chat(sender, "minh ten la le thu trang"))


def test_a_declined_name_is_not_asked_again(assistant: Assistant) -> None:
    sender = new_sender()
    assert ASKS_NAME in texts(assistant.chat(sender, "xin chào"))
    assert "không sao" in texts(assistant.chat(sender, "không muốn nói đâu")).lower()
    assert ASKS_NAME not in texts(assistant.chat(sender, "chào shop"))
    assistant.new_session(sender)
    assert ASKS_NAME not in texts(assistant.chat(sender, "alo shop ơi"))
    assert stored(assistant, sender).name_declined


def test_a_question_instead_of_a_name_is_answered(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.chat(sender, "xin chào")
    assert "nhân viên" in texts(assistant.chat(sender, "cho tôi gặp nhân viên tư vấn"))


def test_a_name_correction_sticks(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.chat(sender, "xin chào")
    assert "chị Hạnh" in texts(assistant.chat(sender, "chị tên Hạnh"))
    assert "Lan" in texts(assistant.chat(sender, "không phải, tên mình là Lan"))
    assert "Lan" in texts(assistant.chat(sender, "tạm biệt shop"))
    assert stored(assistant, sender).given_name == "Lan"
    assistant.new_session(sender)
    assert "Lan" in texts(assistant.chat(sender, "chào shop"))


def test_forget_customer_removes_profile_and_conversation(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.chat(sender, "xin chào", {"customer": {"id": sender, "name": "Lê Văn Tám"}})
    assert stored(assistant, sender) is not None
    env = {**assistant.env, "VIETCX_ENDPOINTS": str(assistant.workdir / "endpoints.yml")}
    command = [sys.executable, "-m", "vietcx", "forget-customer", "--channel", "rest", "--id", sender]
    done = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "profile deleted" in done.stdout
    assert stored(assistant, sender) is None
    events = assistant.tracker(sender)["events"]
    assert not any(e["event"] == "user" for e in events)


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "😀", "a" * 300])
def test_odd_metadata_names_do_not_break_the_greeting(assistant: Assistant, name: str) -> None:
    reply = texts(assistant.chat(new_sender(), "xin chào", {"customer": {"name": name}}))
    assert "ạ" in reply and "<script>" not in reply
