"""NPS switched on by a survey settings file (VIETCX_SURVEY_FILE), with the real servers: asked
after CES with 0–10 buttons, a typed "9 điểm" stored, and reported as %promoters − %detractors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from harness import Assistant, running_assistant
from harness import reply_text as texts
from vietcx.reports.surveys import figures
from vietcx.store.db import engine, surveys
from vietcx.store.period import Period

NPS_QUESTION = "giới thiệu Điện Máy Sao Mai"


@pytest.fixture(scope="module")
def nps_on(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """Servers of their own whose survey file asks NPS and words CSAT its own way."""
    survey = Path(tmp_path_factory.mktemp("survey")) / "survey.yml"
    survey.write_text(
        'nps_enabled: true\nquestions:\n  csat: "Dạ, {customer_address} chấm dịch vụ hôm nay mấy sao ạ?"\n',
        encoding="utf-8",
    )
    with running_assistant(extra_env={"VIETCX_SURVEY_FILE": str(survey)}) as running:
        yield running


def test_nps_is_asked_after_ces_and_a_typed_score_is_stored(nps_on: Assistant) -> None:
    sender = f"nps-{uuid.uuid4().hex[:8]}"
    nps_on.chat(sender, "sản phẩm được bảo hành bao lâu vậy shop", {"customer": {"name": "Lê Văn Nam"}})
    asked = texts(nps_on.chat(sender, "/faq_resolved"))
    assert "trả lời 3 câu hỏi ngắn" in asked and "anh Nam chấm dịch vụ hôm nay mấy sao" in asked
    assert "dễ dàng đến mức nào" in texts(nps_on.chat(sender, '/survey_answer{"score": 4}'))
    replies = nps_on.chat(sender, "rất dễ")
    assert NPS_QUESTION in texts(replies)
    buttons = [b for r in replies for b in r.get("buttons", [])]
    assert [b["title"] for b in buttons][:11] == [str(n) for n in range(11)]
    assert buttons[0]["payload"] == '/survey_answer{"score": 0}'
    assert "góp ý gì thêm" in texts(nps_on.chat(sender, "9 điểm"))
    assert "cảm ơn anh Nam" in texts(nps_on.chat(sender, "không"))

    db = engine(nps_on.database_url)
    with db.connect() as connection:
        [row] = connection.execute(select(surveys).where(surveys.c.sender_id == sender)).all()
    assert (row.csat, row.ces, row.nps, row.status) == (4, 7, 9, "completed")
    overall = figures(Period(), db)["overall"]
    assert overall["nps_answers"] >= 1 and overall["nps"] is not None


def test_a_clicked_zero_is_an_answer(nps_on: Assistant) -> None:
    sender = f"nps-{uuid.uuid4().hex[:8]}"
    nps_on.chat(sender, "sản phẩm được bảo hành bao lâu vậy shop")
    nps_on.chat(sender, "/faq_resolved")
    nps_on.chat(sender, '/survey_answer{"score": 2}')
    nps_on.chat(sender, '/survey_answer{"score": 3}')
    assert "góp ý gì thêm" in texts(nps_on.chat(sender, '/survey_answer{"score": 0}'))
    with engine(nps_on.database_url).connect() as connection:
        [row] = connection.execute(select(surveys).where(surveys.c.sender_id == sender)).all()
    assert (row.csat, row.ces, row.nps) == (2, 3, 0)
