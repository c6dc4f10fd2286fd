"""Sentiment of every message and conversation, and the reaction to an angry customer (real servers)."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import select

from harness import Assistant
from harness import reply_text as texts
from vietcx.store import escalations
from vietcx.store.db import conversation_sentiment, engine
from vietcx.store.sentiment import flags_of


def new_sender() -> str:
    return f"mood-{uuid.uuid4().hex[:8]}"


def test_every_stored_message_carries_a_sentiment(assistant: Assistant) -> None:
    sender = new_sender()
    for message in ["xin chào", "ship mấy ngày vậy shop", "cam on shop nhieu nha, hang dep lam 😍", "😀", ""]:
        assistant.chat(sender, message)
    users = [e for e in assistant.tracker(sender)["events"] if e["event"] == "user"]
    typed = [e for e in users if not (e.get("text") or "").startswith("/")]
    assert len(typed) == 4
    for event in typed:
        sentiment = event["parse_data"]["sentiment"]
        assert sentiment["label"] in ("negative", "neutral", "positive")
        assert 0 < sentiment["confidence"] <= 1
    assert typed[2]["parse_data"]["sentiment"]["label"] == "positive"


def test_two_angry_messages_get_empathy_a_person_and_a_review_flag(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.chat(sender, "hàng giao chậm cả tuần, tôi rất thất vọng")
    replies = assistant.chat(sender, "làm ăn kiểu gì vậy, tệ hại thật sự 😡")
    assert "đang rất bực mình" in texts(replies) and "nhân viên" in texts(replies)
    db = engine(assistant.database_url)
    [flag] = flags_of(sender, db)
    assert flag["reason"] == "negative_sentiment"
    assert escalations.current(sender, db)["reason"] == "negative_sentiment"
    # staff own the conversation now: while nobody has taken it, a holding line once, no repeats
    assert "vui lòng chờ" in texts(assistant.chat(sender, "chán thật sự"))
    assert assistant.chat(sender, "chán thật sự luôn") == []


def test_a_conversation_that_ends_has_a_stored_summary(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.chat(sender, "shop ơi cho hỏi phí ship")
    assistant.chat(sender, "giao chậm quá")
    assistant.new_session(sender)  # the customer comes back later: the first conversation ended
    assistant.chat(sender, "xin chào")
    db = engine(assistant.database_url)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the action server sweeps every 2 s in tests
        with db.connect() as connection:
            rows = connection.execute(
                select(conversation_sentiment).where(conversation_sentiment.c.sender_id == sender)
            ).all()
        if any(r.ended for r in rows):
            break
        time.sleep(1)
    ended = [r for r in rows if r.ended]
    assert len(ended) == 1 and ended[0].messages == 2
    assert ended[0].negative >= 1 and ended[0].most_negative_text == "giao chậm quá"
