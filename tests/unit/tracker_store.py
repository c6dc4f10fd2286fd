"""Rasa's SQL tracker store as a file, for unit tests that read or delete conversations."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from vietcx.store.sentiment_queue import SentimentQueue


def write_tracker(path: Path, conversations: dict[str, list[dict]]) -> None:
    """The rows Rasa's SQLTrackerStore.save writes: a slot's or action's name in action_name, the
    intent in intent_name, the event as json.dumps (non-ASCII as \\u escapes) in data."""
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
            " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
            " action_name VARCHAR(255), data TEXT)"
        )
        connection.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    sender,
                    e["event"],
                    e["timestamp"],
                    e.get("parse_data", {}).get("intent", {}).get("name"),
                    e.get("name"),
                    json.dumps(e),
                )
                for sender, events in conversations.items()
                for e in events
            ],  # fmt: skip
        )


def tracker_store_file(
    folder: Path, monkeypatch: pytest.MonkeyPatch, conversations: dict[str, list[dict]]
) -> Path:
    """A tracker store file holding `conversations`, named by an endpoints.yml in VIETCX_ENDPOINTS
    as the product finds it."""
    path = folder / "tracker.db"
    endpoints = folder / "endpoints.yml"
    endpoints.write_text(
        f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{path}"\n', encoding="utf-8"
    )
    monkeypatch.setenv("VIETCX_ENDPOINTS", str(endpoints))
    write_tracker(path, conversations)
    return path


def publish(db: Engine, conversations: dict[str, list[dict]]) -> None:
    """What Rasa's event broker (endpoints.yml) is given as the events above are stored."""
    broker = SentimentQueue(db)
    for sender, events in conversations.items():
        for event in events:
            broker.publish({"sender_id": sender, **event})
