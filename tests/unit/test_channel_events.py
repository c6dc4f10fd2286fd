"""Platform events taken in exactly once, on a real SQLite file: resends, races, long ids, housekeeping."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, update
from sqlalchemy.engine import Engine

from vietcx.store import events
from vietcx.store.db import channel_events, customers, engine


@pytest.fixture()
def db(tmp_path: Path) -> Engine:
    return engine(f"sqlite:///{tmp_path / 'vietcx.db'}")


def stored(db: Engine) -> list[tuple[str, str]]:
    with db.connect() as connection:
        query = select(channel_events.c.platform, channel_events.c.event_id).order_by(channel_events.c.id)
        return [tuple(row) for row in connection.execute(query)]


def test_the_schema_has_the_table_and_its_unique_constraint(tmp_path: Path) -> None:
    old = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    customers.create(old)  # a database from before the table (and before Alembic)
    old.dispose()
    db = engine(f"sqlite:///{tmp_path / 'old.db'}")  # start-up adds it
    inspector = inspect(db)
    assert {"platform", "event_id", "received_at"} <= {
        c["name"] for c in inspector.get_columns("channel_events")
    }
    assert [u["column_names"] for u in inspector.get_unique_constraints("channel_events")] == [
        ["platform", "event_id"]
    ]


def test_an_event_is_taken_in_once_however_often_it_is_delivered(db: Engine) -> None:
    assert events.first_time("zalo", "msg-1", db=db) is True
    assert events.first_time("zalo", "msg-1", db=db) is False
    assert events.first_time("zalo", "msg-1", db=db) is False
    assert events.first_time("zalo", "msg-2", db=db) is True
    assert stored(db) == [("zalo", "msg-1"), ("zalo", "msg-2")]


def test_each_platform_has_its_own_ids(db: Engine) -> None:
    assert events.first_time("zalo", "42", db=db) is True
    assert events.first_time("messenger", "42", db=db) is True
    assert events.first_time("messenger", "42", db=db) is False
    assert events.first_time("zalo", "42", db=db) is False


def test_eight_threads_racing_on_one_event_let_exactly_one_through(db: Engine) -> None:
    start = threading.Barrier(8)
    answers: list[bool] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        start.wait()
        try:
            answers.append(events.first_time("messenger", "m_raced", db=db))
        except BaseException as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(answers) == [False] * 7 + [True]
    assert stored(db) == [("messenger", "m_raced")]


def test_an_id_longer_than_the_column_is_stored_as_its_hash(db: Engine) -> None:
    long_id = "x" * 999 + "1"
    other = "x" * 999 + "2"  # the same first 128 characters: a cut id would take it for the first
    assert events.first_time("zalo", long_id, db=db) is True
    assert events.first_time("zalo", long_id, db=db) is False
    assert events.first_time("zalo", other, db=db) is True
    digest = hashlib.sha256(long_id.encode()).hexdigest()
    assert stored(db)[0] == ("zalo", "sha256:" + digest)
    assert all(len(event_id) <= 128 for _, event_id in stored(db))
    # an id exactly as long as the column is kept as it is
    assert events.stored_id("y" * 128) == "y" * 128 and events.first_time("zalo", "y" * 128, db=db) is True


def test_a_platform_or_an_id_the_table_cannot_hold_is_a_mistake(db: Engine) -> None:
    for platform, event_id in [("", "1"), ("p" * 17, "1"), ("zalo", "")]:
        with pytest.raises(ValueError):
            events.first_time(platform, event_id, db=db)
    assert stored(db) == []


def test_housekeeping_forgets_only_old_events(db: Engine) -> None:
    for event_id in ["old-1", "old-2", "recent"]:
        events.first_time("zalo", event_id, db=db)
    ten_days_ago = datetime.now(timezone.utc) - timedelta(days=10)
    with db.begin() as connection:
        connection.execute(
            update(channel_events)
            .where(channel_events.c.event_id.like("old-%"))
            .values(received_at=ten_days_ago)
        )
    assert events.forget_older_than(7, db=db) == 2
    assert stored(db) == [("zalo", "recent")]
    assert events.forget_older_than(7, db=db) == 0
    # a forgotten event would be taken in again; a remembered one still is not
    assert events.first_time("zalo", "old-1", db=db) is True
    assert events.first_time("zalo", "recent", db=db) is False
    with pytest.raises(ValueError):
        events.forget_older_than(0, db=db)
    assert stored(db) == [("zalo", "recent"), ("zalo", "old-1")]
