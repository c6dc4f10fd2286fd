"""/health of every server says whether it can serve: 200 with each dependency "ok", 503 when one
is not (here the product database's file taken away, as a full or failed disk would)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from harness import Assistant, running_assistant


@pytest.fixture(scope="module")
def servers() -> Iterator[Assistant]:
    with running_assistant() as running:  # its own: this test takes the database away for a moment
        running.start_console()
        yield running


def _health(servers: Assistant) -> dict[str, requests.Response]:
    return {
        "rasa": requests.get(f"{servers.url}/health", timeout=10),
        "actions": requests.get(f"http://127.0.0.1:{servers.actions_port}/health", timeout=10),
        "console": requests.get(f"{servers.console_url}/health", timeout=10),
    }


def test_every_server_is_healthy_with_what_it_depends_on(servers: Assistant) -> None:
    answers = _health(servers)
    assert {name: answer.status_code for name, answer in answers.items()} == {
        "rasa": 200, "actions": 200, "console": 200
    }  # fmt: skip
    assert answers["rasa"].json()["checks"] == {"model": "ok", "tracker_store": "ok", "lock_store": "ok"}
    assert answers["console"].json()["checks"] == {"database": "ok"}


def test_without_its_database_a_server_says_so_and_recovers(servers: Assistant) -> None:
    database = Path(servers.database_url.removeprefix("sqlite:///"))
    away = database.with_name("away.db")
    os.replace(database, away)
    try:
        answers = _health(servers)
    finally:
        os.replace(away, database)
    assert {name: answer.status_code for name, answer in answers.items()} == {
        "rasa": 503, "actions": 503, "console": 503
    }  # fmt: skip
    assert answers["rasa"].json() == {
        "status": "unavailable",
        "checks": {"model": "ok", "tracker_store": "ok", "lock_store": "unavailable"},
    }
    assert answers["actions"].json()["checks"] == {"database": "unavailable"}
    assert "sqlite" not in answers["console"].text.lower()  # why goes to the log, not to the caller
    assert all(answer.status_code == 200 for answer in _health(servers).values())
