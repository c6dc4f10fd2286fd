"""The outbox on a real SQLite file: messages stay until the client acknowledges them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from vietcx.store import outbox
from vietcx.store.db import engine


@pytest.fixture()
def db(tmp_path: Path) -> Engine:
    return engine(f"sqlite:///{tmp_path / 'vietcx.db'}")


def test_a_message_is_handed_out_until_acknowledged_then_never_again(db: Engine) -> None:
    first = outbox.send("s1", "một", "staff", "lan", db=db)
    second = outbox.send("s1", "hai", "staff", "lan", db=db)
    outbox.send("other", "không phải của s1", "staff", "lan", db=db)

    # a poll whose answer is lost on the way: nothing is lost, the next poll gets the same messages
    assert [m["text"] for m in outbox.pending("s1", db=db)] == ["một", "hai"]
    assert [m["text"] for m in outbox.pending("s1", db=db)] == ["một", "hai"]
    [stored, _] = outbox.messages("s1", db)
    assert stored["handed_out_at"] is not None and stored["delivered_at"] is None

    # the client showed the first one: only the second is still pending
    assert outbox.acknowledge("s1", first, db=db) == 1
    assert [m["id"] for m in outbox.pending("s1", db=db)] == [second]
    # a cursor past what a client holds still only gives what is above it
    assert outbox.pending("s1", after=second, db=db) == []
    assert outbox.acknowledge("s1", second, db=db) == 1
    assert outbox.pending("s1", db=db) == []
    assert all(m["delivered_at"] is not None for m in outbox.messages("s1", db))


def test_a_cursor_cannot_acknowledge_another_customers_messages(db: Engine) -> None:
    theirs = outbox.send("victim", "tin của người khác", "staff", "lan", db=db)
    assert outbox.acknowledge("attacker", theirs + 100, db=db) == 0
    assert [m["text"] for m in outbox.pending("victim", db=db)] == ["tin của người khác"]
    assert outbox.acknowledge("victim", 0, db=db) == 0


def test_buttons_come_back_as_they_were_sent(db: Engine) -> None:
    buttons = [{"title": "5 ⭐", "payload": '/survey_answer{"score": 5}'}]
    outbox.send("s2", "Anh/chị hài lòng ở mức nào ạ?", "bot", buttons=buttons, db=db)
    [message] = outbox.pending("s2", db=db)
    assert message["buttons"] == buttons and message["author"] == "bot"
