"""Retention of personal data and backups of both databases, on real SQLite files: Rasa's own SQL
tracker store and the product database, the commands run as an operator runs them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, insert, select

from vietcx.settings import PROJECT
from vietcx.store import profiles, retention
from vietcx.store.db import (
    customers,
    engine,
    escalations,
    flags,
    message_sentiment,
    outbox,
    surveys,
)
from vietcx.store.forget import FORGOTTEN
from vietcx.store.tracker import EVENTS, tracker_engine

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
OLD, RECENT = NOW - timedelta(days=400), NOW - timedelta(days=3)


def _save_conversation(tracker_db: Path, sender: str, at: datetime) -> None:
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tracker_db))
    stamp = at.timestamp()
    events = [
        ActionExecuted("action_listen", timestamp=stamp),
        UserUttered("chị tên Ngọc, phí ship bao nhiêu", {"name": "faq"}, timestamp=stamp + 1),
        BotUttered("Dạ, phí ship 20.000đ ạ", timestamp=stamp + 2),
    ]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def _fill(db_url: str, tracker_db: Path) -> None:
    """An old and a recent conversation, with everything the product keeps of them."""
    db = engine(db_url)
    for sender, at in (("old-customer", OLD), ("new-customer", RECENT)):
        _save_conversation(tracker_db, sender, at)
        profiles.start_conversation("zalo", sender, "Trần Ngọc", db)
        with db.begin() as connection:
            connection.execute(
                customers.update().where(customers.c.channel_user_id == sender).values(last_seen=at, first_seen=at)
            )
            connection.execute(
                insert(message_sentiment).values(
                    sender_id=sender, session_started_at=at, channel="zalo", sent_at=at,
                    text="giao chậm quá", label="negative", confidence=0.9, score=-0.8,
                )
            )  # fmt: skip
            connection.execute(
                insert(surveys).values(
                    id=f"survey-{sender}", sender_id=sender, channel="zalo", customer_id=sender,
                    csat=4, ces=6, comment="chị Ngọc, 0912345678", status="completed", started_at=at,
                )
            )  # fmt: skip
            for status in ("resolved", "open"):
                connection.execute(
                    insert(escalations).values(
                        sender_id=f"{sender}-{status}", channel="zalo", customer_id=sender,
                        customer_name="chị Ngọc", reason="customer_request", status=status, created_at=at,
                    )
                )  # fmt: skip
            connection.execute(
                insert(outbox).values(sender_id=sender, author="staff", text="Dạ chị Ngọc ơi", created_at=at)
            )
            connection.execute(
                insert(flags).values(sender_id=sender, channel="zalo", reason="negative", created_at=at)
            )


def _count(db_url: str, table, *where) -> int:  # noqa: ANN001 (a Table)
    with engine(db_url).connect() as connection:
        return connection.execute(select(func.count()).select_from(table).where(*where)).scalar()


def _senders(tracker_url: str) -> set[str]:
    with tracker_engine(tracker_url).connect() as connection:
        return set(connection.execute(select(EVENTS.c.sender_id).distinct()).scalars())


def test_what_is_older_than_the_retention_period_goes(tmp_path: Path) -> None:
    db_url, tracker_db = f"sqlite:///{tmp_path / 'vietcx.db'}", tmp_path / "tracker.db"
    tracker_url = f"sqlite:///{tracker_db}"
    _fill(db_url, tracker_db)
    removed = {r.table: r.count for r in retention.expire(365, engine(db_url), tracker_url, now=NOW)}

    assert _senders(tracker_url) == {"new-customer"}
    assert profiles.get("zalo", "old-customer", engine(db_url)) is None
    assert profiles.get("zalo", "new-customer", engine(db_url)) is not None
    assert _count(db_url, message_sentiment) == 1 and _count(db_url, outbox) == 1 and _count(db_url, flags) == 1
    # the old survey's scores stay for the reports, without the comment or who gave them
    with engine(db_url).connect() as connection:
        old, new = connection.execute(select(surveys).order_by(surveys.c.started_at)).all()
        open_old = connection.execute(
            select(escalations).where(escalations.c.sender_id == "old-customer-open")
        ).one()
    assert (old.csat, old.ces, old.comment, old.sender_id, old.customer_id) == (4, 6, None, FORGOTTEN, FORGOTTEN)
    assert new.comment and new.sender_id == "new-customer"
    assert _count(db_url, escalations, escalations.c.customer_name.is_(None)) == 1  # the old resolved one
    assert open_old.customer_name == "chị Ngọc"  # still being handled: left alone
    assert removed["tracker events"] == 3 and removed["customers"] == 1
    # a second run finds nothing more
    assert sum(r.count for r in retention.expire(365, engine(db_url), tracker_url, now=NOW)) == 0


def test_a_retention_period_below_one_day_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIETCX_RETENTION_DAYS", "0")
    with pytest.raises(ValueError):
        retention.retention_days()


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vietcx", *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )


def test_backup_and_restore_round_trip_through_the_command_line(tmp_path: Path) -> None:
    db_url, tracker_db = f"sqlite:///{tmp_path / 'vietcx.db'}", tmp_path / "tracker.db"
    tracker_url = f"sqlite:///{tracker_db}"
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{tracker_db}"\n', encoding="utf-8")
    env = {**os.environ, "VIETCX_DATABASE_URL": db_url, "VIETCX_ENDPOINTS": str(endpoints)}
    _fill(db_url, tracker_db)

    made = _cli(env, "backup", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    assert {p.name for p in (tmp_path / "backup").iterdir()} == {"manifest.json", "product.sqlite3", "tracker.sqlite3"}
    assert _cli(env, "backup", str(tmp_path / "backup")).returncode != 0  # never over an earlier backup

    # a day of damage: a customer forgotten by mistake, a conversation lost
    assert _cli(env, "forget-customer", "--channel", "zalo", "--id", "old-customer").returncode == 0
    assert _senders(tracker_url) == {"new-customer"}
    time.sleep(0.1)

    restored = _cli(env, "restore", str(tmp_path / "backup"))
    assert restored.returncode == 0, restored.stderr
    assert _senders(tracker_url) == {"old-customer", "new-customer"}
    assert _count(db_url, customers) == 2 and _count(db_url, message_sentiment) == 2
    with engine(db_url).connect() as connection:
        comments = set(connection.execute(select(surveys.c.comment)).scalars())
    assert comments == {"chị Ngọc, 0912345678"}


def test_a_damaged_backup_is_refused_before_anything_changes(tmp_path: Path) -> None:
    db_url, tracker_db = f"sqlite:///{tmp_path / 'vietcx.db'}", tmp_path / "tracker.db"
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{tracker_db}"\n', encoding="utf-8")
    env = {**os.environ, "VIETCX_DATABASE_URL": db_url, "VIETCX_ENDPOINTS": str(endpoints)}
    _fill(db_url, tracker_db)
    assert _cli(env, "backup", str(tmp_path / "backup")).returncode == 0
    copy = tmp_path / "backup" / "tracker.sqlite3"
    content = bytearray(copy.read_bytes())
    content[-100:] = bytes(b ^ 0xFF for b in content[-100:])  # a few bits flipped on the way
    copy.write_bytes(bytes(content))
    assert _cli(env, "forget-customer", "--channel", "zalo", "--id", "old-customer").returncode == 0

    refused = _cli(env, "restore", str(tmp_path / "backup"))
    assert refused.returncode != 0 and "damaged" in refused.stderr
    assert _count(db_url, customers) == 1  # the product database was not restored either
