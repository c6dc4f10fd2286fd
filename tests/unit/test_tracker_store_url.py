"""The tracker store's URL read from endpoints.yml, as Rasa itself connects to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from vietcx.settings import PROJECT
from vietcx.store.tracker import tracker_store_url


def _endpoints(tmp_path: Path, tracker: str) -> Path:
    path = tmp_path / "endpoints.yml"
    path.write_text(f"tracker_store:\n{tracker}", encoding="utf-8")
    return path


@pytest.mark.parametrize("password", ["p@ss:w/rd#1%", "a b?c=d&e", "100%41ok", "plain"])
def test_a_password_with_url_characters_stays_one_password(tmp_path: Path, password: str) -> None:
    endpoints = _endpoints(
        tmp_path,
        "  type: SQL\n  dialect: postgresql\n  url: db.internal\n  port: 5433\n  db: rasa\n"
        f"  username: rasa\n  password: '{password}'\n",
    )
    url = make_url(tracker_store_url(endpoints))
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "rasa", password, "db.internal", 5433, "rasa"
    )


def test_environment_variables_are_expanded_as_rasa_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", "s3cr@t")
    endpoints = _endpoints(
        tmp_path, "  type: SQL\n  dialect: postgresql\n  db: rasa\n  username: u\n  password: ${DB_PASSWORD}\n"
    )
    assert make_url(tracker_store_url(endpoints)).password == "s3cr@t"


def test_sqlite_paths_are_taken_from_the_project(tmp_path: Path) -> None:
    endpoints = _endpoints(tmp_path, "  type: SQL\n  dialect: sqlite\n  db: var/tracker.db\n")
    assert tracker_store_url(endpoints) == f"sqlite:///{PROJECT / 'var/tracker.db'}"


def test_other_tracker_stores_have_no_url(tmp_path: Path) -> None:
    assert tracker_store_url(_endpoints(tmp_path, "  type: redis\n  url: localhost\n")) is None
