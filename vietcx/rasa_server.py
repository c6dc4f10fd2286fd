"""`python -m vietcx.rasa_server [rasa run options]`: `rasa run` with its HTTP API closed, its logs
kept as the product's other servers keep theirs, and the NLU run off the server's event loop.

The API's JWT key is handed to Rasa inside this process, so it never shows on a command line (which
every user of the machine can read in the process list).

Rasa runs the NLU pipeline (tokeniser, e5 embeddings, DIET: the bulk of a turn's time) inside the
event loop, so while one message is understood no other request of the server is even read: Zalo
and Meta, which want their webhook acknowledged within seconds, would wait behind every turn. Here
the pipeline runs in one worker thread (one at a time, as before, so the components need not be
thread-safe); the loop stays free to acknowledge webhooks and serve the web chat meanwhile.
For the same reason the action server's answers are checked against Rasa's schema with a validator
made once, not by `jsonschema.validate`, which first checks the schema itself on every call (a
seventh of the loop's time under load, measured with py-spy).
Every message is read in the context of the question the assistant has just asked (the name, "đã
giải quyết chưa?", a survey score…) before the policies see it: vietcx/replies.py.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import os
import sys
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import jwt
import rasa.core.run
import rasa.core.tracker_store
import rasa.server
from rasa.__main__ import main as rasa_main
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.lock_store import RedisLockStore
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import make_url

from vietcx import health, logs, metrics, replies, retrying
from vietcx.channels import payloads
from vietcx.rasa_api import ALGORITHM, jwt_secret
from vietcx.store import db
from vietcx.store.locks import DatabaseLockStore

logger = logging.getLogger("vietcx.rasa_server")  # also when run as __main__


def refusing_malformed_tokens(create_app: Callable[..., Sanic]) -> Callable[..., Sanic]:
    """Rasa's app, answering 401 to a token sanic-jwt does not expect (another algorithm, such as
    "none", escapes its checks and would otherwise be a 500)."""

    @functools.wraps(create_app)
    def create(*args: Any, **kwargs: Any) -> Sanic:
        app = create_app(*args, **kwargs)

        @app.exception(jwt.PyJWTError)
        async def refused(_request: Request, _error: Exception) -> HTTPResponse:
            body = {
                "status": "failure",
                "reason": "NotAuthenticated",
                "message": "User is not authenticated.",
            }
            return response.json(body, status=401)

        return app

    return create


def answering_operators(create_app: Callable[..., Sanic]) -> Callable[..., Sanic]:
    """Rasa's app with /health (vietcx/health.py: the model loaded, the tracker store and the lock
    store reachable; 503 otherwise, so a balancer sends customers elsewhere) and /metrics
    (vietcx/metrics.py)."""

    @functools.wraps(create_app)
    def create(*args: Any, **kwargs: Any) -> Sanic:
        app = create_app(*args, **kwargs)

        @app.get("/health")
        async def health_check(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            status, body = await asyncio.get_running_loop().run_in_executor(None, health.run, _checks(agent))
            return response.json(body, status=status)

        @app.get("/metrics")
        async def figures(_request: Request) -> HTTPResponse:
            body = await asyncio.get_running_loop().run_in_executor(None, metrics.exposition)
            return response.raw(body, content_type=metrics.CONTENT_TYPE)

        return app

    return create


def _checks(agent: Agent | None) -> dict[str, health.Check]:
    def model() -> None:
        if agent is None or not agent.is_ready():
            raise RuntimeError("no model loaded")

    checks = {"model": model}
    tracker_store = getattr(agent, "tracker_store", None)
    tracker_store = getattr(tracker_store, "_tracker_store", tracker_store)  # Rasa's awaitable wrapper
    if isinstance(tracker_store, SQLTrackerStore):
        checks["tracker_store"] = health.database(tracker_store.engine)
    lock_store = getattr(agent, "lock_store", None)
    if isinstance(lock_store, DatabaseLockStore):
        checks["lock_store"] = health.database(lock_store.engine)
    elif isinstance(lock_store, RedisLockStore):
        checks["lock_store"] = lock_store.red.ping
    return checks


def parsing_off_the_loop(parse_message: Callable[..., Coroutine]) -> Callable[..., Coroutine]:
    """`MessageProcessor.parse_message`, run in the NLU's own thread. With the model's own pipeline
    (no HTTP interpreter) Rasa's coroutine never awaits: the thread runs it to its end."""
    nlu = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")

    @functools.wraps(parse_message)
    async def parse(
        self: MessageProcessor,
        message: UserMessage,
        tracker: DialogueStateTracker | None = None,
        only_output_properties: bool = True,
    ) -> dict[str, Any]:
        if self.http_interpreter:
            return await parse_message(self, message, tracker, only_output_properties)
        call = functools.partial(_complete, parse_message, self, message, tracker, only_output_properties)
        return await asyncio.get_running_loop().run_in_executor(nlu, call)

    return parse


