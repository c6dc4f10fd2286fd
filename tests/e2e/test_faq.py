"""FAQ answers over the REST channel against the real servers, with a knowledge base edited live."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
import yaml

from harness import Assistant
from harness import reply_buttons as buttons
from harness import reply_text as texts


@pytest.fixture(autouse=True)
def restored_kb(assistant: Assistant) -> Iterator[None]:
    """Every test starts from the shop's knowledge base, whatever the previous one did to it."""
    original = assistant.kb_file.read_text(encoding="utf-8")
    yield
    if assistant.kb_file.read_text(encoding="utf-8") != original:
        assistant.kb_file.write_text(original, encoding="utf-8")
        later = time.time() + 10
        os.utime(assistant.kb_file, (later, later))


def new_sender() -> str:
    return f"faq-{uuid.uuid4().hex[:8]}"


def slots(assistant: Assistant, sender: str) -> dict:
    return assistant.tracker(sender)["slots"]


def answer_of(assistant: Assistant, topic_id: str) -> str:
    topics = yaml.safe_load(assistant.kb_file.read_text(encoding="utf-8"))["topics"]
    return next(t["answer"] for t in topics if t["id"] == topic_id).strip()


def edit_kb(assistant: Assistant, change) -> None:  # noqa: ANN001 (a function of the parsed file)
    data = yaml.safe_load(assistant.kb_file.read_text(encoding="utf-8"))
    change(data)
    assistant.kb_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    later = time.time() + 5
    os.utime(assistant.kb_file, (later, later))


def test_a_question_gets_the_right_answer_and_a_resolved_question(assistant: Assistant) -> None:
    sender = new_sender()
    replies = assistant.chat(sender, "sản phẩm được bảo hành bao lâu vậy shop")
    assert answer_of(assistant, "warranty")[:40] in texts(replies)
    assert [b["payload"] for b in buttons(replies)] == ["/faq_resolved", "/faq_unresolved"]
    assert slots(assistant, sender)["faq_topic"] == "warranty"
    assert "rất vui" in texts(assistant.chat(sender, "/faq_resolved"))
    state = slots(assistant, sender)
    assert state["issue_resolved"] is True and state["resolved_topic"] == "warranty"


def test_typed_without_diacritics_and_in_shorthand(assistant: Assistant) -> None:
    sender = new_sender()
    replies = assistant.chat(sender, "co tra gop 0% ko shop")
    assert answer_of(assistant, "installment")[:40] in texts(replies)


def test_not_solved_offers_a_person(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.chat(sender, "phí ship bao nhiêu vậy ad")
    replies = assistant.chat(sender, "/faq_unresolved")
    assert "/request_human" in [b["payload"] for b in buttons(replies)]
    assert not slots(assistant, sender)["issue_resolved"]


def test_a_complaint_about_a_known_topic_gets_an_apology_and_the_answer(assistant: Assistant) -> None:
    sender = new_sender()
    text = "làm ăn kiểu gì mà đợi hoàn tiền 2 tuần rồi vẫn chưa thấy đâu, quá tệ"
    assert assistant.parse(text)["intent"]["name"] == "complain"
    replies = assistant.chat(sender, text)
    assert "xin lỗi" in texts(replies)
    assert answer_of(assistant, "refund_time")[:40] in texts(replies)
    assert "/faq_resolved" in [b["payload"] for b in buttons(replies)]


def test_an_edited_answer_is_served_without_retraining(assistant: Assistant) -> None:
    new_answer = "Dạ, hotline mới của shop là 1900 9999, anh/chị gọi giúp em ạ."

    def change(data: dict) -> None:
        next(t for t in data["topics"] if t["id"] == "contact_hotline")["answer"] = new_answer

    edit_kb(assistant, change)
    assert new_answer in texts(assistant.chat(new_sender(), "cho mình xin số hotline của shop"))

    def break_it(data: dict) -> None:
        next(t for t in data["topics"] if t["id"] == "contact_hotline")["answer"] = ""

    edit_kb(assistant, break_it)  # an invalid edit: the last good version stays in service
    assert new_answer in texts(assistant.chat(new_sender(), "cho mình xin số hotline của shop"))
    assert "field 'answer' is empty" in assistant.log("actions")


def test_close_topics_are_offered_as_buttons(assistant: Assistant) -> None:
    def twin(data: dict) -> None:  # a second topic asked exactly like vat_invoice: truly ambiguous
        vat = next(t for t in data["topics"] if t["id"] == "vat_invoice")
        data["topics"].append(
            {
                **vat,
                "id": "company_invoice",
                "answer": "Dạ, doanh nghiệp vui lòng gửi thông tin xuất hóa đơn qua email ạ.",
            }
        )

    edit_kb(assistant, twin)
    sender = new_sender()
    replies = assistant.chat(sender, "xuất hóa đơn VAT cho công ty được không ạ")
    offered = [b for b in buttons(replies) if b["payload"].startswith("/faq_choose")]
    assert len(offered) >= 2 and any("company_invoice" in b["payload"] for b in offered), replies
    chosen = next(b for b in offered if "company_invoice" in b["payload"])
    assert "gửi thông tin xuất hóa đơn qua email" in texts(assistant.chat(sender, chosen["payload"]))


def test_unknown_questions_get_an_honest_answer_and_a_person(assistant: Assistant) -> None:
    replies = assistant.chat(new_sender(), "cái máy này có chạy được phần mềm kế toán MISA bản 2019 không")
    assert "chưa tìm được" in texts(replies) or "ngoài phạm vi" in texts(replies)
    if "chưa tìm được" in texts(replies):
        assert "/request_human" in [b["payload"] for b in buttons(replies)]


def test_out_of_scope_is_refused_not_answered(assistant: Assistant) -> None:
    for question in [
        "thời tiết Sài Gòn mai thế nào",
        "ai sẽ vô địch world cup",
        "Điện Máy Xanh có trả góp không",
    ]:
        sender = new_sender()
        replies = assistant.chat(sender, question)
        assert "ngoài phạm vi" in texts(replies) or "chưa tìm được" in texts(replies), (question, replies)
        assert slots(assistant, sender).get("faq_state") != "answered"
