"""The event broker is fed what Rasa's SQL tracker store writes, without reading the tracker back
(vietcx.rasa_server.streaming_what_save_writes): every event once, in order, across sessions."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from vietcx.rasa_server import streaming_what_save_writes


class Collected(EventBroker):
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)


def saved_turns(store: SQLTrackerStore, turns: list[list[Any]]) -> list[tuple[str, str]]:
    """Each turn's events added to the stored tracker and saved; what the broker received."""

    async def play() -> None:
        for events in turns:
            tracker = await store.retrieve("customer") or DialogueStateTracker("customer", [])
            for event in events:
                tracker.update(event)
            await store.save(tracker)

    asyncio.run(play())
    return [(e["event"], str(e.get("text") or e.get("name") or "")) for e in store.event_broker.published]


TURNS = [
    [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
    [UserUttered("chào shop"), ActionExecuted("action_greet"), BotUttered("Dạ chào anh/chị")],
    [UserUttered("phí ship bao nhiêu"), SlotSet("faq_topic", "shipping_fee"), ActionExecuted("action_listen")],
    [ActionExecuted("action_session_start"), SessionStarted(), UserUttered("lại là mình đây")],
]


def test_the_broker_gets_every_saved_event_once_as_rasa_would_publish_them(
    tmp_path: Path, monkeypatch: Any
) -> None:
    stores = []
    for name in ("rasa", "ours"):
        store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / f"{name}.db"))
        store.event_broker = Collected()
        stores.append(store)
    rasa_way = saved_turns(stores[0], TURNS)
    monkeypatch.setattr(SQLTrackerStore, "stream_events", streaming_what_save_writes)
    ours = saved_turns(stores[1], TURNS)
    assert ours == rasa_way
    assert len(ours) == sum(len(turn) for turn in TURNS)
    assert ours[-1] == ("user", "lại là mình đây")
