"""Queued messages (staff replies, the survey after a hand-back) in the channels' message format.

Each carries `custom.outbox_id`: the client shows the ones above its cursor, then acknowledges the
cursor (`ack` with its next message, `after` on `/updates`), and only then are they "delivered".
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from vietcx.store import outbox, staff
from vietcx.store.db import while_unreachable

T = TypeVar("T")


async def acknowledge(sender: str, cursor: int) -> None:
    """The client has shown everything up to `cursor`."""
    if cursor:
        await _database(functools.partial(outbox.acknowledge, sender, cursor))


async def pending(sender: str, after: int = 0) -> list[dict[str, Any]]:
    """The sender's unacknowledged messages above `after`; staff messages say who wrote them."""
    return await as_messages(await _database(functools.partial(outbox.pending, sender, after)))


async def _database(work: Callable[[], T]) -> T:
    """Database work off the event loop, tried again while the database cannot be reached, as the
    tracker store's and the actions' are (a customer got an error when PostgreSQL restarted under
    load, bench/load_test.py --fault restart-postgres: the outbox was the turn's one database work
    not tried again)."""
    return await while_unreachable(lambda: asyncio.get_running_loop().run_in_executor(None, work), "Outbox")


async def as_messages(queued: list[dict]) -> list[dict[str, Any]]:
    """Outbox rows in the channels' message format."""
    names: dict[str, str] = {}
    found = []
    for message in queued:
        item: dict[str, Any] = {"recipient_id": message["sender_id"], "custom": {"outbox_id": message["id"]}}
        if message["text"]:
            item["text"] = message["text"]
        if message["buttons"]:
            item["buttons"] = message["buttons"]
        if message["author"] == "staff":
            username = message["staff"] or ""
            if username not in names:
                account = await _database(functools.partial(staff.get, username))
                names[username] = account["display_name"] if account else username
            item["custom"].update(staff=True, staff_name=_given_name(names[username]))
        found.append(item)
    return found


def _given_name(display_name: str) -> str:
    """ "Nguyễn Thị Lan" → "Lan": customers are told which staff member answers, the Vietnamese way."""
    return display_name.split()[-1] if display_name.split() else display_name
