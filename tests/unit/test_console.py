"""The staff console through Flask's test client, on real SQLite files: a product database and a
tracker store holding Rasa-shaped events. CSRF stays on; only Rasa's trigger_intent is stood in for."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from limits import parse
from sqlalchemy import update
from sqlalchemy.engine import Engine
from tracker_store import tracker_store_file

from harness import free_port
from vietcx.cli import main as cli
from vietcx.console.app import create_app
from vietcx.console.auth import LoginThrottle
from vietcx.console.settings import secret_key
from vietcx.console.transcript import lines
from vietcx.store import escalations, outbox, staff, surveys
from vietcx.store.audit import recent as audit_rows
from vietcx.store.db import engine
from vietcx.store.db import escalations as escalation_table

PASSWORD = "mật khẩu đủ dài 2026"
SENDER = "khach-01"
SCRIPT = "<script>alert(1)</script>"
NOW = time.time()


def _event(kind: str, seconds_ago: float, **fields: object) -> dict:
    return {"event": kind, "timestamp": NOW - seconds_ago, **fields}


def _sentiment(label: str, confidence: float) -> dict:
    others = (1 - confidence) / 2
    return {
        "label": label,
        "confidence": confidence,
        "scores": {**dict.fromkeys(("negative", "neutral", "positive"), others), label: confidence},
    }


EVENTS = [
    _event("action", 600, name="action_session_start"),
    _event("session_started", 600),
    _event(
        "user", 500, text="bảo hành máy giặt bao lâu", parse_data={"sentiment": _sentiment("neutral", 0.8)}
    ),
    _event("action", 499, name="action_answer_faq"),
    _event(
        "bot",
        499,
        text="Dạ, bạn muốn hỏi về chủ đề nào ạ?",
        data={"buttons": [{"title": "Bảo hành", "payload": "/x"}]},
    ),
    _event("slot", 499, name="faq_candidates", value=["warranty", "installment"]),
    _event("user", 400, text="/faq_choose", parse_data={"sentiment": _sentiment("neutral", 0.7)}),
    _event("action", 399, name="action_answer_faq"),
    _event("slot", 399, name="faq_topic", value="warranty"),
    _event(
        "user",
        300,
        text=f"{SCRIPT} máy vẫn hỏng, chán quá",
        parse_data={"sentiment": _sentiment("negative", 0.91)},
    ),
    _event("action", 299, name="action_answer_faq"),
    _event("slot", 299, name="faq_state", value="unknown"),
    _event("bot", 299, text="Dạ, em chưa tìm được câu trả lời phù hợp ạ."),
]


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    url = f"sqlite:///{tmp_path / 'vietcx.db'}"
    monkeypatch.setenv("VIETCX_DATABASE_URL", url)
    database = engine(url)
    staff.add("lan", "Nguyễn Thị Lan", PASSWORD, "agent", db=database)
    staff.add("minh", "Trần Văn Minh", PASSWORD, "agent", db=database)
    staff.add("hoa", "Lê Thu Hoa", PASSWORD, "admin", db=database)
    return database


@pytest.fixture()
def tracker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Rasa's SQL tracker store as endpoints.yml describes it, with one conversation."""
    return tracker_store_file(tmp_path, monkeypatch, {SENDER: EVENTS})


@pytest.fixture()
def escalation(db: Engine, tracker: Path) -> dict:
    summary = {"messages": 3, "negative": 1, "neutral": 2, "positive": 0, "mean_score": -0.3, "trend": -0.9,
               "most_negative_text": f"{SCRIPT} máy vẫn hỏng", "most_negative_score": -0.9}  # fmt: skip
    row, opened = escalations.open_escalation(
        SENDER, "rest", SENDER, "chị Ngọc", "faq_fallback", summary, db=db
    )
    assert opened
    return row


def make_app(db: Engine, rasa_url: str = "http://127.0.0.1:9", **config: object) -> Flask:
    return create_app(db=db, rasa_url=rasa_url, config={"SECRET_KEY": "test-only-secret", **config})


@pytest.fixture()
def app(db: Engine) -> Flask:
    return make_app(db)


