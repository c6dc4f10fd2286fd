"""Hand-over to staff with the real Rasa and action servers and a real SQLite file: the escalation,
the bot's silence, staff replies reaching the customer, and the hand-back that starts the survey."""

from __future__ import annotations

import uuid

import requests
from sqlalchemy import select

from harness import Assistant
from harness import reply_text as texts
from vietcx.store import escalations, outbox, staff
from vietcx.store.db import engine, surveys

NGOC = {"customer": {"name": "Trần Thị Ngọc"}}


def new_sender() -> str:
    return f"handoff-{uuid.uuid4().hex[:8]}"


def updates(assistant: Assistant, sender: str, after: int = 0) -> list[dict]:
    """What a polling client collects, having shown everything up to `after`."""
    reply = requests.get(
        f"{assistant.url}/webhooks/rest/updates",
        params={"sender": sender, "after": after},
        headers=assistant.rest_headers,
        timeout=30,
    )
    reply.raise_for_status()
    return reply.json()


def hand_back(assistant: Assistant, sender: str) -> list[dict]:
    """What the console does on "resolve": the external intent, then its answer to the outbox."""
    return assistant.trigger_intent(sender, "EXTERNAL_staff_resolved")


def test_a_person_on_request_silence_staff_replies_and_the_survey_after(assistant: Assistant) -> None:
    db = engine(assistant.database_url)
    sender = new_sender()
    assistant.chat(sender, "xin chào", NGOC)
    told = texts(assistant.chat(sender, "cho tôi gặp nhân viên", NGOC))
    assert "chị Ngọc" in told and "phút" in told

    escalation = escalations.current(sender, db)
    assert escalation and escalation["status"] == "open" and escalation["reason"] == "customer_request"
    assert escalation["customer_name"] == "Trần Thị Ngọc"

    # nobody took it yet: a holding line once (tests/e2e/test_waiting_for_staff.py has the rest);
    # the message is still stored with its sentiment
    assert "vui lòng chờ" in texts(assistant.chat(sender, "alo, sao lâu vậy, có ai không 😡", NGOC))
    last = [e for e in assistant.tracker(sender)["events"] if e["event"] == "user"][-1]
    assert last["text"].startswith("alo") and last["parse_data"]["sentiment"]["label"] in (
        "negative",
        "neutral",
    )
    assert assistant.chat(sender, "cho gặp nhân viên", NGOC) == []  # still one escalation
    assert escalations.current(sender, db)["id"] == escalation["id"]

    # a staff member takes it and replies: a polling client gets it until it acknowledges it
    agent = f"lan-{sender}"  # the servers (and their database) are shared by the whole test session
    staff.add(agent, "Nguyễn Thị Lan", "mat-khau-rat-dai", db=db)
    escalations.assign(escalation["id"], agent, db)
    outbox.send(
        sender, "Dạ em là Lan, em kiểm tra đơn cho chị ngay ạ", "staff", agent, escalation["id"], db=db
    )
    [delivered] = updates(assistant, sender)
    cursor = delivered["custom"]["outbox_id"]
    assert delivered["text"].startswith("Dạ em là Lan") and delivered["custom"] == {
        "staff": True,
        "staff_name": "Lan",
        "outbox_id": cursor,
    }
    # not acknowledged yet: a poll whose answer was lost on the way gets it again
    assert [m["text"] for m in updates(assistant, sender)] == [delivered["text"]]
    assert updates(assistant, sender, after=cursor) == []
    # or it comes with the answer to the customer's next message
    outbox.send(sender, "Đơn của chị sẽ giao chiều nay ạ", "staff", agent, escalation["id"], db=db)
    assert texts(assistant.chat(sender, "dạ em cảm ơn", NGOC)) == "Đơn của chị sẽ giao chiều nay ạ"

    # staff resolve: the bot is back and asks for the survey, recorded as resolved by staff
    back = hand_back(assistant, sender)
    escalations.resolve(escalation["id"], agent, db)
    assert "nhân viên đã hỗ trợ xong" in texts(back) and "hài lòng" in texts(back)
    assert "dễ dàng" in texts(assistant.chat(sender, "5 sao", NGOC))
    with db.connect() as connection:
        [survey] = connection.execute(select(surveys).where(surveys.c.sender_id == sender)).all()
    assert (survey.resolved_by, survey.csat, survey.topic) == ("staff", 5, "escalation:customer_request")
    assert escalations.current(sender, db) is None


def test_two_faq_fallbacks_in_a_row_hand_over(assistant: Assistant) -> None:
    sender = new_sender()
    # shop questions the knowledge base has no answer for
    first = texts(assistant.chat(sender, "shop có bán linh kiện thay thế cho nồi cơm điện không"))
    assert "chưa tìm được" in first and escalations.current(sender, engine(assistant.database_url)) is None
    second = texts(assistant.chat(sender, "tivi có hỗ trợ điều khiển bằng giọng nói tiếng việt không"))
    assert "mời nhân viên" in second and "phút" in second
    assert escalations.current(sender, engine(assistant.database_url))["reason"] == "faq_fallback"


def test_questions_only_staff_can_answer_go_to_a_person_even_asked_angrily(assistant: Assistant) -> None:
    sender = new_sender()
    first = texts(assistant.chat(sender, "tủ lạnh Samsung inverter 380 lít bên em còn hàng không"))
    assert "chưa tìm được" in first  # not the nearest topic's answer (authenticity, promotions…)
    second = texts(assistant.chat(sender, "hỏi mãi chán thật, máy giặt LG 10kg bao giờ mới về hàng vậy???"))
    assert "nhân viên" in second
    assert escalations.current(sender, engine(assistant.database_url))["reason"] in (
        "faq_fallback",
        "negative_sentiment",
    )
