"""Where the time of one message goes: every stage of a turn, measured on realistic conversations.

    python bench/profile_message.py [--rounds 3]

The real action server and Rasa server are started (tests/harness.py) and the load test's
conversations are played over REST, timing whole turns as a customer sees them. The same model is
also loaded in this process exactly as `python -m vietcx.rasa_server` loads it (the same patches:
replies read in context, the NLU in its own thread, the event broker fed what the save writes),
with a SQLite tracker store and the action server started above, and the same conversations are
played through it with a timer around each of Rasa's graph nodes (every NLU component, every
policy), the tracker store's reads and writes, the event broker (endpoints.yml's, which queues the
events for the sentiment sweep), the lock store and each call of the action server; a stage inside
another counts for itself only. What the REST turn takes beyond the in-process turn is the HTTP
hop into the Rasa server and its channel. One action call's bare round trip is measured on the
action server's /health, so the rest of an action call is the action server's own work.

Prints milliseconds per message (mean, and p50 of the messages that ran the stage) and writes
bench/results/profile_message.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as vietcx.rasa_server sets it

import requests  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from load_test import CONVERSATIONS, send  # noqa: E402

from harness import running_assistant  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "profile_message.json"
BROKER = "event broker: new events found and queued"


class Stages:
    """Seconds spent per stage during the current message, and the finished messages' totals."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.messages: list[dict[str, float]] = []
        self._running: list[list[Any]] = []  # [stage name, seconds of the stages inside it]

    @contextlib.contextmanager
    def timing(self, stage: str) -> Iterator[None]:
        """Times a stage without what the stages inside it take (the tracker store's write includes
        the event broker's work: each is counted once, where it belongs)."""
        started = time.perf_counter()
        self._running.append([stage, 0.0])
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            _, inner = self._running.pop()
            self.current[stage] += elapsed - inner
            if self._running:
                self._running[-1][1] += elapsed

    def finish(self) -> None:
        self.messages.append(dict(self.current))
        self.current.clear()


def _stage_name(node_name: str) -> str:
    """'run_vietcx.nlu.tokenizer.VietnameseTokenizer0' -> 'nlu: VietnameseTokenizer'."""
    name = re.sub(r"^run_", "", node_name)
    name = re.sub(r"\d+$", "", name).rsplit(".", 1)[-1]
    return f"graph: {name}"


def instrument(stages: Stages) -> None:
    """Wraps Rasa's graph nodes, tracker store and remote actions with timers."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.engine.graph import GraphNode

    from vietcx.store.locks import DatabaseLockStore

    call = GraphNode.__call__

    @functools.wraps(call)
    def timed_node(self: GraphNode, *inputs: Any) -> Any:
        with stages.timing(_stage_name(self._node_name)):
            return call(self, *inputs)

    GraphNode.__call__ = timed_node

    def timed(stage: Callable[[Any], str], coroutine: Callable[..., Awaitable[Any]]) -> Callable:
        @functools.wraps(coroutine)
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            with stages.timing(stage(self)):
                return await coroutine(self, *args, **kwargs)

        return wrapper

    def timed_sync(stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with stages.timing(stage):
                return function(*args, **kwargs)

        return wrapper

    DatabaseLockStore.issue_ticket = timed_sync("lock store", DatabaseLockStore.issue_ticket)
    DatabaseLockStore.cleanup = timed_sync("lock store", DatabaseLockStore.cleanup)
    DatabaseLockStore._acquire_lock = timed(lambda _: "lock store", DatabaseLockStore._acquire_lock)
    SQLTrackerStore.retrieve = timed(lambda _: "tracker store: read", SQLTrackerStore.retrieve)
    SQLTrackerStore.retrieve_full_tracker = timed(
        lambda _: "tracker store: read", SQLTrackerStore.retrieve_full_tracker
    )
    SQLTrackerStore.save = timed(lambda _: "tracker store: write", SQLTrackerStore.save)
    SQLTrackerStore.stream_events = timed(lambda _: BROKER, SQLTrackerStore.stream_events)
    RemoteAction.run = timed(lambda action: f"action server: {action.name()}", RemoteAction.run)


def quiet_logs() -> None:
    """Rasa's debug logs (the server's are off too) would be timed with the stages."""
    import logging

    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


async def load_agent(model: Path, actions_url: str, tracker_db: Path) -> Any:
    """The model loaded as vietcx.rasa_server loads it, against the given action server."""
    from rasa.core import tracker_store
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import load_agent as rasa_load_agent
    from rasa.core.processor import MessageProcessor
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    from vietcx import rasa_server
    from vietcx.store import db

    db.tune_every_sqlite_engine()
    tracker_store.create_engine_kwargs = rasa_server.pooling_sqlite(tracker_store.create_engine_kwargs)
    tracker_store.SQLTrackerStore.stream_events = rasa_server.streaming_what_save_writes
    MessageProcessor.parse_message = rasa_server.reading_replies_in_context(
        rasa_server.parsing_off_the_loop(MessageProcessor.parse_message)
    )
    rasa_server.validating_with_one_validator(RemoteAction)
    endpoints = AvailableEndpoints(
        action=EndpointConfig(url=actions_url),
        tracker_store=EndpointConfig(type="SQL", dialect="sqlite", db=str(tracker_db)),
        lock_store=EndpointConfig(type="vietcx.store.locks.DatabaseLockStore"),
        event_broker=EndpointConfig(type="vietcx.store.sentiment_queue.SentimentQueue"),
    )
    return await rasa_load_agent(model_path=str(model), endpoints=endpoints)


async def play_in_process(agent: Any, stages: Stages, rounds: int) -> list[float]:
    """Every conversation `rounds` times through the agent; each message's total seconds."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    totals = []
    for _ in range(rounds):
        for script in CONVERSATIONS:
            sender = f"profile-{uuid.uuid4().hex[:8]}"
            for text in script:
                stages.current.clear()
                started = time.perf_counter()
                await agent.handle_message(
                    UserMessage(text, CollectingOutputChannel(), sender, input_channel="rest")
                )
                totals.append(time.perf_counter() - started)
                stages.finish()
    return totals


