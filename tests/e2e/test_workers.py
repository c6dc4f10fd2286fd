"""Several Rasa server processes, as `make run` starts them (one per core): both serve customers,
and a customer's quick messages are still handled one at a time, in order (the lock store)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from harness import Assistant, reply_text, running_assistant


@pytest.fixture(scope="module")
def assistant() -> Iterator[Assistant]:
    with running_assistant(extra_env={"SANIC_WORKERS": "2"}) as running:
        yield running


def _worker_pids(assistant: Assistant) -> list[int]:
    return sorted(int(p.name.split("-")[1]) for p in Path(assistant.env["VIETCX_READY_DIR"]).glob("rasa-*"))


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_every_process_is_warm_before_the_server_counts_as_started(assistant: Assistant) -> None:
    pids = _worker_pids(assistant)
    assert len(pids) == 2 and all(Path(f"/proc/{pid}").exists() for pid in pids)


def test_both_processes_answer_customers(assistant: Assistant) -> None:
    pids = _worker_pids(assistant)
    before = {pid: _cpu_ticks(pid) for pid in pids}

    def conversation(number: int) -> list[str]:
        sender = f"workers-{number}-{uuid.uuid4().hex[:6]}"
        texts = ["xin chào", "phí ship bao nhiêu vậy shop", "bảo hành bao lâu"]
        return [reply_text(assistant.chat(sender, text)) for text in texts]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(conversation, range(16)))
    assert all(all(reply for reply in replies) for replies in answers)
    used = {pid: _cpu_ticks(pid) - before[pid] for pid in pids}
    # the kernel hands connections to whichever process accepts first: both must have worked
    assert all(ticks > 20 for ticks in used.values()), used
    # /metrics, answered by either process, counts the messages of both
    figures = requests.get(f"{assistant.url}/metrics", timeout=10).text
    assert 'vietcx_messages_total{channel="rest"} 48.0' in figures


def test_a_burst_of_one_customer_is_handled_one_message_at_a_time(assistant: Assistant) -> None:
    sender = f"burst-{uuid.uuid4().hex[:6]}"
    texts = ["chào shop", "phí ship bao nhiêu", "đổi trả thế nào", "bảo hành bao lâu", "có trả góp không"]

    def send(text: str) -> int:
        return requests.post(
            f"{assistant.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers=assistant.rest_headers,
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(max_workers=len(texts)) as pool:
        assert list(pool.map(send, texts)) == [200] * len(texts)
    events = assistant.tracker(sender)["events"]
    said = [e["text"] for e in events if e["event"] == "user"]
    assert sorted(said) == sorted(texts)
    # handled one at a time: every message's turn ends in action_listen before the next one begins
    turn: list[str] = []
    for event in events:
        if event["event"] == "user" and turn:
            assert turn[-1] == "action_listen", turn
            turn = []
        if event["event"] == "action":
            turn.append(event["name"])
    assert turn and turn[-1] == "action_listen"
