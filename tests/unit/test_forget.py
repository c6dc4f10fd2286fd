"""forget-customer on real SQLite files: the product database and a Rasa SQL tracker store holding
events as Rasa's SQLTrackerStore writes them. The customer ("web", "cust-42") chatted as sender
"cust-42" (before signing in, the sender is the id) and, signed in, as the web sender "web-7f3a"
that only the `customer_id` slot and the product's rows link to them."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from tracker_store import publish, tracker_store_file, write_tracker

from vietcx.cli import main
from vietcx.names import make_name
from vietcx.store import escalations, profiles, sentiment, surveys
from vietcx.store.db import (
    conversation_sentiment,
    customers,
    engine,
    flags,
    message_sentiment,
    metadata,
    outbox,
)
from vietcx.store.db import escalations as escalation_table
from vietcx.store.db import surveys as survey_table
from vietcx.store.forget import FORGOTTEN, forget_customer, sender_ids

NOW = time.time()
NEGATIVE = {
    "label": "negative",
    "confidence": 0.9,
    "scores": {"negative": 0.9, "neutral": 0.05, "positive": 0.05},
}
NEUTRAL = {
    "label": "neutral",
    "confidence": 0.8,
    "scores": {"negative": 0.1, "neutral": 0.8, "positive": 0.1},
}
THEIR_SENDERS = {"cust-42", "web-7f3a"}
# what only the forgotten customer ever wrote or was called: none of it may stay anywhere
THEIR_TRACES = ("web-7f3a", "Ngọc", "0912345678", "HYPERLINK")


def conversation(channel: str, customer_id: str, *messages: tuple[str, dict]) -> list[dict]:
    """A session as actions/customer.py starts it, then the customer's messages and the bot's answers."""
    events = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "slot", "name": "customer_channel", "value": channel},
        {"event": "slot", "name": "customer_id", "value": customer_id},
        {"event": "action", "name": "action_listen"},
    ]
    for text, mood in messages:
        events += [
            {"event": "user", "text": text, "input_channel": channel,
             "parse_data": {"intent": {"name": "faq"}, "sentiment": mood}},
            {"event": "action", "name": "action_answer_faq"},
            {"event": "bot", "text": "Dạ, em kiểm tra ngay ạ."},
        ]  # fmt: skip
    return [{**event, "timestamp": NOW - 600 + number} for number, event in enumerate(events)]


CONVERSATIONS = {
    "cust-42": conversation("web", "cust-42", ("gọi mình 0912345678 nhé", NEUTRAL), ("chậm quá", NEGATIVE)),
    "web-7f3a": conversation(
        "web", "cust-42", ("mình là Ngọc, đơn chưa tới", NEGATIVE), ("tệ thật", NEGATIVE)
    ),
    "web-b1": conversation("web", "cust-77", ("đơn của tôi đâu", NEGATIVE)),  # another customer
    "r-1": conversation("rest", "cust-42", ("xin chào", NEUTRAL)),  # the same id on another channel
}


def tracker_senders(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        return dict(connection.execute("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id"))


def tracker_events(path: Path) -> list[tuple[str, dict]]:
    with sqlite3.connect(path) as connection:
        return [
            (sender, json.loads(data))
            for sender, data in connection.execute("SELECT sender_id, data FROM events")
        ]


@pytest.fixture()
def tracker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return tracker_store_file(tmp_path, monkeypatch, CONVERSATIONS)


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tracker: Path) -> Engine:
    """Every table holds rows of the customer and of others, as the product writes them."""
    url = f"sqlite:///{tmp_path / 'vietcx.db'}"
    monkeypatch.setenv("VIETCX_DATABASE_URL", url)
    database = engine(url)
    profiles.save_name("web", "cust-42", make_name(["Trần", "Thị", "Ngọc"]), source="customer", db=database)
    profiles.save_name("web", "cust-77", make_name(["Lê", "Văn", "An"]), source="customer", db=database)
    profiles.start_conversation("rest", "cust-42", db=database)
    publish(database, CONVERSATIONS)  # as Rasa's event broker does
    sentiment.sweep(database)  # message_sentiment and conversation_sentiment, from the tracker store
    for sender, customer, csat, comment in [
        ("cust-42", "cust-42", 5, "Ngọc hài lòng, gọi 0912345678"),
        ("web-7f3a", "cust-42", 2, '=HYPERLINK("http://x.example","hi")'),
        ("web-b1", "cust-77", 4, "tốt"),
    ]:
        survey_id = surveys.start(sender, "web", customer, "warranty", "faq", db=database)
        summary = json.dumps({"most_negative_text": f"{comment} (trích)"}, ensure_ascii=False)
        surveys.record(
            survey_id, db=database, status="completed", csat=csat, comment=comment, sentiment=summary
        )
    summary = {"messages": 2, "negative": 2, "most_negative_text": "mình là Ngọc, đơn chưa tới"}
    resolved, _ = escalations.open_escalation(
        "cust-42", "web", "cust-42", "chị Ngọc", "customer_request", summary, db=database
    )
    escalations.resolve(resolved["id"], "lan", database)
    still_open, _ = escalations.open_escalation(
        "web-7f3a", "web", "cust-42", "chị Ngọc", "negative_sentiment", summary, db=database
    )
    escalations.assign(still_open["id"], "lan", database)
    other, _ = escalations.open_escalation("web-b1", "web", "cust-77", "anh An", "faq_fallback", db=database)
    with database.begin() as connection:
        connection.execute(
            outbox.insert(),
            [
                {"sender_id": sender, "escalation_id": escalation["id"], "author": "staff", "staff": "lan",
                 "text": text, "created_at": datetime.now(timezone.utc)}
                for sender, escalation, text in [
                    ("web-7f3a", still_open, "Chào chị Ngọc, em là Lan ạ"),
                    ("web-7f3a", still_open, "Chị Ngọc đợi em chút nhé"),
                    ("web-b1", other, "Chào anh An ạ"),
                ]
            ],
        )  # fmt: skip
    sentiment.flag("web-7f3a", "web", "cust-42", "negative_sentiment", db=database)
    sentiment.flag("web-b1", "web", "cust-77", "negative_sentiment", db=database)
    return database


def rows(db: Engine, table) -> list[dict]:  # noqa: ANN001
    with db.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(select(table))]


def snapshot(db: Engine, tracker: Path) -> dict:
    """Every row of every table, and the tracker store's events per sender."""
    return {"tracker": tracker_senders(tracker), **{t.name: rows(db, t) for t in metadata.sorted_tables}}


