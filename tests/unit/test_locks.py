"""The lock store in the product database: tickets in order, one holder at a time, across processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from pathlib import Path

import pytest
from rasa.core.lock_store import LockError

from vietcx.store.locks import DatabaseLockStore, lock_key


@pytest.fixture()
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'locks.db'}"


def test_tickets_are_issued_in_order_and_given_back(url: str) -> None:
    store = DatabaseLockStore(url=url)
    assert [store.issue_ticket("c1") for _ in range(3)] == [1, 2, 3]
    assert store.issue_ticket("c2") == 1
    lock = store.get_lock("c1")
    assert lock is not None and [t.number for t in lock.tickets] == [1, 2, 3]
    for ticket in (1, 2, 3):
        store.cleanup("c1", ticket)
    assert store.get_lock("c1") is None
    assert store.issue_ticket("c1") == 1


def test_second_message_waits_for_the_first_and_follows_it_at_once(url: str) -> None:
    store = DatabaseLockStore(url=url)
    order: list[str] = []

    async def handle(name: str, seconds: float) -> float:
        async with store.lock("conversation"):
            order.append(f"{name} in")
            await asyncio.sleep(seconds)
            order.append(f"{name} out")
        return time.perf_counter()

    async def both() -> tuple[float, float]:
        first = asyncio.create_task(handle("first", 0.3))
        await asyncio.sleep(0.01)
        second_started = time.perf_counter()
        second_done = await handle("second", 0)
        await first
        return second_started, second_done

    started, done = asyncio.run(both())
    assert order == ["first in", "first out", "second in", "second out"]
    # Rasa's base class looks again only every second; here the second follows within a few polls
    assert done - started < 0.6


def test_an_expired_ticket_does_not_block_the_conversation(url: str) -> None:
    store = DatabaseLockStore(url=url)
    store.issue_ticket("stuck", lock_lifetime=0.05)  # a process died holding it
    time.sleep(0.1)

    async def handle() -> None:
        async with store.lock("stuck"):
            pass

    asyncio.run(asyncio.wait_for(handle(), timeout=2))


def test_a_ticket_that_expires_while_waiting_gives_up_as_rasa_does(url: str) -> None:
    store = DatabaseLockStore(url=url)
    store.issue_ticket("busy", lock_lifetime=30)

    async def handle() -> None:
        async with store.lock("busy", lock_lifetime=0.2):
            pass

    with pytest.raises(LockError):
        asyncio.run(handle())


def test_long_conversation_ids_are_kept_apart(url: str) -> None:
    store = DatabaseLockStore(url=url)
    one, two = "x" * 500 + "1", "x" * 500 + "2"
    assert lock_key(one) != lock_key(two) and len(lock_key(one)) <= 200
    assert store.issue_ticket(one) == 1 and store.issue_ticket(two) == 1
    assert store.get_lock(one) is not None


def _count_under_lock(url: str, counter: str, times: int) -> None:
    """Reads, waits and writes back a counter under the conversation's lock, `times` times."""
    store = DatabaseLockStore(url=url)

    async def run() -> None:
        for _ in range(times):
            async with store.lock("shared"):
                value = int(Path(counter).read_text())
                await asyncio.sleep(0.002)
                Path(counter).write_text(str(value + 1))

    asyncio.run(run())


def test_processes_never_hold_one_conversation_at_once(url: str, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counter.write_text("0")
    DatabaseLockStore(url=url)  # schema migrated before the processes race for the lock
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_count_under_lock, args=(url, str(counter), 25)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    # a lost update (two holders at once) would leave fewer
    assert int(counter.read_text()) == 75


def _issue(url: str, conversation: str, times: int, out: multiprocessing.Queue) -> None:
    store = DatabaseLockStore(url=url)
    out.put([store.issue_ticket(conversation, lock_lifetime=600) for _ in range(times)])


def test_processes_racing_for_tickets_never_get_the_same_number(url: str) -> None:
    DatabaseLockStore(url=url)
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [context.Process(target=_issue, args=(url, "race", 40, out)) for _ in range(3)]
    for worker in workers:
        worker.start()
    numbers = [n for _ in workers for n in out.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=30)
    assert sorted(numbers) == list(range(1, 121))
