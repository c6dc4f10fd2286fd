"""The channels' outbox reads ride out a database restart (vietcx/channels/delivery.py)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import OperationalError, ProgrammingError

from vietcx.channels import delivery


class Flaky:
    """Fails `times` times with `error`, then answers."""

    def __init__(self, times: int, error: Exception) -> None:
        self.times, self.error, self.calls = times, error, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.times:
            raise self.error
        return "rows"


def unreachable() -> OperationalError:
    return OperationalError("SELECT 1", {}, ConnectionRefusedError("the server is restarting"))


def test_work_is_tried_again_while_the_database_cannot_be_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIETCX_DB_RETRY_SECONDS", "5")
    work = Flaky(3, unreachable())
    assert asyncio.run(delivery._database(work)) == "rows"
    assert work.calls == 4


def test_a_mistake_in_the_work_is_not_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIETCX_DB_RETRY_SECONDS", "5")
    work = Flaky(1, ProgrammingError("SELEC 1", {}, Exception("syntax error")))
    with pytest.raises(ProgrammingError):
        asyncio.run(delivery._database(work))
    assert work.calls == 1


def test_it_gives_up_after_the_retry_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIETCX_DB_RETRY_SECONDS", "0.5")
    with pytest.raises(OperationalError):
        asyncio.run(delivery._database(Flaky(1000, unreachable())))