# the turn being handled: its channel labels the replies it sends, and the log's one line per turn
# says the rest (no text: the customer's words stay out of the log)
_turn: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("vietcx_turn", default=None)


def counting_turns(handle_message: Callable[..., Coroutine]) -> Callable[..., Coroutine]:
    """`MessageProcessor.handle_message`, counted and timed per channel (vietcx/metrics.py), with
    one line in the log per turn, under its conversation (vietcx/logs.py)."""

    @functools.wraps(handle_message)
    async def handle(self: MessageProcessor, message: UserMessage) -> Any:
        channel = message.input_channel or "unknown"
        logs.conversation.set(message.sender_id or "-")
        turn: dict[str, Any] = {"channel": channel, "intent": "-", "confidence": 0.0, "replies": 0}
        _turn.set(turn)
        metrics.MESSAGES.labels(channel).inc()
        started = time.perf_counter()
        try:
            return await handle_message(self, message)
        finally:
            seconds = time.perf_counter() - started
            metrics.TURN_SECONDS.labels(channel).observe(seconds)
            logger.info(
                "turn: channel=%s intent=%s (%.2f) replies=%d in %.3f s",
                channel, turn["intent"], turn["confidence"], turn["replies"], seconds,
            )  # fmt: skip

    return handle


def counting_replies(send_response: Callable[..., Coroutine]) -> Callable[..., Coroutine]:
    """`OutputChannel.send_response`, counted under the channel of the turn that sends it."""

    @functools.wraps(send_response)
    async def send(self: OutputChannel, recipient_id: str, message: dict[str, Any]) -> None:
        turn = _turn.get()
        metrics.REPLIES.labels(turn["channel"] if turn else "unknown").inc()
        if turn is not None:  # outside a turn (a staff message pushed): no turn to count it in
            turn["replies"] += 1
        await send_response(self, recipient_id, message)

    return send


def reading_replies_in_context(parse_message: Callable[..., Coroutine]) -> Callable[..., Coroutine]:
    """`MessageProcessor.parse_message` that reads a message as the answer to the question the
    assistant has just asked when it is one (vietcx/replies.py); the API's /model/parse, which has
    no conversation, is left as the NLU reads it."""

    @functools.wraps(parse_message)
    async def parse(
        self: MessageProcessor,
        message: UserMessage,
        tracker: DialogueStateTracker | None = None,
        only_output_properties: bool = True,
    ) -> dict[str, Any]:
        parsed = await parse_message(self, message, tracker, only_output_properties)
        if tracker is None:
            return parsed
        if (message.text or "").startswith(payloads.NOT_A_PAYLOAD + "/"):
            parsed = not_understood(parsed)  # a command typed, never offered: nothing to read in it
        else:
            parsed = replies.in_context(parsed, tracker.events)
        intent = parsed.get("intent") or {}
        turn = _turn.get()
        if turn is not None:
            turn.update(intent=intent.get("name") or "-", confidence=float(intent.get("confidence") or 0))
        if (parsed.get("intent") or {}).get("name") == DEFAULT_NLU_FALLBACK_INTENT_NAME:
            metrics.FALLBACKS.labels(message.input_channel or "unknown").inc()
        return parsed

    return parse


