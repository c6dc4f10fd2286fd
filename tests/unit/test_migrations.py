"""The product database's schema by Alembic migrations, on real SQLite files: a new database, one
from before Alembic, several processes opening a new one at once, and no schema change without
its migration."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text

from vietcx.store.db import customers, engine, metadata


def test_a_new_database_gets_every_table_at_the_newest_revision(tmp_path: Path) -> None:
    db = engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert set(inspect(db).get_table_names()) == {t.name for t in metadata.sorted_tables} | {"alembic_version"}
    with db.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == ["0001"]


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
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"


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
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == ["0001"]