def token(client: FlaskClient, path: str) -> str:
    """The CSRF token of a page's forms, as a browser would find it."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page.text).group(1)


def sign_in(app: Flask, username: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    answer = client.post(
        "/login", data={"csrf_token": token(client, "/login"), "username": username, "password": password}
    )
    assert answer.status_code == 302, answer.text
    return client


def act(client: FlaskClient, escalation_id: int, action: str, **fields: str):  # noqa: ANN201
    """POST one of the escalation page's forms with the page's own CSRF token."""
    csrf = token(client, f"/escalations/{escalation_id}")
    return client.post(f"/escalations/{escalation_id}/{action}", data={"csrf_token": csrf, **fields})


def test_health_needs_no_session(app: Flask) -> None:
    answer = app.test_client().get("/health")
    assert answer.status_code == 200 and answer.json == {"status": "ok", "checks": {"database": "ok"}}


def test_a_wrong_password_is_refused_without_saying_whether_the_user_exists(app: Flask) -> None:
    pages = []
    for username in ("lan", "khong-ton-tai"):
        client = app.test_client()
        answer = client.post(
            "/login",
            data={
                "csrf_token": token(client, "/login"),
                "username": username,
                "password": "sai mật khẩu rồi",
            },
        )
        assert answer.status_code == 401
        assert "Tên đăng nhập hoặc mật khẩu chưa đúng" in answer.text
        assert client.get("/").status_code == 302  # not signed in
        pages.append(re.sub(r'value="[^"]*"', "", answer.text))
    assert pages[0] == pages[1]  # the same page either way


def test_five_wrong_passwords_lock_the_user_name_for_a_while(app: Flask) -> None:
    client = app.test_client()
    for _ in range(5):
        client.post(
            "/login", data={"csrf_token": token(client, "/login"), "username": "lan", "password": "sai"}
        )
    answer = client.post(
        "/login", data={"csrf_token": token(client, "/login"), "username": "lan", "password": PASSWORD}
    )
    assert answer.status_code == 429 and "tạm thời bị khóa" in answer.text
    assert sign_in(app, "minh")  # other names are not affected


def test_every_console_route_needs_a_session(db: Engine, app: Flask, escalation: dict) -> None:
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("auth.login", "health", "static"):
            continue
        path = rule.build({"escalation_id": escalation["id"], "topic_id": "warranty", "version_id": 1})[1]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            answer = client.open(path, method=method)
            if method == "GET":
                assert answer.status_code == 302, (method, path)
                assert answer.location.startswith("/login?next="), answer.location
            else:
                assert answer.status_code == 401, (method, path)
            checked += 1
    assert checked >= 7  # queue, escalation, transcript, take, reply, resolve, logout, and the newer pages
    assert escalations.get(escalation["id"], db)["status"] == "open"


def test_a_post_without_a_valid_csrf_token_is_refused(db: Engine, app: Flask, escalation: dict) -> None:
    client = sign_in(app, "lan")
    path = f"/escalations/{escalation['id']}/take"
    assert client.post(path).status_code == 400
    assert client.post(path, data={"csrf_token": "forged"}).status_code == 400
    assert escalations.get(escalation["id"], db)["status"] == "open"
    stranger = app.test_client()  # a token from another session is no good either
    foreign = token(stranger, "/login")
    assert client.post(path, data={"csrf_token": foreign}).status_code == 400
    assert app.test_client().post("/login", data={"username": "lan", "password": PASSWORD}).status_code == 400
    assert act(client, escalation["id"], "take").status_code == 303  # with the page's token it works


def test_one_agent_cannot_act_on_another_agents_escalation(db: Engine, app: Flask, escalation: dict) -> None:
    lan, minh = sign_in(app, "lan"), sign_in(app, "minh")
    act(lan, escalation["id"], "take")
    for action, fields in [("take", {}), ("reply", {"text": "Dạ em là Minh ạ"}), ("resolve", {})]:
        answer = act(minh, escalation["id"], action, **fields)
        assert answer.status_code == 403, action
        assert "đang do Nguyễn Thị Lan xử lý" in answer.text
    row = escalations.get(escalation["id"], db)
    assert (row["status"], row["staff"]) == ("assigned", "lan")
    assert outbox.messages(SENDER, db) == []


def test_a_reply_is_recorded_under_the_signed_in_staff_member_whatever_the_form_says(
    db: Engine, app: Flask, escalation: dict
) -> None:
    lan = sign_in(app, "lan")
    assert act(lan, escalation["id"], "reply", text="Dạ").status_code == 403  # take it first
    act(lan, escalation["id"], "take")
    answer = act(
        lan,
        escalation["id"],
        "reply",
        text="Dạ, em là Lan, em hỗ trợ chị ngay ạ.",
        staff="minh",
        author="bot",
        username="minh",
    )
    assert answer.status_code == 303
    [message] = outbox.messages(SENDER, db)
    assert (message["author"], message["staff"], message["escalation_id"]) == (
        "staff",
        "lan",
        escalation["id"],
    )
    assert message["text"] == "Dạ, em là Lan, em hỗ trợ chị ngay ạ."
    page = lan.get(f"/escalations/{escalation['id']}").text
    assert "Nhân viên Nguyễn Thị Lan" in page and "Đang chờ gửi tới khách" in page


@pytest.mark.parametrize(
    ("text", "reason"), [("", "đang trống"), ("   \n ", "đang trống"), ("x" * 2001, "tối đa 2000 ký tự")]
)
def test_an_empty_or_too_long_reply_is_not_sent(
    db: Engine, app: Flask, escalation: dict, text: str, reason: str
) -> None:
    lan = sign_in(app, "lan")
    act(lan, escalation["id"], "take")
    answer = act(lan, escalation["id"], "reply", text=text)
    assert answer.status_code == 303
    assert outbox.messages(SENDER, db) == []
    assert reason in lan.get(answer.location).text  # the reason is shown
    assert act(lan, escalation["id"], "reply", text="x" * 2000).status_code == 303  # the limit itself is fine
    assert len(outbox.messages(SENDER, db)) == 1


def test_an_admin_takes_over_and_the_agent_no_longer_can_reply(
    db: Engine, app: Flask, escalation: dict
) -> None:
    lan, hoa = sign_in(app, "lan"), sign_in(app, "hoa")
    act(lan, escalation["id"], "take")
    assert "Nhận xử lý" in hoa.get(f"/escalations/{escalation['id']}").text
    assert act(hoa, escalation["id"], "take").status_code == 303
    assert escalations.get(escalation["id"], db)["staff"] == "hoa"
    assert act(lan, escalation["id"], "reply", text="Dạ").status_code == 403
    assert act(hoa, escalation["id"], "reply", text="Dạ, chị Hoa hỗ trợ ạ").status_code == 303
    assert [m["staff"] for m in outbox.messages(SENDER, db)] == ["hoa"]


def test_customer_markup_is_shown_as_text(app: Flask, escalation: dict) -> None:
    lan = sign_in(app, "lan")
    for path in (f"/escalations/{escalation['id']}", f"/escalations/{escalation['id']}/transcript"):
        answer = lan.get(path)
        assert SCRIPT not in answer.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; máy vẫn hỏng" in answer.text
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]  # and no inline script would run


def test_the_escalation_page_shows_sentiment_faq_topics_and_surveys(
    app: Flask, db: Engine, escalation: dict
) -> None:
    survey = surveys.start(SENDER, "rest", SENDER, "warranty", "staff", db=db)
    surveys.record(survey, db=db, status="completed", csat=2, ces=3, comment="Giao hàng chậm")
    page = sign_in(app, "lan").get(f"/escalations/{escalation['id']}").text
    assert re.search(r'sentiment--negative"[^>]*>\s*Tiêu cực\s+91%', page)
    assert "Trợ lý không tìm được câu trả lời (2 lần)" in page
    assert "Bảo hành" in page and "(đã trả lời)" in page and "Trả góp 0%" in page and "(đã gợi ý)" in page
    assert "Số lần trợ lý không tìm được câu trả lời: 1" in page
    assert "Lúc chuyển cho nhân viên" in page and "Phiên trò chuyện hiện tại" in page
    assert "Giao hàng chậm" in page and "sau khi nhân viên hỗ trợ" in page
    texts = re.findall(r'<div class="text">(.*?)</div>', page, re.S)
    assert (
        texts[0] == "bảo hành máy giặt bao lâu" and texts[-1] == "Dạ, em chưa tìm được câu trả lời phù hợp ạ."
    )


def test_the_transcript_alone_says_its_version_which_changes_with_a_new_message(
    db: Engine, app: Flask, escalation: dict
) -> None:
    lan = sign_in(app, "lan")
    page = lan.get(f"/escalations/{escalation['id']}").text
    first = lan.get(f"/escalations/{escalation['id']}/transcript").headers["X-Transcript-Version"]
    assert f'data-version="{first}"' in page
    assert lan.get(f"/escalations/{escalation['id']}/transcript").headers["X-Transcript-Version"] == first
    act(lan, escalation["id"], "take")
    act(lan, escalation["id"], "reply", text="Dạ em đây ạ")
    answer = lan.get(f"/escalations/{escalation['id']}/transcript")
    assert answer.headers["X-Transcript-Version"] != first and "Dạ em đây ạ" in answer.text


def test_an_outbox_message_rasa_also_stored_is_shown_once() -> None:
    sent = datetime.fromtimestamp(NOW, tz=timezone.utc)
    queued = [
        {"created_at": sent.replace(tzinfo=None), "author": "bot", "text": "Dạ, em chưa tìm được câu trả lời phù hợp ạ.",
         "staff": None, "buttons": [], "delivered_at": None},
        {"created_at": sent.replace(tzinfo=None) + timedelta(seconds=1), "author": "staff", "text": "Dạ em Lan đây ạ",
         "staff": "lan", "buttons": [], "delivered_at": sent.replace(tzinfo=None)},
    ]  # fmt: skip
    shown = lines(EVENTS, queued, {"lan": "Nguyễn Thị Lan"})
    assert [line.text for line in shown].count("Dạ, em chưa tìm được câu trả lời phù hợp ạ.") == 1
    assert [(line.author, line.staff, line.delivered) for line in shown[-2:]] == [
        ("bot", None, False),
        ("staff", "Nguyễn Thị Lan", True),
    ]
    assert [line.at for line in shown] == sorted(line.at for line in shown)


def test_a_channels_own_opening_is_not_shown_as_the_customers_words() -> None:
    opened = [
        {"event": "user", "timestamp": NOW, "text": "/greet", "parse_data": {}},
        {"event": "bot", "timestamp": NOW + 1, "text": "Dạ, em chào anh Hùng ạ!"},
        {"event": "user", "timestamp": NOW + 2, "text": "/greet thì sao", "parse_data": {}},
    ]
    shown = lines(opened, [], {})
    assert [(line.author, line.text) for line in shown] == [
        ("bot", "Dạ, em chào anh Hùng ạ!"),
        ("customer", "/greet thì sao"),
    ]


def test_an_expired_session_goes_back_to_the_login_page(db: Engine, escalation: dict) -> None:
    app = make_app(db, PERMANENT_SESSION_LIFETIME=timedelta(seconds=1))
    lan = sign_in(app, "lan")
    assert lan.get("/").status_code == 200
    time.sleep(2.2)
    answer = lan.get(f"/escalations/{escalation['id']}")
    assert answer.status_code == 302 and answer.location.startswith("/login")
    assert lan.post(f"/escalations/{escalation['id']}/take").status_code == 401


def test_signing_out_ends_the_session(app: Flask) -> None:
    lan = sign_in(app, "lan")
    assert lan.post("/logout").status_code == 400  # without the token it is refused too
    assert lan.post("/logout", data={"csrf_token": token(lan, "/")}).status_code == 302
    assert lan.get("/").status_code == 302


def test_a_disabled_staff_member_is_signed_out_at_once_and_cannot_sign_in(app: Flask) -> None:
    from vietcx.cli import main

    lan = sign_in(app, "lan")
    assert lan.get("/").status_code == 200
    assert main(["staff", "disable", "lan"]) == 0
    assert lan.get("/").status_code == 302  # the next page already asks to sign in
    client = app.test_client()
    refused = client.post(
        "/login", data={"csrf_token": token(client, "/login"), "username": "lan", "password": PASSWORD}
    )
    assert refused.status_code == 401
    assert main(["staff", "enable", "lan"]) == 0
    assert sign_in(app, "lan").get("/").status_code == 200
    assert main(["staff", "disable", "nobody"]) == 1


def test_after_login_only_a_local_page_is_followed(app: Flask) -> None:
    for target, expected in [
        ("/escalations/1", "/escalations/1"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
    ]:
        client = app.test_client()
        csrf = token(client, "/login")
        answer = client.post(
            f"/login?next={target}", data={"csrf_token": csrf, "username": "lan", "password": PASSWORD}
        )
        assert answer.location == expected


def test_the_queue_filters_and_counts(app: Flask, db: Engine) -> None:
    opened = [
        ("a", "web", "customer_request", datetime(2026, 11, 2, 3, 0, tzinfo=timezone.utc)),
        ("b", "rest", "faq_fallback", datetime(2026, 11, 3, 3, 0, tzinfo=timezone.utc)),
        (
            "c",
            "web",
            "negative_sentiment",
            datetime(2026, 11, 4, 18, 0, tzinfo=timezone.utc),
        ),  # 5 Nov in Vietnam
    ]
    ids = {}
    for sender, channel, reason, when in opened:
        row, _ = escalations.open_escalation(
            sender, channel, sender, f"Khách {sender.upper()}", reason, db=db
        )
        with db.begin() as connection:
            connection.execute(
                update(escalation_table).where(escalation_table.c.id == row["id"]).values(created_at=when)
            )
        ids[sender] = row["id"]
    escalations.assign(ids["a"], "lan", db)
    lan = sign_in(app, "lan")

    def shown(query: str) -> set[str]:
        return set(re.findall(r"<a href=\"/escalations/\d+\">(Khách [A-C])</a>", lan.get(f"/?{query}").text))

    assert shown("") == {"Khách A", "Khách B", "Khách C"}
    assert shown("channel=web") == {"Khách A", "Khách C"}
    assert shown("reason=faq_fallback") == {"Khách B"}
    assert shown("status=assigned") == {"Khách A"}
    assert shown("from=2026-11-05&to=2026-11-05") == {"Khách C"}  # days are Vietnam's days
    assert shown("from=2026-11-02&to=2026-11-03&channel=rest") == {"Khách B"}
    page = lan.get("/?channel=web").text
    assert re.search(r"Đang chờ: <strong>1</strong>", page) and re.search(
        r"Đang xử lý: <strong>1</strong>", page
    )
    assert "<td>Nguyễn Thị Lan</td>" in page and "<td>Trợ lý không tìm được" not in page
    assert "chưa đúng dạng ngày" in lan.get("/?from=hôm-qua").text


def test_resolve_while_rasa_is_unreachable_changes_nothing(db: Engine, escalation: dict) -> None:
    app = make_app(db, rasa_url=f"http://127.0.0.1:{free_port()}")
    lan = sign_in(app, "lan")
    act(lan, escalation["id"], "take")
    answer = act(lan, escalation["id"], "resolve")
    assert "Chưa liên lạc được với trợ lý ảo" in lan.get(answer.location).text
    row = escalations.get(escalation["id"], db)
    assert (row["status"], row["staff"], row["resolved_at"]) == ("assigned", "lan", None)
    assert outbox.messages(SENDER, db) == []


@pytest.fixture()
def rasa_stand_in() -> Iterator[tuple[str, list]]:
    """A local HTTP server answering trigger_intent as Rasa does; it records what it was sent."""
    calls: list = []

    class TriggerIntent(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            calls.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            body = json.dumps({"tracker": {}, "messages": [
                {"recipient_id": SENDER, "text": "Chị hài lòng với sự hỗ trợ hôm nay ở mức nào ạ?",
                 "buttons": [{"title": "5 ⭐", "payload": "/survey_answer{\"score\": 5}"}]},
            ]}).encode()  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), TriggerIntent)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", calls
    server.shutdown()
    server.server_close()


def test_resolve_hands_back_to_the_bot_and_queues_its_survey_question(
    db: Engine, escalation: dict, rasa_stand_in: tuple[str, list]
) -> None:
    url, calls = rasa_stand_in
    lan = sign_in(make_app(db, rasa_url=url), "lan")
    act(lan, escalation["id"], "take")
    answer = act(lan, escalation["id"], "resolve")
    assert "Đã giải quyết yêu cầu" in lan.get(answer.location).text
    assert calls == [(f"/conversations/{SENDER}/trigger_intent", {"name": "EXTERNAL_staff_resolved"})]
    [message] = outbox.messages(SENDER, db)
    assert (message["author"], message["escalation_id"]) == ("bot", escalation["id"])
    assert message["text"] == "Chị hài lòng với sự hỗ trợ hôm nay ở mức nào ạ?"
    assert message["buttons"] == [{"title": "5 ⭐", "payload": '/survey_answer{"score": 5}'}]
    row = escalations.get(escalation["id"], db)
    assert (row["status"], row["resolved_by"]) == ("resolved", "lan") and row["resolved_at"]
    assert act(lan, escalation["id"], "reply", text="Dạ").status_code == 303  # refused politely
    assert len(outbox.messages(SENDER, db)) == 1


def test_the_session_secret_is_made_once_and_kept_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIETCX_CONSOLE_SECRET", raising=False)
    path = tmp_path / "var" / "console-secret"
    first = secret_key(path)
    assert len(first) == 64 and secret_key(path) == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["console-secret"]
    monkeypatch.setenv("VIETCX_CONSOLE_SECRET", "from-the-environment")
    assert secret_key(path) == "from-the-environment"


def attempt(client: FlaskClient, username: str, password: str):  # noqa: ANN201
    """One sign-in with the login page's own CSRF token."""
    csrf = token(client, "/login")
    return client.post("/login", data={"csrf_token": csrf, "username": username, "password": password})


