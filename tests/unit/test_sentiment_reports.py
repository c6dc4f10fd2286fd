"""The sentiment sweep from a tracker store, and the report and exports over what it stored."""

from __future__ import annotations

import csv
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, select, text
from tracker_store import publish

from vietcx.cli import main
from vietcx.reports import sentiment as report
from vietcx.store import sentiment, surveys
from vietcx.store.db import conversation_sentiment, engine, message_sentiment
from vietcx.store.period import Period

NEG = {
    "label": "negative",
    "confidence": 0.95,
    "scores": {"negative": 0.95, "neutral": 0.03, "positive": 0.02},
}
NEU = {"label": "neutral", "confidence": 0.8, "scores": {"negative": 0.1, "neutral": 0.8, "positive": 0.1}}
POS = {"label": "positive", "confidence": 0.9, "scores": {"negative": 0.02, "neutral": 0.08, "positive": 0.9}}


def user(text: str, mood: dict, at: float, channel: str = "zalo") -> dict:
    return {"event": "user", "text": text, "timestamp": at, "input_channel": channel,
            "parse_data": {"intent": {"name": "faq"}, "sentiment": mood}}  # fmt: skip


@pytest.fixture()
def stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    tracker_url, product_url = f"sqlite:///{tmp_path / 'tracker.db'}", f"sqlite:///{tmp_path / 'product.db'}"
    monkeypatch.setenv("VIETCX_DATABASE_URL", product_url)
    monkeypatch.setenv("VIETCX_PSEUDONYM_SECRET", "khoá của bài kiểm tra")
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{tmp_path / "tracker.db"}"\n'
    )
    monkeypatch.setenv("VIETCX_ENDPOINTS", str(endpoints))
    now = time.time()
    conversations = {
        # an old conversation that turned angry, then a new session (so the first one ended)
        "a": [{"event": "session_started", "timestamp": now - 7200}, user("shop ơi", POS, now - 7190),
              user("ship mấy ngày", NEU, now - 7180), user("chậm quá", NEG, now - 7170), user("tệ thật", NEG, now - 7160),
              {"event": "session_started", "timestamp": now - 60}, user("hi", NEU, now - 50, "zalo")],
        # a happy web conversation still going on
        "b": [{"event": "session_started", "timestamp": now - 30}, user("cảm ơn shop", POS, now - 20, "web")],
    }  # fmt: skip
    tracker = create_engine(tracker_url)
    with tracker.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), "
                                "type_name VARCHAR(255), timestamp FLOAT, intent_name VARCHAR(255), "
                                "action_name VARCHAR(255), data TEXT)"))  # fmt: skip
        for sender, events in conversations.items():
            for event in events:
                connection.execute(
                    text(
                        "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, :t, :ts, :d)"
                    ),
                    {"s": sender, "t": event["event"], "ts": event["timestamp"], "d": json.dumps(event)},
                )
    product = engine(product_url)
    publish(product, conversations)  # as Rasa's event broker does
    return product


def test_sweep_stores_every_message_and_conversation(stores) -> None:  # noqa: ANN001
    assert sentiment.sweep(stores) == 3
    with stores.connect() as connection:
        messages = connection.execute(select(message_sentiment)).all()
        rows = {(r.sender_id, r.messages): r for r in connection.execute(select(conversation_sentiment))}
    assert len(messages) == 6
    angry = rows[("a", 4)]
    assert (angry.negative, angry.neutral, angry.positive, angry.ended) == (2, 1, 1, True)
    assert angry.most_negative_text in ("chậm quá", "tệ thật") and angry.trend < -0.5
    assert rows[("b", 1)].ended is False and rows[("a", 1)].ended is False
    assert sentiment.sweep(stores) == 0  # nothing new: nothing rewritten


def test_report_and_exports_match_the_stored_rows(stores, tmp_path: Path) -> None:  # noqa: ANN001
    sentiment.sweep(stores)
    survey_id = surveys.start("a", "zalo", "a", "shipping_time", "faq", db=stores)
    surveys.record(survey_id, db=stores, csat=2, status="partial")
    result = report.report(Period(), tmp_path / "charts", stores)
    assert (result["messages"], result["conversations"]) == (6, 3)
    assert result["by_channel"].loc["web", "positive"] == 1.0
    assert result["by_channel"].loc["zalo", "negative"] == round(2 / 5, 3)
    assert len(result["turned_negative"]) == 1
    assert result["csat_by_mood"].loc["negative", "mean"] == 2.0
    assert all(Path(p).stat().st_size > 1000 for p in result["charts"])

    out = tmp_path / "messages.csv"
    assert report.export(Period(channel="zalo"), "messages", "csv", out, db=stores, progress=False) == 5
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert sorted(frame["label"]) == ["negative", "negative", "neutral", "neutral", "positive"]
    assert "a" not in set(frame["sender_id"])  # masked


def test_cli_report_and_export(stores, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    assert main(["report", "sentiment", "--out", str(tmp_path)]) == 0
    assert "conversations that turned negative" in capsys.readouterr().out
    out = tmp_path / "conversations.json"
    assert (
        main(["export", "sentiment", "--level", "conversations", "--format", "json", "--out", str(out)]) == 0
    )
    assert len(json.loads(out.read_text(encoding="utf-8"))) == 3


def test_formula_texts_are_escaped_in_csv_and_negative_scores_stay_numbers(stores, tmp_path: Path) -> None:  # noqa: ANN001
    when = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)
    messages = [("-2+3 sao thôi, chán", -0.5), ('=HYPERLINK("http://x.example")', -0.93), ("ổn", 0.25)]
    with stores.begin() as connection:
        connection.execute(message_sentiment.insert(), [
            {"sender_id": f"m{n}", "session_started_at": when, "channel": "messenger", "sent_at": when,
             "text": text, "label": "negative" if score < 0 else "positive", "confidence": 0.9, "score": score}
            for n, (text, score) in enumerate(messages)
        ])  # fmt: skip
    where = Period(channel="messenger")
    out = tmp_path / "messages.csv"
    assert report.export(where, "messages", "csv", out, db=stores, progress=False) == 3
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["text"] for row in rows] == ["'-2+3 sao thôi, chán", '\'=HYPERLINK("http://x.example")', "ổn"]
    assert [row["score"] for row in rows] == ["-0.5", "-0.93", "0.25"]
    assert pd.read_csv(out, encoding="utf-8-sig")["score"].tolist() == [-0.5, -0.93, 0.25]

    out = tmp_path / "messages.xlsx"
    report.export(where, "messages", "xlsx", out, db=stores, progress=False)
    sheet = load_workbook(out).active
    header = [cell.value for cell in sheet[1]]
    scores = [row[header.index("score")] for row in sheet.iter_rows(min_row=2)]
    assert [(cell.value, cell.data_type) for cell in scores] == [(-0.5, "n"), (-0.93, "n"), (0.25, "n")]
    texts = [row[header.index("text")] for row in sheet.iter_rows(min_row=2)]
    assert [(cell.value, cell.data_type) for cell in texts][:2] == [
        ("-2+3 sao thôi, chán", "s"),
        ('=HYPERLINK("http://x.example")', "s"),
    ]