def play_over_rest(url: str, token: str, rounds: int) -> list[float]:
    """The same conversations over the real Rasa server's REST channel; seconds per message."""
    session, totals = requests.Session(), []
    for _ in range(rounds):
        for script in CONVERSATIONS:
            sender = f"profile-rest-{uuid.uuid4().hex[:8]}"
            totals.extend(send(session, url, token, sender, text) for text in script)
    return totals


def bare_round_trip(url: str, times: int = 200) -> float:
    """Median seconds of a request that does nothing on the server."""
    session, seconds = requests.Session(), []
    for _ in range(times):
        started = time.perf_counter()
        session.get(url, timeout=10).raise_for_status()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def summarise(stages: Stages, totals: list[float], rest: list[float], hop: float) -> dict[str, Any]:
    """Mean ms per message of every stage, largest first, with the other figures of the turn."""
    count = len(stages.messages)
    names = {name for message in stages.messages for name in message}
    rows = []
    for name in names:
        values = [message[name] for message in stages.messages if name in message]
        rows.append(
            {
                "stage": name,
                "mean_ms_per_message": _ms(sum(values) / count),
                "p50_ms_when_run": _ms(statistics.median(values)),
                "share_of_messages": round(len(values) / count, 2),
            }
        )
    rows.sort(key=lambda row: -row["mean_ms_per_message"])
    measured = sum(sum(message.values()) for message in stages.messages) / count
    in_process = statistics.mean(totals)
    return {
        "messages": count,
        "rest_turn_ms": {"mean": _ms(statistics.mean(rest)), "p50": _ms(statistics.median(rest))},
        "in_process_turn_ms": {"mean": _ms(in_process), "p50": _ms(statistics.median(totals))},
        "http_and_channel_ms": _ms(statistics.mean(rest) - in_process),
        "action_server_bare_round_trip_ms": _ms(hop),
        "outside_measured_stages_ms": _ms(in_process - measured),
        "stages": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="times each conversation is played")
    args = parser.parse_args()

    with running_assistant() as assistant, tempfile.TemporaryDirectory(prefix="profile-") as scratch:
        token = assistant.env["VIETCX_REST_TOKEN"]
        play_over_rest(assistant.url, token, 1)  # warm
        rest = play_over_rest(assistant.url, token, args.rounds)
        hop = bare_round_trip(f"http://127.0.0.1:{assistant.actions_port}/health")

        os.environ.update({k: v for k, v in assistant.env.items() if k.startswith("VIETCX_")})
        stages = Stages()

        async def in_process() -> list[float]:
            quiet_logs()
            agent = await load_agent(
                assistant.model, f"http://127.0.0.1:{assistant.actions_port}/webhook", Path(scratch) / "t.db"
            )
            await play_in_process(agent, Stages(), 1)  # warm, not counted
            instrument(stages)
            return await play_in_process(agent, stages, args.rounds)

        totals = asyncio.run(in_process())

    result = summarise(stages, totals, rest, hop)
    result["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    result["cpus"] = os.cpu_count()
    print(f"{'stage':58} {'mean ms/msg':>11} {'p50 when run':>12} {'share':>6}")
    for row in result["stages"]:
        print(
            f"{row['stage'][:58]:58} {row['mean_ms_per_message']:11.2f} "
            f"{row['p50_ms_when_run']:12.2f} {row['share_of_messages']:6.2f}"
        )
    for key in (
        "rest_turn_ms",
        "in_process_turn_ms",
        "http_and_channel_ms",
        "action_server_bare_round_trip_ms",
        "outside_measured_stages_ms",
        "messages",
    ):
        print(f"{key:34} {result[key]}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