def not_understood(parsed: dict[str, Any]) -> dict[str, Any]:
    """`parsed` as the NLU's fallback: "/EXTERNAL_staff_resolved" typed by a customer is neither
    that intent (vietcx/channels/payloads.py) nor whatever the NLU makes of its words (it read
    "staff" as a request for a person)."""
    fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}
    return {**parsed, "intent": fallback, "intent_ranking": [fallback], "entities": []}


def _complete(function: Callable[..., Coroutine], *args: Any) -> Any:
    """Runs a coroutine that never awaits to its result, without an event loop."""
    coroutine = function(*args)
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError(f"{function.__qualname__} awaited: it cannot run outside the event loop")


WARM_UP_TEXTS = ("xin chào", "phí ship bao nhiêu vậy shop", "cho mình gặp nhân viên")


def warming_up(load_agent_on_start: Callable[..., Coroutine]) -> Callable[..., Coroutine]:
    """Rasa's `load_agent_on_start`, then a few messages understood and their next actions
    predicted on trackers kept in memory (nothing is stored, no action runs), so that the first
    customer after a start or a restart is answered at full speed; then the process says it is
    ready by a file in VIETCX_READY_DIR, which `make run` waits for from every process."""

    @functools.wraps(load_agent_on_start)
    async def load(*args: Any, **kwargs: Any) -> Agent:
        agent = await load_agent_on_start(*args, **kwargs)
        if agent.is_ready():
            for text in WARM_UP_TEXTS:
                parsed = await agent.parse_message(text)
                tracker = DialogueStateTracker.from_events(
                    "warm-up",
                    [
                        ActionExecuted(ACTION_LISTEN_NAME),
                        UserUttered(text, parsed.get("intent"), parsed.get("entities"), parsed),
                    ],
                    slots=agent.domain.slots,
                )
                agent.processor.predict_next_with_tracker(tracker)
        ready_dir = os.environ.get("VIETCX_READY_DIR")
        if ready_dir:
            Path(ready_dir, f"rasa-{os.getpid()}").touch()
        return agent

    return load


