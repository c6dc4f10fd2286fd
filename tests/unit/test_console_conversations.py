"""/conversations through Flask's test client on real SQLite files (the product database and a Rasa
tracker store): every conversation is found by its filters, customer text stays text, and a
conversation opens in the same transcript view as an escalation."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.engine import Engine
from test_console import SCRIPT, SENDER, sign_in

from vietcx.store import escalations, sentiment, surveys
from vietcx.store.db import conversation_sentiment, message_sentiment
from vietcx.store.db import surveys as survey_table

STARTED = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)  # 10:00 in Vietnam
# sender, channel, topic, mean score, a message, CSAT
CONVERSATIONS = [
    (SENDER, "rest", "warranty", -0.6, f"{SCRIPT} máy vẫn hỏng, chán quá", 1),
    ("khach-vui", "zalo", "shipping_time", 0.7, "giao nhanh quá, cảm ơn shop", 5),
    ("khach-im-lang", "web", None, 0.0, "100% chính hãng không", None),
]


@pytest.fixture()
def stored(db: Engine, tracker: Path) -> None:
    with db.begin() as connection:
        for number, (sender, channel, topic, score, text, _) in enumerate(CONVERSATIONS):
            started = STARTED + timedelta(days=number)
            connection.execute(
                conversation_sentiment.insert().values(
                    sender_id=sender, session_started_at=started, channel=channel, customer_id=sender,
                    topic=topic, messages=1, negative=int(score < 0), neutral=int(score == 0),
                    positive=int(score > 0), mean_score=score, trend=0.0, started_at=started,
                    last_message_at=started, ended=True,
                )
            )  # fmt: skip
            connection.execute(
                message_sentiment.insert().values(
                    sender_id=sender, session_started_at=started, channel=channel, sent_at=started,
                    text=text, topic=topic, label="neutral", confidence=0.9, score=score,
                )
            )  # fmt: skip
    for sender, channel, topic, _, _, csat in CONVERSATIONS:
        if csat is not None:
            survey = surveys.start(sender, channel, sender, topic, "faq", db=db)
            surveys.record(survey, db=db, csat=csat, status="partial")
    sentiment.flag(SENDER, "rest", SENDER, "negative_sentiment", db=db)


def _found(client, query: str = "") -> list[str]:  # noqa: ANN001
    answer = client.get(f"/conversations?{query}")
    assert answer.status_code == 200, answer.status_code
    return re.findall(r'<tr data-sender="([^"]+)">', answer.text)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["khach-im-lang", "khach-vui", SENDER]),
        ("mood=negative", [SENDER]),
        ("mood=neutral", ["khach-im-lang"]),
        ("channel=zalo", ["khach-vui"]),
        ("topic=shipping_time", ["khach-vui"]),
        ("score=low", [SENDER]),
        ("score=high", ["khach-vui"]),
        ("score=none", ["khach-im-lang"]),
        ("flagged=1", [SENDER]),
        ("from=2026-11-21&to=2026-11-21", ["khach-vui"]),
        ("q=giao+nhanh", ["khach-vui"]),
        ("q=100%25", ["khach-im-lang"]),
        ("q=_", []),  # a LIKE wildcard is a plain character
        ("q=khach-vui", ["khach-vui"]),
        ("mood=negative&flagged=1&score=low&channel=rest", [SENDER]),
    ],
)
def test_every_filter_finds_its_conversations(app: Flask, stored: None, query: str, expected: list) -> None:
    assert _found(sign_in(app, "lan"), query) == expected


def test_a_made_up_filter_is_refused(app: Flask, stored: None) -> None:
    lan = sign_in(app, "lan")
    for query in ("mood=furious", "channel=fax", "score=7"):
        assert lan.get(f"/conversations?{query}").status_code == 400, query


def test_a_conversation_opens_in_the_transcript_view(app: Flask, db: Engine, stored: None) -> None:
    escalation, _ = escalations.open_escalation(SENDER, "rest", SENDER, "chị Ngọc", "faq_fallback", db=db)
    lan = sign_in(app, "lan")
    listing = lan.get("/conversations").text
    assert f'href="/escalations/{escalation["id"]}"' in listing and "Bị gắn cờ" in listing
    page = lan.get(f"/conversations/view?sender={SENDER}")
    assert page.status_code == 200
    assert SCRIPT not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt; máy vẫn hỏng" in page.text
    assert "chị Ngọc" in page.text and "Khách đang không hài lòng" in page.text  # the flag's reason
    assert "Bảo hành" in page.text and "(đã trả lời)" in page.text  # the same cards as an escalation's
    assert 'data-source="/conversations/transcript?sender=khach-01"' in page.text
    part = lan.get(f"/conversations/transcript?sender={SENDER}")
    assert part.headers["X-Transcript-Version"] in page.text and "chị Ngọc" in part.text
    never_escalated = lan.get("/conversations/view?sender=khach-vui").text
    assert "chưa từng chuyển cho nhân viên" in never_escalated
    assert lan.get("/conversations/view?sender=khong-co").status_code == 404
    assert lan.get("/conversations/view").status_code == 404


def test_the_survey_score_counts_the_conversations_own_surveys(app: Flask, db: Engine, stored: None) -> None:
    with db.begin() as connection:  # the unhappy customer later rated another answer well
        connection.execute(update(survey_table).where(survey_table.c.sender_id == SENDER).values(csat=4))
    assert _found(sign_in(app, "lan"), "score=low") == []
