"""The sentiment sweep driven by Rasa's event broker (vietcx/store/sentiment_queue.py): nothing
skipped whatever order events are stored in, nothing counted twice, one sweeper at a time, one
broken conversation not holding up the others, idle conversations ended."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from tracker_store import publish, tracker_store_file, write_tracker

from vietcx.store import leases, sentiment
from vietcx.store.db import conversation_sentiment, engine, message_sentiment, sentiment_queue

MOOD = {
    "label": "negative",
    "confidence": 0.9,
    "scores": {"negative": 0.9, "neutral": 0.05, "positive": 0.05},
}


def message(text: str, at: float) -> dict:
    return {"event": "user", "text": text, "timestamp": at, "input_channel": "rest",
            "parse_data": {"intent": {"name": "complain"}, "sentiment": MOOD}}  # fmt: skip


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    tracker_store_file(tmp_path, monkeypatch, {})
    return engine(f"sqlite:///{tmp_path / 'product.db'}")


def counts(db: Engine) -> tuple[int, int, int]:
    with db.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(message_sentiment)).scalar(),
            connection.execute(select(func.count()).select_from(conversation_sentiment)).scalar(),
            connection.execute(select(func.count()).select_from(sentiment_queue)).scalar(),
        )


def test_an_event_published_before_the_tracker_store_commits_it_is_not_lost(
    db: Engine, tmp_path: Path
) -> None:
    now = time.time()
    first = {"a": [{"event": "session_started", "timestamp": now - 20}, message("giao chậm quá", now - 10)]}
    write_tracker(tmp_path / "tracker.db", first)
    publish(db, first)
    late = {"a": [message("vẫn chưa thấy hàng", now - 5)]}
    publish(db, late)  # Rasa publishes, then commits: the sweep runs in between
    assert sentiment.sweep(db) == 1
    assert counts(db) == (1, 1, 1)  # the late message's row waits in the queue
    write_tracker(tmp_path / "tracker.db", late)
    assert sentiment.sweep(db) == 1
    assert counts(db) == (2, 1, 0)
    assert sentiment.sweep(db) == 0 and counts(db) == (2, 1, 0)  # handled again: counted once


def test_events_stored_out_of_order_across_conversations_are_all_summarised(
    db: Engine, tmp_path: Path
) -> None:
    """Two servers: b's event gets the higher id but commits first; a high-water mark would skip a's."""
    now = time.time()
    a, b = {"a": [message("tệ quá", now - 3)]}, {"b": [message("chán thật", now - 2)]}
    publish(db, a)
    publish(db, b)
    write_tracker(tmp_path / "tracker.db", b)
    sentiment.sweep(db)
    write_tracker(tmp_path / "tracker.db", a)
    sentiment.sweep(db)
    with db.connect() as connection:
        senders = sorted(connection.execute(select(message_sentiment.c.sender_id)).scalars())
    assert senders == ["a", "b"] and counts(db)[2] == 0


def test_one_sweeper_at_a_time(db: Engine, tmp_path: Path) -> None:
    events = {"a": [message("tệ quá", time.time())]}
    write_tracker(tmp_path / "tracker.db", events)
    publish(db, events)
    assert leases.take("sentiment-sweep", 60, db, holder="another-server:1")
    assert sentiment.sweep(db) == 0 and counts(db) == (0, 0, 1)
    leases.give_back("sentiment-sweep", db, holder="another-server:1")
    assert sentiment.sweep(db) == 1 and counts(db) == (1, 1, 0)


def test_a_conversation_that_fails_does_not_hold_up_the_others(db: Engine, tmp_path: Path) -> None:
    now = time.time()
    events = {"broken": [message("hỏng", now - 2)], "fine": [message("ổn", now - 1)]}
    write_tracker(tmp_path / "tracker.db", events)
    publish(db, events)
    with sqlite3.connect(tmp_path / "tracker.db") as connection:
        connection.execute("UPDATE events SET data = 'not json' WHERE sender_id = 'broken'")
    assert sentiment.sweep(db) == 1
    with db.connect() as connection:
        assert list(connection.execute(select(message_sentiment.c.sender_id)).scalars()) == ["fine"]
        assert list(connection.execute(select(sentiment_queue.c.sender_id)).scalars()) == ["broken"]


def test_a_conversation_that_simply_stops_is_ended(db: Engine, tmp_path: Path) -> None:
    events = {"a": [message("alo", time.time() - 5)]}
    write_tracker(tmp_path / "tracker.db", events)
    publish(db, events)
    sentiment.sweep(db)
    with db.begin() as connection:  # its last message was long ago; nothing new comes
        connection.execute(
            update(conversation_sentiment).values(
                last_message_at=datetime.now(timezone.utc) - timedelta(hours=1)
            )
        )
    sentiment.sweep(db)
    with db.connect() as connection:
        assert connection.execute(select(conversation_sentiment.c.ended)).scalar() is True