def from_address(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_signing_out_ends_every_session_of_the_account_and_a_copied_cookie_is_refused(
    db: Engine, app: Flask, escalation: dict
) -> None:
    office, phone, minh = sign_in(app, "lan"), sign_in(app, "lan"), sign_in(app, "minh")
    copied = office.get_cookie("vietcx_console").value
    csrf = token(office, f"/escalations/{escalation['id']}")  # a form the thief also saw
    assert phone.get("/").status_code == 200
    assert office.post("/logout", data={"csrf_token": token(office, "/")}).status_code == 302
    answer = phone.get("/")  # the other browser's very next request
    assert answer.status_code == 302 and answer.location.startswith("/login")
    assert "Phiên làm việc đã kết thúc" in phone.get(answer.location).text
    replay = app.test_client()
    replay.set_cookie("vietcx_console", copied)
    answer = replay.get(f"/escalations/{escalation['id']}")
    assert answer.status_code == 302 and answer.location.startswith("/login")
    replay.set_cookie("vietcx_console", copied)
    assert replay.post(f"/escalations/{escalation['id']}/take", data={"csrf_token": csrf}).status_code == 401
    assert escalations.get(escalation["id"], db)["status"] == "open"
    assert minh.get("/").status_code == 200  # other staff members stay signed in
    assert sign_in(app, "lan").get("/").status_code == 200  # and Lan signs in again as usual


def test_a_new_password_ends_every_session(db: Engine, app: Flask) -> None:
    office, phone = sign_in(app, "lan"), sign_in(app, "lan")
    copied = office.get_cookie("vietcx_console").value
    staff.set_password("lan", "mật khẩu mới cũng đủ dài", db)
    assert office.get("/").status_code == 302 and phone.get("/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("vietcx_console", copied)
    assert replay.get("/").status_code == 302
    assert attempt(app.test_client(), "lan", PASSWORD).status_code == 401
    assert sign_in(app, "lan", "mật khẩu mới cũng đủ dài").get("/").status_code == 200


def test_staff_disable_on_the_command_line_ends_sessions_for_good(app: Flask) -> None:
    lan = sign_in(app, "lan")
    copied = lan.get_cookie("vietcx_console").value
    assert cli(["staff", "disable", "lan"]) == 0
    assert cli(["staff", "enable", "lan"]) == 0
    assert lan.get("/").status_code == 302  # enabling again does not bring old sessions back
    replay = app.test_client()
    replay.set_cookie("vietcx_console", copied)
    assert replay.get("/").status_code == 302
    assert sign_in(app, "lan").get("/").status_code == 200


def test_a_session_id_without_the_current_epoch_is_refused(db: Engine, app: Flask) -> None:
    lan = sign_in(app, "lan")
    with lan.session_transaction() as session:
        assert session["_user_id"] == "lan:0"
        session["_user_id"] = "lan"  # as sessions were before epochs, or forged with another epoch
    assert lan.get("/").status_code == 302
    staff.end_sessions("lan", db)
    lan = sign_in(app, "lan")
    with lan.session_transaction() as session:
        assert session["_user_id"] == "lan:1"


def test_an_older_database_gets_the_epoch_column_and_its_accounts_keep_working(tmp_path: Path) -> None:
    """Accounts made before session epochs existed read epoch 0, sign in and sign out everywhere."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE staff (id INTEGER PRIMARY KEY, username VARCHAR(64) NOT NULL UNIQUE, display_name"
            " VARCHAR(200) NOT NULL, password_hash VARCHAR(300) NOT NULL, role VARCHAR(16) NOT NULL,"
            " active BOOLEAN NOT NULL, created_at DATETIME NOT NULL)"
        )
        connection.execute(
            "INSERT INTO staff VALUES (1, 'lan', 'Nguyễn Thị Lan', ?, 'agent', 1, '2026-01-01 00:00:00')",
            (staff.generate_password_hash(PASSWORD),),
        )
    db = engine(f"sqlite:///{path}")
    assert staff.get("lan", db)["session_epoch"] == 0
    app = make_app(db)
    office, phone = sign_in(app, "lan"), sign_in(app, "lan")
    office.post("/logout", data={"csrf_token": token(office, "/")})
    assert phone.get("/").status_code == 302
    assert staff.get("lan", db)["session_epoch"] == 1


def test_twenty_failures_from_one_address_lock_that_address_whatever_the_names(app: Flask) -> None:
    guesser = from_address(app, "203.0.113.7")
    for number in range(19):
        assert attempt(guesser, f"doan-{number}", "sai mật khẩu").status_code == 401
    assert attempt(guesser, "lan", PASSWORD).status_code == 302  # signing in does not reset the count
    guesser = from_address(app, "203.0.113.7")
    assert attempt(guesser, "doan-19", "sai mật khẩu").status_code == 401  # the 20th failure
    answer = attempt(guesser, "minh", PASSWORD)
    assert answer.status_code == 429 and "tạm thời bị khóa" in answer.text
    assert attempt(from_address(app, "203.0.113.8"), "minh", PASSWORD).status_code == 302  # others can


def test_a_locked_name_reads_the_same_whether_or_not_it_exists(app: Flask) -> None:
    pages = []
    for username in ("lan", "khong-ton-tai"):
        client = from_address(app, f"198.51.100.{len(pages) + 1}")
        for _ in range(5):
            assert attempt(client, username, "sai mật khẩu").status_code == 401
        answer = attempt(client, username, PASSWORD)
        assert answer.status_code == 429
        pages.append(re.sub(r'value="[^"]*"', "", answer.text))
    assert pages[0] == pages[1] and "Tên đăng nhập này tạm thời bị khóa" in pages[0]
    assert attempt(from_address(app, "198.51.100.9"), "lan", PASSWORD).status_code == 429  # from anywhere


def test_a_lock_ends_after_its_time(db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LoginThrottle, "LOCK", parse("1 per 1 second"))  # 5 minutes in service
    app = make_app(db)
    client = app.test_client()
    for _ in range(5):
        attempt(client, "lan", "sai mật khẩu")
    assert attempt(client, "lan", PASSWORD).status_code == 429
    time.sleep(1.2)
    assert attempt(client, "lan", PASSWORD).status_code == 302


def test_every_staff_action_is_in_the_audit_trail_without_passwords_or_message_text(
    db: Engine, escalation: dict, rasa_stand_in: tuple[str, list]
) -> None:
    app = make_app(db, rasa_url=rasa_stand_in[0])
    attempt(from_address(app, "192.0.2.1"), "lan", "sai mật khẩu rồi")
    lan = sign_in(app, "lan")
    act(lan, escalation["id"], "take")
    reply = "Dạ, số điện thoại của chị là gì ạ?"
    act(lan, escalation["id"], "reply", text=reply)
    act(lan, escalation["id"], "resolve")
    hoa = sign_in(app, "hoa")
    lan.post("/logout", data={"csrf_token": token(lan, "/")})
    rows = [(r["actor"], r["action"], r["target"], r["detail"], r["address"]) for r in audit_rows(db=db)]
    target = str(escalation["id"])
    assert rows[::-1] == [
        ("lan", "sign_in_failed", None, None, "192.0.2.1"),
        ("lan", "sign_in", None, None, "127.0.0.1"),
        ("lan", "take", target, None, "127.0.0.1"),
        ("lan", "reply", target, f"{len(reply)} ký tự", "127.0.0.1"),
        ("lan", "resolve", target, None, "127.0.0.1"),
        ("hoa", "sign_in", None, None, "127.0.0.1"),
        ("lan", "sign_out", None, None, "127.0.0.1"),
    ]
    stored = json.dumps([list(r.values()) for r in audit_rows(db=db)], default=str, ensure_ascii=False)
    assert "sai mật khẩu" not in stored and PASSWORD not in stored and "số điện thoại" not in stored
    assert hoa.get("/audit").status_code == 200


def test_an_admin_taking_over_is_audited_with_whom_it_was_taken_from(
    db: Engine, app: Flask, escalation: dict
) -> None:
    act(sign_in(app, "lan"), escalation["id"], "take")
    act(sign_in(app, "hoa"), escalation["id"], "take")
    [row] = audit_rows(actor="hoa", action="take", db=db)
    assert (row["target"], row["detail"]) == (str(escalation["id"]), "nhận lại từ lan")


def test_the_audit_page_is_for_admins_only(app: Flask) -> None:
    lan = sign_in(app, "lan")
    answer = lan.get("/audit")
    assert answer.status_code == 403 and "Chỉ quản trị viên" in answer.text
    assert "Nhật ký thao tác" not in lan.get("/").text  # no link for agents
    hoa = sign_in(app, "hoa")
    assert 'href="/audit"' in hoa.get("/").text


def test_the_audit_page_lists_newest_first_filters_and_pages(db: Engine, app: Flask) -> None:
    attempt(app.test_client(), "<b>ai đó</b>", "sai mật khẩu rồi")
    hoa = sign_in(app, "hoa")
    for number in range(100):
        attempt(from_address(app, f"10.0.0.{number}"), f"doan-{number}", "sai")
    sign_in(app, "minh")
    page = hoa.get("/audit").text
    actors = re.findall(r'<tr class="audit--[a-z_]+">\s*<td>[^<]*</td>\s*<td>([^<]*)</td>', page)
    assert len(actors) == 100 and actors[0] == "minh" and actors[1] == "doan-99"  # newest first
    older = re.search(r'href="([^"]+)">Cũ hơn', page).group(1).replace("&amp;", "&")
    rest = hoa.get(older).text
    assert "hoa" in re.findall(r"<td>([^<]*)</td>", rest) and "&lt;b&gt;ai đó&lt;/b&gt;" in rest
    assert "<b>ai đó</b>" not in rest  # a typed name is shown as text
    assert "Cũ hơn" not in rest and "Mới nhất" in rest
    only = hoa.get("/audit?actor=hoa&action=sign_in").text
    assert only.count('<tr class="audit--sign_in">') == 1 and "Đăng nhập sai" not in only.split("<tbody>")[1]
    assert "Không có thao tác nào" in hoa.get("/audit?actor=khong-ai").text
