"""The CSAT/CES survey after a resolved FAQ, against the real servers and a real SQLite file."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from harness import Assistant
from harness import reply_text as texts
from vietcx.store.db import engine, surveys

CSAT_QUESTION = "hài lòng với sự hỗ trợ hôm nay"
CES_QUESTION = "dễ dàng đến mức nào"
COMMENT_QUESTION = "góp ý gì thêm"


# the buttons under the CSAT question: the scores 1–5, then skip (titles "5 – Rất hài lòng" …)
CSAT_PAYLOADS = [f'/survey_answer{{"score": {n}}}' for n in range(1, 6)] + ["bỏ qua"]
CSAT_TITLES = ["1", "2", "3", "4", "5", "Bỏ qua"]  # each title before " – "


def csat_buttons(assistant: Assistant, sender: str) -> list[dict]:
    """The buttons of the last bot message that asked the CSAT question, from the stored conversation
    (the tracker's last event is the `action_listen` after it, which has none)."""
    asked = [
        event
        for event in assistant.tracker(sender)["events"]
        if event["event"] == "bot" and CSAT_QUESTION in (event.get("text") or "")
    ]
    assert asked, f"{sender}: no bot message asked the CSAT question"
    return (asked[-1].get("data") or {}).get("buttons") or []


def stored(assistant: Assistant, sender: str) -> list[dict]:
    with engine(assistant.database_url).connect() as connection:
        rows = connection.execute(
            select(surveys).where(surveys.c.sender_id == sender).order_by(surveys.c.started_at)
        )
        return [dict(r._mapping) for r in rows]


def resolved_faq(assistant: Assistant, metadata: dict | None = None) -> tuple[str, str]:
    """A new customer asks about warranty and says it is solved; returns (sender, replies text)."""
    sender = f"survey-{uuid.uuid4().hex[:8]}"
    assert (
        "bảo hành"
        in texts(assistant.chat(sender, "sản phẩm được bảo hành bao lâu vậy shop", metadata)).lower()
    )
    return sender, texts(assistant.chat(sender, "/faq_resolved"))


def test_full_survey_is_stored_and_the_customer_thanked_by_name(assistant: Assistant) -> None:
    sender, replies = resolved_faq(assistant, {"customer": {"name": "Trần Thị Ngọc"}})
    assert CSAT_QUESTION in replies
    buttons = csat_buttons(assistant, sender)
    assert [b["payload"] for b in buttons] == CSAT_PAYLOADS
    assert [b["title"].split(" – ")[0] for b in buttons] == CSAT_TITLES
    assert CES_QUESTION in texts(assistant.chat(sender, '/survey_answer{"score": 5}'))
    assert COMMENT_QUESTION in texts(assistant.chat(sender, "khá dễ"))
    thanks = texts(assistant.chat(sender, "nhân viên tư vấn nhiệt tình"))
    assert "cảm ơn chị Ngọc" in thanks
    [row] = stored(assistant, sender)
    assert (row["csat"], row["ces"], row["comment"], row["status"]) == (
        5,
        5,
        "nhân viên tư vấn nhiệt tình",
        "completed",
    )
    assert (row["topic"], row["channel"], row["resolved_by"]) == ("warranty", "rest", "faq")
    assert row["answered_at"] is not None

    # a second resolution within 24 hours: no second survey
    assistant.chat(sender, "phí ship bao nhiêu vậy ad")
    assert CSAT_QUESTION not in texts(assistant.chat(sender, "/faq_resolved"))
    assert len(stored(assistant, sender)) == 1


def test_typed_answers_without_buttons(assistant: Assistant) -> None:
    sender, _ = resolved_faq(assistant)
    assert CES_QUESTION in texts(assistant.chat(sender, "5 sao"))
    assert COMMENT_QUESTION in texts(assistant.chat(sender, "rat de"))
    assistant.chat(sender, "không")
    [row] = stored(assistant, sender)
    assert (row["csat"], row["ces"], row["comment"], row["status"]) == (5, 7, None, "completed")


def test_skip_is_stored_as_skipped(assistant: Assistant) -> None:
    sender, _ = resolved_faq(assistant)
    assert "không sao" in texts(assistant.chat(sender, "bỏ qua")).lower()
    [row] = stored(assistant, sender)
    assert row["status"] == "skipped" and row["csat"] is None
    assert "xin chào" in texts(assistant.chat(sender, "xin chào")).lower()  # no survey question follows


def test_unreadable_answer_is_asked_again_once_then_the_survey_moves_on(assistant: Assistant) -> None:
    sender, _ = resolved_faq(assistant)
    again = texts(assistant.chat(sender, "sao cũng được"))
    assert "chưa hiểu" in again and CSAT_QUESTION in again
    assert CES_QUESTION in texts(assistant.chat(sender, "hmm"))
    assistant.chat(sender, "4")
    assistant.chat(sender, "không")
    [row] = stored(assistant, sender)
    assert (row["csat"], row["ces"], row["status"]) == (None, 4, "partial")


def test_a_question_mid_survey_is_answered_and_the_survey_lets_go(assistant: Assistant) -> None:
    sender, _ = resolved_faq(assistant)
    assistant.chat(sender, "4")
    replies = texts(assistant.chat(sender, "phí ship bao nhiêu vậy ad"))
    assert "đ" in replies and CES_QUESTION not in replies  # the shipping fee answer, not the survey
    [row] = stored(assistant, sender)
    assert (row["csat"], row["status"]) == (4, "partial")
    assert CES_QUESTION not in texts(assistant.chat(sender, "cảm ơn"))


def test_a_question_before_any_answer_leaves_the_survey_skipped(assistant: Assistant) -> None:
    sender, _ = resolved_faq(assistant)
    assert CES_QUESTION not in texts(assistant.chat(sender, "phí ship bao nhiêu vậy ad"))
    [row] = stored(assistant, sender)
    assert (row["csat"], row["status"]) == (None, "skipped")


def test_csat_survives_a_restart_of_the_action_server(assistant: Assistant) -> None:
    sender, _ = resolved_faq(assistant)
    assistant.chat(sender, "năm")
    assistant.restart("actions")
    assert stored(assistant, sender)[0]["csat"] == 5  # already in the database before the restart
    assert COMMENT_QUESTION in texts(assistant.chat(sender, "dễ"))
    assistant.chat(sender, "không có")
    [row] = stored(assistant, sender)
    assert (row["csat"], row["ces"], row["status"]) == (5, 6, "completed")


def test_a_comment_that_ends_in_a_question_is_kept_and_the_question_answered(assistant: Assistant) -> None:
    sender, _ = resolved_faq(assistant)
    assistant.chat(sender, "5")
    assert COMMENT_QUESTION in texts(assistant.chat(sender, "6"))
    replies = texts(assistant.chat(sender, "nhân viên tư vấn nhiệt tình lắm, mà cho hỏi phí ship bao nhiêu vậy"))
    assert "500.000đ" in replies  # the shipping fee's answer
    [row] = stored(assistant, sender)
    assert (row["csat"], row["ces"], row["comment"]) == (5, 6, "nhân viên tư vấn nhiệt tình lắm")
    assert row["status"] == "completed"
