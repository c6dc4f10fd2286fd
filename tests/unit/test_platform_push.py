"""Pushing to Zalo and Messenger on a real SQLite file: queued messages claimed by one process at a
time, in order, retried or marked undeliverable; Zalo's single-use refresh token refreshed by one
process; and the shape of what each platform is sent."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from vietcx.channels import messenger, zalo
from vietcx.store import outbox, tokens
from vietcx.store.db import engine


@pytest.fixture()
def db(tmp_path: Path) -> Engine:
    return engine(f"sqlite:///{tmp_path / 'vietcx.db'}")


def test_queued_messages_are_claimed_once_by_one_of_several_processes(db: Engine) -> None:
    ids = [outbox.send(f"zalo-{n % 5}", f"tin {n}", "staff", "lan", db=db) for n in range(40)]
    outbox.send("web-abc", "không phải của Zalo", "staff", "lan", db=db)
    outbox.send("zalo_x-1", "prefix lookalike", "staff", "lan", db=db)
    taken: list[list[int]] = [[], [], [], []]

    def worker(number: int) -> None:
        taken[number] = [m["id"] for m in outbox.claim("zalo-", db=db)]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = sorted(i for claimed in taken for i in claimed)
    assert everything == sorted(set(everything))  # nobody got a message another got
    assert set(everything) <= set(ids)
    assert outbox.claim("zalo-", db=db) == []  # leased: nobody else gets them now


def test_a_failed_message_holds_back_the_rest_of_its_conversation(db: Engine) -> None:
    first = outbox.send("zalo-1", "một", "staff", "lan", db=db)
    outbox.send("zalo-1", "hai", "staff", "lan", db=db)
    other = outbox.send("zalo-2", "của người khác", "staff", "lan", db=db)
    assert [m["id"] for m in outbox.claim("zalo-", db=db)] == [first, first + 1, other]
    outbox.retry_later(first, attempts=1, delay_seconds=60, db=db)
    outbox.retry_later(first + 1, attempts=0, delay_seconds=0, db=db)
    outbox.delivered(other, db=db)
    assert outbox.claim("zalo-", db=db) == []  # "hai" must not overtake "một"
    outbox.retry_later(first, attempts=1, delay_seconds=0, db=db)
    assert [m["text"] for m in outbox.claim("zalo-", db=db)] == ["một", "hai"]
    outbox.undeliverable(first, "Quá 7 ngày", db=db)
    [stored, *_] = outbox.messages("zalo-1", db)
    assert stored["failed_at"] is not None and stored["failure"] == "Quá 7 ngày"


def test_a_lease_lapses_when_its_process_died(db: Engine) -> None:
    queued = outbox.send("messenger-9", "xin chào", "bot", db=db)
    assert [m["id"] for m in outbox.claim("messenger-", lease_seconds=0.01, db=db)] == [queued]
    time.sleep(0.05)
    assert [m["id"] for m in outbox.claim("messenger-", db=db)] == [queued]  # sent again: at least once


def test_only_one_process_refreshes_a_single_use_token(db: Engine) -> None:
    soon = datetime.now(timezone.utc) + timedelta(minutes=5)
    assert tokens.seed("zalo", tokens.Tokens("a1", "r1", soon), db=db)
    assert not tokens.seed("zalo", tokens.Tokens("a0", "r0", soon), db=db)  # the database's pair wins
    wins = []
    barrier = threading.Barrier(6)

    def refresher() -> None:
        barrier.wait()
        wins.append(tokens.claim_refresh("zalo", "a1", db=db))

    threads = [threading.Thread(target=refresher) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1
    tokens.save("zalo", tokens.Tokens("a2", "r2", soon + timedelta(hours=25)), db=db)
    assert not tokens.claim_refresh("zalo", "a1", db=db)  # refreshed already: use the new token
    stored = tokens.get("zalo", db=db)
    assert stored is not None and (stored.access_token, stored.refresh_token) == ("a2", "r2")
    assert not stored.expires_within(3600)


CES = {
    "text": "Anh/chị thấy việc được hỗ trợ dễ dàng ở mức nào ạ?",
    "buttons": [
        {"title": f"{n} – mức {n}", "payload": f'/survey_answer{{"score": {n}}}'} for n in range(1, 8)
    ]
    + [{"title": "Bỏ qua", "payload": "bỏ qua"}],
}


def test_zalo_buttons_are_at_most_five_a_message_and_send_back_their_title() -> None:
    bodies = zalo._send_bodies("123", CES, 2000)
    groups = [b["message"]["attachment"]["payload"]["buttons"] for b in bodies]
    assert [len(g) for g in groups] == [4, 4]
    assert bodies[0]["message"]["text"] == CES["text"] and bodies[1]["message"]["text"] == zalo.MORE_BUTTONS
    every = [b for g in groups for b in g]
    assert [b["payload"] for b in every] == [b["title"] for b in CES["buttons"]]
    assert {b["type"] for b in every} == {"oa.query.show"}
    long = zalo._send_bodies("123", {"text": "x" * 4500}, 2000)
    assert [len(b["message"]["text"]) for b in long] == [2000, 2000, 500]


def test_zalo_events_are_read_only_when_they_are_a_customers() -> None:
    channel = zalo.ZaloChannel()
    base = {"app_id": "1", "timestamp": "1700000000000", "sender": {"id": "42"}}
    text = {**base, "event_name": "user_send_text", "message": {"msg_id": "m1", "text": "chào shop"}}
    assert [(e.user_id, e.event_id, e.text) for e in channel.events(text)] == [("42", "m1", "chào shop")]
    image = {**base, "event_name": "user_send_image", "message": {"msg_id": "m2", "attachments": []}}
    assert [e.text for e in channel.events(image)] == [None]
    follow = {"app_id": "1", "timestamp": "5", "event_name": "follow", "follower": {"id": "42"}}
    assert [(e.follow, e.event_id) for e in channel.events(follow)] == [(True, "follow-42-5")]
    for ignored in (
        {**text, "event_name": "oa_send_text"},  # the OA's own message
        {**text, "event_name": "user_seen_message"},
        {**text, "sender": {"id": "../../x"}},
        {**text, "message": {"text": "no id"}},
        [text],
        "text",
    ):
        assert channel.events(ignored) == []


def test_messenger_uses_the_human_agent_tag_only_when_asked() -> None:
    [plain] = messenger._send_bodies("7", {"text": "Dạ"}, 2000, None)
    assert plain["messaging_type"] == "RESPONSE" and "tag" not in plain
    [tagged] = messenger._send_bodies("7", {"text": "Dạ"}, 2000, "HUMAN_AGENT")
    assert (tagged["messaging_type"], tagged["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_the_zalo_token_is_refreshed_before_it_expires(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against the fake Zalo OAuth server: a token with less than an hour left is replaced before use,
    the new single-use refresh token kept; a token with time left is used as it is."""
    import asyncio
    import sys

    import aiohttp

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
    from fake_zalo import fake_zalo

    from harness import free_port, zalo_env
    from vietcx.channels.zalo_tokens import TokenKeeper

    port = free_port()
    env = zalo_env(port)
    for key, value in {**env, "VIETCX_DATABASE_URL": f"sqlite:///{tmp_path / 'v.db'}"}.items():
        monkeypatch.setenv(key, value)
    soon = datetime.now(timezone.utc) + timedelta(minutes=20)
    tokens.seed(
        "zalo", tokens.Tokens(env["VIETCX_ZALO_ACCESS_TOKEN"], env["VIETCX_ZALO_REFRESH_TOKEN"], soon)
    )

    async def use_twice() -> tuple[str | None, str | None]:
        async with aiohttp.ClientSession() as session:
            keeper = TokenKeeper(env["VIETCX_ZALO_APP_ID"], env["VIETCX_ZALO_APP_SECRET"], lambda: session)
            return await keeper.current(), await keeper.current()

    with fake_zalo(port, env) as zalo:
        first, second = asyncio.run(use_twice())
        assert zalo.refreshes == 1 and first == second == zalo.access_token
        stored = tokens.get("zalo")
        assert stored is not None and stored.refresh_token == zalo.refresh_token
        assert not stored.expires_within(20 * 3600)
