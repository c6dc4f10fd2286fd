"""Thousands of random and hostile messages through the REST channel: every answer is a polite reply
or a clear 4xx, the servers stay up, and nothing stored is corrupted."""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import requests
from hostile import requests_

from harness import Assistant
from vietcx.store import escalations
from vietcx.store.db import engine

COUNT = 2000


def test_hostile_messages_get_polite_answers_or_clear_refusals(guarded: Assistant) -> None:
    url = f"{guarded.url}/webhooks/rest/webhook"
    headers = {**guarded.rest_headers, "Content-Type": "application/json"}
    cases = list(requests_(COUNT))

    def send(case: tuple[str, bytes, bool]) -> tuple[str, bool, int, object]:
        sender, body, refused = case
        answer = requests.post(url, data=body, headers=headers, timeout=120)
        try:
            payload = answer.json()
        except ValueError:
            payload = answer.text
        return sender, refused, answer.status_code, payload

    # four at a time (Rasa handles one conversation at a time, several conversations at once)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(send, cases))

    db = engine(guarded.database_url)
    through = []
    silent = set()
    for sender, refused, status, payload in results:
        if refused:
            ok = 400 <= status < 500 and isinstance(payload, dict) and isinstance(payload.get("error"), str)
        else:
            ok = status == 200 and isinstance(payload, list) and all(_polite(m) for m in payload)
            if ok and payload == []:
                silent.add(sender)
        if not ok:
            through.append((sender, status, str(payload)[:200]))
    # silence only where staff own the conversation (a hand-over the message asked for)
    through += [(s, 200, "silent without a hand-over") for s in silent if escalations.current(s, db) is None]
    # a polite apology hides an internal failure from the customer, not from this test
    through += [("rasa", 500, "failed inside Rasa")] * guarded.log("rasa").count("could not be handled")
    through += [("actions", 500, "failed in an action")] * guarded.log("actions").count("Exception occurred")
    refused = sum(1 for r in results if r[1])
    print(f"\nfuzz: {len(results)} inputs ({refused} malformed), {len(through)} got through")
    assert through == [], through[:10]

    # the servers are still up and still themselves
    assert all(process.poll() is None for process in guarded.processes.values())
    assert "Điện Máy Sao Mai" in " ".join(m.get("text", "") for m in guarded.chat("fuzz-after", "xin chào"))
    # nothing stored is corrupted: both databases pass SQLite's check, every stored text is clean text
    for path in (guarded.workdir / "vietcx.db", guarded.workdir / "tracker.db"):
        with sqlite3.connect(path) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with sqlite3.connect(guarded.workdir / "tracker.db") as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id LIKE 'fuzz-%' AND type_name = 'user'"
        ).fetchall()
    assert len(rows) > COUNT / 2
    for (data,) in rows:
        text = json.loads(data).get("text") or ""
        text.encode("utf-8")  # no lone surrogates
        assert "\x00" not in text and len(text) <= 10_000


def _polite(message: object) -> bool:
    """A message a customer can be shown: text (and buttons), never an error or a stack trace."""
    if not isinstance(message, dict):
        return False
    text = message.get("text")
    if text is not None and (not isinstance(text, str) or not text.strip() or "Traceback" in text):
        return False
    return text is not None or bool(message.get("buttons"))