def split(line: str) -> list[str]:
    """A printed line "tracker events   12 deleted" as [table, count, action]."""
    return line.rsplit(maxsplit=2)


def test_the_customers_sender_ids_are_found_in_both_stores(db: Engine) -> None:
    assert sender_ids("web", "cust-42", db) == THEIR_SENDERS
    assert sender_ids("web", "cust-77", db) == {"cust-77", "web-b1"}
    # a sender id equal to the customer id is always theirs: Rasa's sender ids know no channel
    assert sender_ids("rest", "cust-42", db) == {"cust-42", "r-1"}


def test_forget_customer_leaves_nothing_of_theirs_and_no_one_else_changes(
    db: Engine, tracker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(db, tracker)
    assert main(["forget-customer", "--channel", "web", "--id", "cust-42"]) == 0
    printed = capsys.readouterr().out
    counts = {table: (int(count), action) for table, count, action in map(split, printed.splitlines()[:-1])}
    their_events = sum(len(CONVERSATIONS[s]) for s in THEIR_SENDERS)
    assert counts == {
        "customers": (1, "deleted"),
        "message_sentiment": (4, "deleted"),  # two messages in each of their two conversations
        "conversation_sentiment": (2, "deleted"),
        "surveys": (2, "anonymised"),
        "escalations": (2, "anonymised"),
        "outbox": (2, "deleted"),
        "flags": (1, "deleted"),
        "tracker events": (their_events, "deleted"),
    }
    assert printed.splitlines()[-1] == f"profile deleted; {1 + 4 + 2 + 2 + 2 + 2 + 1 + their_events} rows removed or anonymised in all"  # fmt: skip

    after = snapshot(db, tracker)
    everything = json.dumps([after, tracker_events(tracker)], ensure_ascii=False, default=str)
    for trace in THEIR_TRACES:
        assert trace not in everything
    assert after["tracker"] == {s: n for s, n in before["tracker"].items() if s not in THEIR_SENDERS}
    assert profiles.get("web", "cust-42", db) is None

    # the scores and the counts stay for the statistics, anonymous
    forgotten = [r for r in after["surveys"] if r["sender_id"] == FORGOTTEN]
    assert sorted(r["csat"] for r in forgotten) == [2, 5]
    assert all(
        r["customer_id"] == FORGOTTEN and r["comment"] is None and r["sentiment"] is None for r in forgotten
    )
    closed = [r for r in after["escalations"] if r["sender_id"] == FORGOTTEN]
    assert sorted(r["reason"] for r in closed) == ["customer_request", "negative_sentiment"]
    assert all(
        r["customer_id"] == FORGOTTEN and r["customer_name"] is None and r["sentiment"] is None
        for r in closed
    )
    assert all(r["status"] == "resolved" for r in closed)  # no open escalation of a conversation that is gone
    assert [r["resolved_by"] for r in sorted(closed, key=lambda r: r["id"])] == ["lan", FORGOTTEN]
    assert len(after["escalations"]) == len(before["escalations"])

    # everyone else's rows are exactly as they were, the same id on another channel included
    def others(snap: dict, table: str) -> list[dict]:
        return [r for r in snap[table] if r.get("sender_id") not in THEIR_SENDERS | {FORGOTTEN}
                and (r.get("channel"), r.get("customer_id", r.get("channel_user_id"))) != ("web", "cust-42")]  # fmt: skip

    for table in metadata.sorted_tables:
        assert others(after, table.name) == others(before, table.name), table.name
    assert {(r["channel"], r["channel_user_id"]) for r in after["customers"]} == {
        ("web", "cust-77"),
        ("rest", "cust-42"),
    }


def test_a_second_run_removes_nothing(db: Engine, tracker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    forget_customer("web", "cust-42", db)
    before = snapshot(db, tracker)
    assert main(["forget-customer", "--channel", "web", "--id", "cust-42"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert [int(split(line)[1]) for line in printed[:-1]] == [0] * 8
    assert printed[-1] == "profile not found; 0 rows removed or anonymised in all"
    assert snapshot(db, tracker) == before


def test_a_sender_named_only_in_the_product_database_is_found(db: Engine) -> None:
    """A conversation whose tracker events are gone (or never were) but whose flag names the customer."""
    sentiment.flag("web-old", "web", "cust-42", "negative_sentiment", db=db)
    assert sender_ids("web", "cust-42", db) == THEIR_SENDERS | {"web-old"}
    removed = {r.table: r.count for r in forget_customer("web", "cust-42", db)}
    assert removed["flags"] == 2
    assert count(db, flags, flags.c.customer_id == "cust-42") == 0


def test_ids_match_exactly_in_the_tracker_store(db: Engine, tracker: Path) -> None:
    """Rasa escapes non-ASCII ids in its JSON; '_' and '%' are no wildcards; a longer id is another."""
    write_tracker(tracker, {
        "w-1": conversation("web", "khách_1", ("a", NEUTRAL)),
        "w-2": conversation("web", "kháchX1", ("b", NEUTRAL)),
        "w-3": conversation("web", "khách_10", ("c", NEUTRAL)),
        "w-4": conversation("zalo", "khách_1", ("d", NEUTRAL)),
    })  # fmt: skip
    assert sender_ids("web", "khách_1", db) == {"khách_1", "w-1"}
    forget_customer("web", "khách_1", db)
    assert {"w-2", "w-3", "w-4"} <= set(tracker_senders(tracker)) and "w-1" not in tracker_senders(tracker)


def count(db: Engine, table, *where) -> int:  # noqa: ANN001, ANN002
    with db.connect() as connection:
        return connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_without_a_tracker_store_the_product_database_is_still_cleared(
    db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIETCX_ENDPOINTS", str(tmp_path / "missing.yml"))
    removed = {r.table: r.count for r in forget_customer("web", "cust-42", db)}
    assert removed["customers"] == 1 and removed["tracker events"] == 0
    assert count(db, customers) == 2
    assert count(db, message_sentiment, message_sentiment.c.sender_id.in_(THEIR_SENDERS)) == 0
    web = conversation_sentiment.c.channel == "web"
    assert count(db, conversation_sentiment, web, conversation_sentiment.c.customer_id == "cust-42") == 0
    assert count(db, escalation_table, escalation_table.c.customer_id == "cust-42") == 0
    assert count(db, survey_table, survey_table.c.sender_id == FORGOTTEN) == 2
