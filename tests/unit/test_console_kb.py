"""The knowledge base editor (/kb) through Flask's test client, on a copy of the real knowledge base
file, a real SQLite product database and a Rasa-shaped tracker store: only admins and editors get
in, every save is checked as `kb check` checks the file, kept in the history and restorable, and
unanswered questions become examples in one click."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from test_console import PASSWORD, sign_in, token
from tracker_store import tracker_store_file

from vietcx.kb.loader import load
from vietcx.settings import kb_file
from vietcx.store import kb_history, staff
from vietcx.store.audit import recent

NEW_ANSWER = "Dạ, Điện Máy Sao Mai bảo hành chính hãng 24 tháng cho mọi sản phẩm ạ."
REPAIR = "shop có nhận sửa xe máy không"  # no topic answers it
REPAIR_AGAIN = "Shop có sửa xe máy không ạ?"


@pytest.fixture()
def kb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db: Engine) -> Path:
    path = Path(shutil.copy(kb_file(), tmp_path / "faq.yml"))
    monkeypatch.setenv("VIETCX_KB_FILE", str(path))
    staff.add("thu", "Đỗ Minh Thư", PASSWORD, "editor", db=db)
    return path


def _post(client: FlaskClient, page: str, path: str, **fields: str):  # noqa: ANN202
    form = client.get(page).text
    base = re.search(r'name="base" type="hidden" value="([^"]*)"|name="base" value="([^"]*)"', form)
    data = {"csrf_token": token(client, page), "base": next(g for g in base.groups() if g is not None)}
    return client.post(path, data={**data, **fields})


def _topic(path: Path, topic_id: str):  # noqa: ANN202
    return next((t for t in load(path) if t.id == topic_id), None)


def test_agents_cannot_read_or_change_the_knowledge_base(app: Flask, kb: Path) -> None:
    lan = sign_in(app, "lan")
    before = kb.read_text(encoding="utf-8")
    for path in ("/kb", "/kb/topics/warranty", "/kb/history", "/kb/unanswered"):
        assert lan.get(path).status_code == 403, path
    csrf = token(lan, "/")
    for path in (
        "/kb/topics/warranty",
        "/kb/topics/warranty/delete",
        "/kb/history/1/restore",
        "/kb/unanswered",
    ):
        assert lan.post(path, data={"csrf_token": csrf, "title": "x"}).status_code == 403, path
    assert kb.read_text(encoding="utf-8") == before
    thu = sign_in(app, "thu")
    forged = {"topic_id": "warranty", "title": "x", "answer": "x", "examples": "x"}
    assert thu.post("/kb/topics/warranty", data=forged).status_code == 400  # no CSRF token: refused
    assert thu.post("/kb/topics/warranty", data={**forged, "csrf_token": "forged"}).status_code == 400
    assert kb.read_text(encoding="utf-8") == before
    assert "Kho kiến thức" not in lan.get("/").text and "Kho kiến thức" in sign_in(app, "thu").get("/").text


def test_an_edit_is_saved_checked_kept_in_the_history_and_audited(app: Flask, db: Engine, kb: Path) -> None:
    thu = sign_in(app, "thu")
    old = _topic(kb, "warranty")
    page = thu.get("/kb/topics/warranty").text
    assert old.title in page and old.examples[0] in page
    examples = "\n".join([*old.examples, "  bh may giat bao lau  ", ""])
    answer = _post(thu, "/kb/topics/warranty", "/kb/topics/warranty", topic_id="warranty", title=old.title,
                   answer=NEW_ANSWER, examples=examples)  # fmt: skip
    assert answer.status_code == 303
    new = _topic(kb, "warranty")
    assert new.answer == NEW_ANSWER and new.examples == (*old.examples, "bh may giat bao lau")
    assert kb.read_text(encoding="utf-8").startswith("# Knowledge base of Điện Máy Sao Mai")  # header kept
    versions = kb_history.versions(db=db)
    assert [(v["actor"], v["action"]) for v in versions] == [("thu", "edit"), ("file", "file")]
    assert recent(1, actor="thu", action="kb_change", db=db)[0]["target"] == "warranty"
    assert NEW_ANSWER[:40] in thu.get("/kb?q=24+thang").text  # searched without diacritics


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"topic_id": "Bảo hành!", "title": "Bảo hành"}, "mã chủ đề chỉ gồm chữ thường không dấu"),
        ({"topic_id": "warranty", "title": ""}, "tiêu đề đang trống"),
        ({"topic_id": "shipping_time", "title": "Bảo hành"}, "mã chủ đề đã được dùng cho chủ đề"),
        ({"topic_id": "warranty", "title": "Bảo hành", "examples": ""}, "cần ít nhất một câu hỏi mẫu"),
    ],
)
def test_a_topic_kb_check_refuses_is_not_saved(app: Flask, kb: Path, fields: dict, problem: str) -> None:
    thu = sign_in(app, "thu")
    before = kb.read_text(encoding="utf-8")
    data = {"answer": NEW_ANSWER, "examples": "bảo hành bao lâu", **fields}
    answer = _post(thu, "/kb/topics/warranty", "/kb/topics/warranty", **data)
    assert answer.status_code == 400 and problem in answer.text
    assert kb.read_text(encoding="utf-8") == before


def test_a_save_over_a_newer_version_is_refused(app: Flask, kb: Path) -> None:
    thu = sign_in(app, "thu")
    form = thu.get("/kb/topics/warranty").text
    base = re.search(r'name="base" type="hidden" value="([^"]*)"', form).group(1)
    kb.write_text(kb.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # someone else saved meanwhile
    before = kb.read_text(encoding="utf-8")
    answer = thu.post("/kb/topics/warranty", data={"csrf_token": token(thu, "/kb/topics/warranty"), "base": base,
                      "topic_id": "warranty", "title": "Bảo hành", "answer": NEW_ANSWER, "examples": "bh"})  # fmt: skip
    assert answer.status_code == 400 and "vừa được người khác thay đổi" in answer.text
    assert kb.read_text(encoding="utf-8") == before


def test_a_deleted_topic_comes_back_by_restoring_the_version_before(app: Flask, db: Engine, kb: Path) -> None:
    hoa = sign_in(app, "hoa")  # admins edit too
    assert _post(hoa, "/kb/topics/warranty", "/kb/topics/warranty/delete").status_code == 303
    assert _topic(kb, "warranty") is None and hoa.get("/kb/topics/warranty").status_code == 404
    [deleted, found] = kb_history.versions(db=db)
    assert (deleted["action"], found["action"]) == ("delete", "file")
    assert _post(hoa, "/kb/history", f"/kb/history/{found['id']}/restore").status_code == 303
    assert _topic(kb, "warranty") is not None
    assert kb_history.versions(db=db)[0]["summary"] == f"Khôi phục phiên bản #{found['id']}"
    assert _post(hoa, "/kb/history", "/kb/history/999/restore").status_code == 404


def _asked(text: str, seconds_ago: float, state: str | None = None, topic: str | None = None) -> list[dict]:
    at = time.time() - seconds_ago
    events = [
        {"event": "user", "timestamp": at, "text": text, "parse_data": {"intent": {"name": "faq_ask"}}},
        {"event": "action", "timestamp": at + 1, "name": "action_answer_faq"},
    ]
    if state:
        events.append({"event": "slot", "timestamp": at + 1, "name": "faq_state", "value": state})
    if topic:
        events.append({"event": "slot", "timestamp": at + 1, "name": "faq_topic", "value": topic})
    return events


def test_unanswered_questions_are_grouped_and_one_becomes_an_example(
    app: Flask, kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_solved = [*_asked("bảo hành có mất phí không", 300, "answered", "warranty"),
                  {"event": "user", "timestamp": time.time() - 200, "text": "/faq_unresolved",
                   "parse_data": {"intent": {"name": "faq_unresolved"}}}]  # fmt: skip
    tracker_store_file(
        tmp_path,
        monkeypatch,
        {
            "a": _asked(REPAIR, 600, "unknown"),
            "b": _asked(REPAIR_AGAIN, 500, "unknown"),
            "f": _asked("cửa hàng có chỗ đậu xe ô tô không", 450, "unknown"),  # answered by now: not listed
            "c": _asked("<b>shop có bán vé máy bay không</b>", 400, "unknown"),
            "d": not_solved,
            "e": _asked("bảo hành bao lâu", 100, "answered", "warranty"),  # answered, no "Chưa"
            "old": _asked("câu hỏi từ năm ngoái", 40 * 86400, "unknown"),
        },
    )
    thu = sign_in(app, "thu")
    page = thu.get("/kb/unanswered").text
    questions = re.findall(r'<section class="card unanswered" data-question="([^"]*)"', page)
    assert len(questions) == 3, questions  # the two repair questions are one group
    assert questions[0] == REPAIR_AGAIN  # the largest group first, its latest wording
    assert "2 lần hỏi" in page and "khách bấm “Chưa” sau câu trả lời về “Bảo hành”" in page
    assert "&lt;b&gt;shop có bán vé máy bay không&lt;/b&gt;" in page and "<b>shop" not in page
    assert (
        "câu hỏi từ năm ngoái" not in page
        and "câu hỏi từ năm ngoái" in thu.get("/kb/unanswered?days=90").text
    )
    assert thu.get("/kb/unanswered?days=3650").status_code == 400

    assert "shop có nhận sửa xe máy không" in page  # the other wording, shown with its group
    answer = _post(
        thu,
        "/kb/unanswered",
        "/kb/unanswered?days=30",
        question=REPAIR_AGAIN,
        topic_id="installation_service",
    )
    assert answer.status_code == 303
    assert REPAIR_AGAIN in _topic(kb, "installation_service").examples
    assert f'data-question="{REPAIR_AGAIN}"' not in thu.get("/kb/unanswered").text
    refused = _post(thu, "/kb/unanswered", "/kb/unanswered", question=REPAIR, topic_id="khong_co")
    assert refused.status_code == 404


def test_a_test_question_is_answered_as_the_assistant_would(app: Flask, kb: Path) -> None:
    page = sign_in(app, "thu").get("/kb?ask=ship+ve+Can+Tho+mat+may+ngay").text
    assert "Trợ lý sẽ trả lời theo chủ đề <strong>Thời gian giao hàng</strong>" in page
    assert "2–4 ngày làm việc" in page
