"""The live queue's endpoints through Flask's test client on real SQLite files: the state, the table
alone, and the event stream, which sends the state at once and again when an escalation comes."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timedelta, timezone

from flask import Flask
from sqlalchemy import update
from sqlalchemy.engine import Engine
from test_console import act, make_app, sign_in

from vietcx.console import live
from vietcx.store import escalations
from vietcx.store.db import escalations as escalation_table


def test_the_state_counts_the_queue_and_knows_when_the_customer_wrote(
    app: Flask,
    escalation: dict,
) -> None:
    lan = sign_in(app, "lan")
    state = lan.get("/queue/state").json
    assert state["counts"]["open"] == 1 and state["newest"] == escalation["id"]
    assert state["wrote"][str(escalation["id"])] > 0  # the tracker's last customer message
    assert lan.get("/queue/state?from=not-a-day").json == state  # a bad day is ignored, not flashed
    assert lan.get("/queue/state?status=resolved").json["newest"] == 0
    rows = lan.get("/queue/rows").text
    assert f'data-id="{escalation["id"]}"' in rows and "<html" not in rows
    assert "Đang chờ" in lan.get("/").text and "(1) Hàng đợi" in lan.get("/").text


def test_the_stream_sends_the_state_and_then_each_change(
    app: Flask,
    db: Engine,
    escalation: dict,
    monkeypatch,
) -> None:
    monkeypatch.setattr(live, "STREAM_SECONDS", 6.0)
    monkeypatch.setattr(live, "CHECK_SECONDS", 0.2)
    answer = sign_in(app, "lan").get("/queue/events", buffered=False)
    assert answer.mimetype == "text/event-stream"
    later = threading.Timer(
        1.0,
        lambda: escalations.open_escalation("khach-02", "zalo", "khach-02", None, "customer_request", db=db),
    )
    later.start()
    started, states = time.monotonic(), []
    for chunk in answer.response:
        for block in chunk.decode().split("\n\n"):
            if block.startswith("event: queue\ndata: "):
                states.append(json.loads(block.split("data: ", 1)[1]))
    answer.close()
    later.join()
    assert [s["counts"]["open"] for s in states] == [1, 2]
    assert states[1]["newest"] > states[0]["newest"] == escalation["id"]
    assert time.monotonic() - started < 10  # the stream ends by itself; the browser reconnects


def test_a_customer_left_unanswered_by_their_staff_member_is_pointed_out_to_them(
    db: Engine, escalation: dict
) -> None:
    app = make_app(db, VIETCX_QUIET_MINUTES=3)
    escalations.assign(escalation["id"], "lan", db)
    with db.begin() as connection:  # taken 20 minutes ago; the customer last wrote 5 minutes before
        # the tests were collected (test_console.EVENTS), so at least 5 minutes ago
        connection.execute(
            update(escalation_table)
            .where(escalation_table.c.id == escalation["id"])
            .values(assigned_at=datetime.now(timezone.utc) - timedelta(minutes=20))
        )
    lan, minh = sign_in(app, "lan"), sign_in(app, "minh")
    page = lan.get("/").text
    waited = re.search(r"chị Ngọc \((\d+) phút\)", page)  # since the customer's message, at most since taken
    assert "Khách đang chờ bạn trả lời quá 3 phút" in page and waited and 5 <= int(waited.group(1)) <= 20
    assert lan.get("/queue/state").json["reminders"] == [escalation["id"]]
    others = minh.get("/").text  # not minh's conversation: the row says it, no reminder for him
    assert "Khách đang chờ bạn trả lời" not in others and re.search(r"chờ trả lời \d+ phút", others)
    assert act(lan, escalation["id"], "reply", text="Dạ, em kiểm tra ngay ạ").status_code == 303
    assert "Khách đang chờ bạn trả lời" not in lan.get("/").text  # staff spoke last
    assert lan.get("/queue/state").json["reminders"] == []
