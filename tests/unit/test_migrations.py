"""The product database's schema by Alembic migrations, on real SQLite files: a new database, one
from before Alembic, several processes opening a new one at once, and no schema change without
its migration."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, bindparam, create_engine, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from vietcx.store.db import MIGRATIONS, customers, engine, message_sentiment, metadata, migrate, text_sha256


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


HEAD = _head()


def test_a_new_database_gets_every_table_at_the_newest_revision(tmp_path: Path) -> None:
    db = engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert set(inspect(db).get_table_names()) == {t.name for t in metadata.sorted_tables} | {"alembic_version"}
    with db.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]


def test_the_migrations_describe_the_schema_in_the_code(tmp_path: Path) -> None:
    """A table or column changed in vietcx/store/db.py without a migration fails here."""
    db = engine(f"sqlite:///{tmp_path / 'same.db'}")
    with db.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_a_database_from_before_alembic_is_brought_up_with_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    with old.begin() as connection:  # how the first release made it: fewer columns, no other table
        connection.execute(
            text(
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, channel VARCHAR(32) NOT NULL, "
                "channel_user_id VARCHAR(200) NOT NULL, display_name VARCHAR(200), full_name VARCHAR(200), "
                "given_name VARCHAR(100), honorific VARCHAR(16), name_source VARCHAR(16), "
                "name_declined BOOLEAN NOT NULL, first_seen DATETIME NOT NULL, last_seen DATETIME NOT NULL, "
                "conversations INTEGER NOT NULL, CONSTRAINT uq_customer_channel_user UNIQUE (channel, channel_user_id))"
            )
        )
        connection.execute(
            text(
                "INSERT INTO customers (channel, channel_user_id, given_name, name_declined, first_seen, "
                "last_seen, conversations) VALUES ('zalo', 'u1', 'Ngọc', 0, '2026-01-01', '2026-01-02', 3)"
            )
        )
    old.dispose()
    db = engine(url)
    columns = {c["name"] for c in inspect(db).get_columns("customers")}
    assert {"last_message_at", "platform_name_at"} <= columns
    assert "escalations" in inspect(db).get_table_names()
    with db.connect() as connection:
        assert connection.execute(select(customers.c.given_name, customers.c.conversations)).one() == ("Ngọc", 3)
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD


def _open(url: str, start: multiprocessing.synchronize.Event, errors: multiprocessing.Queue) -> None:
    start.wait()
    try:
        engine(url)
    except Exception as error:  # noqa: BLE001 (reported to the test)
        errors.put(repr(error))


def test_several_processes_opening_a_new_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    context = multiprocessing.get_context("spawn")
    start, errors = context.Event(), context.Queue()
    workers = [context.Process(target=_open, args=(url, start, errors)) for _ in range(4)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert [errors.get() for _ in range(errors.qsize())] == []
    with engine(url).connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]


def test_message_rows_become_unique_by_the_hash_of_their_text(tmp_path: Path) -> None:
    """0002: PostgreSQL cannot index a long text; its SHA-256 takes its place in the unique key."""
    url = f"sqlite:///{tmp_path / 'at-0001.db'}"
    before = create_engine(url)
    migrate(before, "0001")
    long_text = "Chào shop, " + "mình cần đổi máy giặt vì lỗi vắt. " * 300  # about 10 kB
    sent = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
    row = {"sender_id": "s1", "session_started_at": sent, "channel": "zalo", "sent_at": sent,
           "label": "negative", "confidence": 0.9, "score": -0.7}  # fmt: skip
    with before.begin() as connection:
        insert_at_0001 = text(
            "INSERT INTO message_sentiment (sender_id, session_started_at, channel, sent_at, text, label, "
            "confidence, score) VALUES ('s1', :at, 'zalo', :at, :text, 'negative', 0.9, -0.7)"
        ).bindparams(bindparam("at", type_=DateTime(timezone=True)))  # stored as the product stores it
        connection.execute(insert_at_0001, {"at": sent, "text": long_text})
    before.dispose()

    db = engine(url)
    assert [u["column_names"] for u in inspect(db).get_unique_constraints("message_sentiment")] == [
        ["sender_id", "sent_at", "text_sha256"]
    ]
    with db.connect() as connection:
        stored = connection.execute(select(message_sentiment.c.text, message_sentiment.c.text_sha256)).one()
    assert stored == (long_text, text_sha256(long_text))
    with pytest.raises(IntegrityError), db.begin() as connection:  # the same message twice: refused
        connection.execute(insert(message_sentiment).values(text=long_text, **row))
    with db.begin() as connection:  # another text at the same moment: a row of its own
        connection.execute(insert(message_sentiment).values(text=long_text + "!", **row))


def test_the_call_back_and_nps_columns_come_with_their_migrations(tmp_path: Path) -> None:
    db = engine(f"sqlite:///{tmp_path / 'columns.db'}")
    assert {"callback_phone", "callback_requested_at"} <= {c["name"] for c in inspect(db).get_columns("escalations")}
    assert "nps" in {c["name"] for c in inspect(db).get_columns("surveys")}
    assert HEAD == "0006"
