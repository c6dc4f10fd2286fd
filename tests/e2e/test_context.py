"""Replies read in the context of the question just asked, and the customer addressed by name, in
whole conversations through the real Rasa and action servers and a real SQLite file."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from harness import Assistant
from harness import reply_buttons as buttons
from harness import reply_text as texts
from vietcx.store import escalations
from vietcx.store.db import engine, surveys

ASKS_RESOLVED = "đã giải quyết được vấn đề"
CSAT = "hài lòng với sự hỗ trợ hôm nay"
CES = "dễ dàng đến mức nào"
COMMENT = "góp ý gì thêm"
APOLOGY = "thành thật xin lỗi"


def new_sender() -> str:
    return f"context-{uuid.uuid4().hex[:8]}"


def survey_rows(assistant: Assistant, sender: str) -> list[tuple[str, int | None, int | None]]:
    with engine(assistant.database_url).connect() as connection:
        rows = connection.execute(select(surveys).where(surveys.c.sender_id == sender))
        return [(r.status, r.csat, r.ces) for r in rows]


def test_typed_answers_from_the_name_to_the_last_survey_question(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.chat(sender, "chào shop")
    greeted = texts(assistant.chat(sender, "Anh là Phạm Quang Huy"))
    assert "anh Huy" in greeted and APOLOGY not in greeted
    answer = texts(assistant.chat(sender, "dat may giat hom nay thi bao lau nhan dc hang vay em"))
    assert "anh Huy" in answer and ASKS_RESOLVED in answer
    # the button's own title, typed; then "4 sao", "rất dễ" and "nothing more"
    asked = texts(assistant.chat(sender, "Đã giải quyết rồi"))
    assert CSAT in asked and APOLOGY not in asked
    assert "anh Huy hài lòng" in asked  # the honorific and name, not "Anh/chị"
    assert CES in texts(assistant.chat(sender, "4 sao"))
    assert COMMENT in texts(assistant.chat(sender, "rất dễ"))
    thanks = texts(assistant.chat(sender, "ko co gi them"))
    assert "cảm ơn anh Huy" in thanks and "khuyến mãi" not in thanks
    assert survey_rows(assistant, sender) == [("completed", 4, 7)]


def test_not_solved_then_yes_to_a_person_hands_over(assistant: Assistant) -> None:
    sender = new_sender()
    assert ASKS_RESOLVED in texts(assistant.chat(sender, "phí ship bao nhiêu vậy shop"))
    offer = assistant.chat(sender, "chua duoc")
    assert "/request_human" in [b["payload"] for b in buttons(offer)]
    assert "nhân viên" in texts(assistant.chat(sender, "có"))
    assert escalations.current(sender, engine(assistant.database_url)) is not None


def test_a_new_question_at_the_resolved_prompt_is_answered(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.chat(sender, "phí ship bao nhiêu vậy shop")
    replies = texts(assistant.chat(sender, "thế có giao tới Cà Mau không?"))
    assert ASKS_RESOLVED in replies and "chưa giúp được" not in replies


def test_scores_typed_as_words_and_a_correction(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.chat(sender, "sản phẩm được bảo hành bao lâu vậy shop")
    assert CSAT in texts(assistant.chat(sender, "xong rồi em"))
    assert CES in texts(assistant.chat(sender, "năm"))
    again = texts(assistant.chat(sender, "à nhầm, 4 sao thôi"))
    assert "sửa lại" in again and CES in again
    assert COMMENT in texts(assistant.chat(sender, "bốn"))
    assert "cảm ơn" in texts(assistant.chat(sender, "không"))
    assert survey_rows(assistant, sender) == [("completed", 4, 4)]


def test_a_signed_in_customer_is_addressed_by_honorific_throughout(assistant: Assistant) -> None:
    sender = new_sender()
    metadata = {"customer": {"id": sender, "name": "Lê Minh Tuấn"}}
    assert "anh Tuấn" in texts(assistant.chat(sender, "xin chào", metadata))
    answer = texts(assistant.chat(sender, "cho mình hỏi cách hủy đơn hàng online", metadata))
    # the knowledge base's answer ("Dạ, anh/chị được hủy đơn…") addressed to him too
    assert "anh được hủy đơn" in answer and "anh/chị" not in answer.lower()


def test_a_name_correction_mid_conversation(assistant: Assistant) -> None:
    sender = new_sender()
    metadata = {"customer": {"id": sender, "name": "Nguyễn Thị Thu"}}
    assert "chị Thu" in texts(assistant.chat(sender, "chào em", metadata))
    corrected = texts(assistant.chat(sender, "em ơi chị không phải Thu, chị tên Hằng", metadata))
    assert "chị Hằng" in corrected


def test_two_questions_in_one_message_are_both_answered(assistant: Assistant) -> None:
    sender = new_sender()
    replies = texts(assistant.chat(sender, "giao hàng mất mấy ngày vậy shop, mà phí ship bao nhiêu luôn?"))
    assert "được giao ngay trong ngày" in replies and "miễn phí giao hàng" in replies
    assert replies.count(ASKS_RESOLVED) == 1
    # the first question asked is the one a "solved" resolves
    assert CSAT in texts(assistant.chat(sender, "ok rồi"))
    with engine(assistant.database_url).connect() as connection:
        topic = connection.execute(select(surveys.c.topic).where(surveys.c.sender_id == sender)).scalar()
    assert topic == "shipping_time"
