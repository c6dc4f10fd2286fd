"""Customer profiles in a real SQLite file: lifecycle, corrections, removal, additive migration."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import time
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from vietcx.names import make_name
from vietcx.store import profiles
from vietcx.store.db import engine, migrate


def test_profile_lifecycle(tmp_path: Path) -> None:
    db = engine(f"sqlite:///{tmp_path / 'p.db'}")
    assert profiles.get("zalo", "u1", db) is None
    profile, seen = profiles.start_conversation("zalo", "u1", "Ngọc Trần", db)
    assert not seen and profile.conversations == 1 and profile.display_name == "Ngọc Trần"
    profiles.save_name("zalo", "u1", make_name(["Trần", "Thị", "Ngọc"]), source="customer", db=db)
    profile, seen = profiles.start_conversation("zalo", "u1", db=db)
    assert seen and profile.conversations == 2
    assert profile.name and profile.name.address == "chị Ngọc" and profile.name_source == "customer"
    # the same id on another channel is another customer
    assert profiles.get("messenger", "u1", db) is None
    profiles.save_name("zalo", "u1", make_name(["Lan"]), source="customer", db=db)
    assert profiles.get("zalo", "u1", db).given_name == "Lan"
    profiles.decline_name("web", "u2", db)
    assert profiles.get("web", "u2", db).name_declined
    assert profiles.forget("zalo", "u1", db) is True
    assert profiles.get("zalo", "u1", db) is None
    assert profiles.forget("zalo", "u1", db) is False


def test_an_old_database_gets_new_columns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    with old.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, channel VARCHAR(32) NOT NULL, "
                "channel_user_id VARCHAR(200) NOT NULL, display_name VARCHAR(200), "
                "first_seen DATETIME NOT NULL, "
                "last_seen DATETIME NOT NULL, conversations INTEGER NOT NULL, name_declined BOOLEAN NOT NULL)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO customers (channel, channel_user_id, display_name, first_seen, last_seen, "
                "conversations, name_declined) "
                "VALUES ('web', 'old', 'Hoa', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 3, 0)"
            )
        )
    migrate(old)
    columns = {c["name"] for c in inspect(old).get_columns("customers")}
    assert {"given_name", "honorific", "name_source"} <= columns
    profile = profiles.get("web", "old", old)
    assert profile.conversations == 3 and profile.display_name == "Hoa" and profile.given_name is None


def _first_contact(url: str, start: multiprocessing.synchronize.Event, errors: multiprocessing.Queue) -> None:
    db = engine(url)
    start.wait()
    try:
        profiles.start_conversation("zalo", "brand-new", "Ngọc Trần", db)
    except Exception as error:  # noqa: BLE001 (reported to the test)
        errors.put(repr(error))


def test_a_first_contact_reaching_several_processes_at_once_makes_one_profile(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    engine(url)  # schema migrated before the processes race for the profile
    context = multiprocessing.get_context("spawn")
    start, errors = context.Event(), context.Queue()
    for attempt in range(3):  # a race needs the processes to meet: play it a few times
        customer_db = engine(url)
        profiles.forget("zalo", "brand-new", customer_db)
        workers = [context.Process(target=_first_contact, args=(url, start, errors)) for _ in range(6)]
        for worker in workers:
            worker.start()
        time.sleep(1.5)  # every process imported and waiting
        start.set()
        for worker in workers:
            worker.join(timeout=60)
        start.clear()
        failures = [errors.get() for _ in range(errors.qsize())]
        assert not failures, (attempt, failures)
        profile = profiles.get("zalo", "brand-new", customer_db)
        assert profile is not None and profile.conversations == 6