def pooling_sqlite(create_engine_kwargs: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Rasa's options for its tracker store's engine, with a pool of open connections on SQLite
    (vietcx/store/db.py says why): a message's tracker read and write, 8 ms, were mostly the
    opening of connections."""

    @functools.wraps(create_engine_kwargs)
    def options(url: Any) -> dict[str, Any]:
        if make_url(str(url)).get_backend_name() == "sqlite":
            return db.sqlite_pool_options(str(url))
        return create_engine_kwargs(url)

    return options


def validating_with_one_validator(action_class: type[RemoteAction]) -> None:
    """`RemoteAction._validate_action_result` with the validator built once for Rasa's static schema."""
    schema = action_class.action_response_format_spec()
    validator = jsonschema.validators.validator_for(schema)(schema)
    validate = action_class._validate_action_result

    @functools.wraps(validate)
    def validated(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            validator.validate(result)
        except jsonschema.ValidationError:
            return validate(self, result)  # Rasa's own message for the log
        return True

    action_class._validate_action_result = validated


SYSTEM_BUSY = (
    "Dạ, hệ thống của em đang bận một chút, {honorific} vui lòng gửi lại tin nhắn giúp em sau ít phút nhé ạ."
)


def retrying_the_action_server(run: Callable[..., Coroutine]) -> Callable[..., Coroutine]:
    """`RemoteAction.run`, tried again for up to VIETCX_ACTION_RETRY_SECONDS (30) while the action
    server cannot be reached or its balancer says none can (502/503/504). Rasa itself logs the
    failure and goes on without the action's events: a survey answer given while the action servers
    restart would be dropped, the customer none the wiser. The actions' writes are idempotent (a
    survey, an escalation), so a call that died half-way may run again. When the time is up, the
    customer is asked to send the message again rather than wait for nothing."""

    @functools.wraps(run)
    async def run_again(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        waits = retrying.pauses("VIETCX_ACTION_RETRY_SECONDS", 30, first=0.25)
        while True:
            try:
                return await run(self, *args, **kwargs)
            except RasaException as error:
                cause = error.__cause__ or error.__context__
                unreachable = isinstance(cause, aiohttp.ClientConnectionError) or getattr(
                    cause, "status", None
                ) in (502, 503, 504)
                pause = next(waits, None) if unreachable else None
                if pause is None:
                    if unreachable:
                        output_channel, tracker = args[0], args[2]
                        honorific = tracker.get_slot("customer_honorific") or "anh/chị"
                        await output_channel.send_text_message(
                            tracker.sender_id, SYSTEM_BUSY.format(honorific=honorific)
                        )
                    raise
                logger.warning("Action server unavailable for %s: trying again in %.2f s", self.name(), pause)
                await asyncio.sleep(pause)

    return run_again


def riding_out_database_restarts(method: Callable[..., Coroutine]) -> Callable[..., Coroutine]:
    """A tracker store read or write, tried again for up to VIETCX_DB_RETRY_SECONDS (30) while the
    database cannot be reached (restarted, failed over; the pool's stale connections are dropped
    on the first failure). Rasa would otherwise keep the turn in this process's memory only: the
    customer answered, the conversation lost."""

    @functools.wraps(method)
    async def again(self: SQLTrackerStore, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        return await db.while_unreachable(lambda: method(self, *args, **kwargs), "Tracker store")

    return again


async def streaming_what_save_writes(self: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
    """Publishes to the event broker the events the save is about to write: the tracker's events
    past those stored since the session started, counted by one query, as the save itself counts
    them. Rasa reads the whole tracker back to find the same events, 4.9 ms of a 63 ms turn
    (bench/profile_message.py)."""
    if self.event_broker is None:
        return
    with self.session_scope() as session:
        new = list(self._additional_events(session, tracker))
    await self._stream_new_events(self.event_broker, new, tracker.sender_id)


def main() -> None:
    # every server process does its numerical work on one thread (the encoder sets its own; numpy's
    # BLAS reads this when first loaded): with a thread per core each, the processes fight over the
    # cores. One thread each measured end to end p95 1.2 s instead of 6.3 s at 7 webhooks a second
    # (bench/channels_bench.py).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    arguments = ["rasa", "run", *sys.argv[1:], "--jwt-secret", jwt_secret(), "--jwt-method", ALGORITHM]
    logging_file = logs.rasa_logging_file()
    if logging_file:
        arguments += ["--logging-config-file", str(logging_file)]
    rasa.server.create_app = answering_operators(refusing_malformed_tokens(rasa.server.create_app))
    MessageProcessor.parse_message = reading_replies_in_context(
        parsing_off_the_loop(MessageProcessor.parse_message)
    )
    validating_with_one_validator(RemoteAction)
    RemoteAction.run = retrying_the_action_server(RemoteAction.run)
    MessageProcessor.handle_message = counting_turns(MessageProcessor.handle_message)
    OutputChannel.send_response = counting_replies(OutputChannel.send_response)
    rasa.core.run.load_agent_on_start = warming_up(rasa.core.run.load_agent_on_start)
    db.tune_every_sqlite_engine()  # Rasa's tracker store, written by every Rasa process
    tracker_store = rasa.core.tracker_store
    SQLTrackerStore.stream_events = streaming_what_save_writes
    SQLTrackerStore.save = riding_out_database_restarts(SQLTrackerStore.save)
    SQLTrackerStore._retrieve = riding_out_database_restarts(SQLTrackerStore._retrieve)
    tracker_store.create_engine_kwargs = pooling_sqlite(tracker_store.create_engine_kwargs)
    sys.argv = arguments
    rasa_main()


if __name__ == "__main__":
    main()
