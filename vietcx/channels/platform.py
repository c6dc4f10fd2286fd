"""What the Zalo and Messenger connectors do alike, written once.

A platform posts signed webhooks and expects a fast 200; the conversation goes on through the
platform's send API. So a `PlatformChannel`:
- verifies the webhook before reading it (the subclass's `verify`: 401/403 and nothing stored or
  processed when it fails), answers at once and handles each event afterwards, in the background;
- handles each event exactly once (`vietcx.store.events`: a resend, a restart or a second server never
  answers twice), remembers when the customer last wrote (the reply windows count from it), asks the
  platform once for the customer's profile name and passes it on as `metadata.customer`, as the web
  page passes a signed-in customer's;
- answers a message without text politely, runs text through the common `turn` (vietcx/channels/base.py),
  and sends the answer in the platform's form (the subclass's `send`);
- pushes what waits in the outbox for its conversations (staff replies, the survey after a hand-back)
  as soon as it is queued: each server process looks about once a second, claims what waits
  (`outbox.claim`: one process per message), and marks it delivered, to retry with back-off, or
  undeliverable with the reason staff see in the console (the reply window is closed, say).

The conversation (Rasa sender id) is `<platform>-<platform user id>`, so the pusher knows from the
outbox which platform a message goes to, and two platforms' ids never meet.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from vietcx.channels import checks, delivery, signatures, throttle
from vietcx.channels.base import Caller, turn
from vietcx.store import events, outbox, profiles
from vietcx.store.db import as_utc

logger = logging.getLogger(__name__)
NOT_TEXT = (
    "Dạ, hiện em chỉ đọc được tin nhắn chữ ạ. Anh/chị nhắn giúp em nội dung cần hỗ trợ bằng chữ nhé, "
    'hoặc nhắn "gặp nhân viên" để được nhân viên hỗ trợ ạ.'
)
MAX_WEBHOOK_BYTES = checks.MAX_BODY_BYTES * 4  # a batch of Messenger events is bigger than one message
PROFILE_NAME_DAYS = 30  # a platform profile name is asked again after this long (people rename)
MAX_PUSH_ATTEMPTS = 8  # rounds of sending (each with its own quick retries) before staff are told


def concurrent_turns() -> int:
    """How many platform messages one server handles at once (VIETCX_CONCURRENT_TURNS); the others
    wait their turn without taking the event loop's time, which the webhooks' acknowledgements need."""
    return max(1, int(os.environ.get("VIETCX_CONCURRENT_TURNS") or 2))


def push_interval() -> float:
    """How often (seconds) each server looks for queued messages to push (VIETCX_PUSH_INTERVAL_SECONDS)."""
    return float(os.environ.get("VIETCX_PUSH_INTERVAL_SECONDS") or 1)


@dataclass(frozen=True)
class PlatformEvent:
    """One thing a customer did on the platform, as far as the assistant cares."""

    user_id: str
    event_id: str
    text: str | None  # None: a sticker, image, file, location, voice…
    follow: bool = False  # followed the shop's account: gets the welcome


class Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"  # network, 5xx, rate limit: try again later
    UNDELIVERABLE = "undeliverable"  # will not get through: staff are told why


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    reason: str = ""  # for staff, in Vietnamese, when undeliverable

    @property
    def sent(self) -> bool:
        return self.outcome is Outcome.SENT


SENT = Delivery(Outcome.SENT)


class PlatformChannel(InputChannel):
    """A messaging platform's webhook, its send API and the push of queued messages."""

    platform = ""  # the channel's name, recorded with every message: "zalo", "messenger"
    text_limit = 2000  # characters per message on the platform

    def __init__(self) -> None:
        self._http: aiohttp.ClientSession | None = None
        self._turns: asyncio.Semaphore | None = None

    @classmethod
    def name(cls) -> str:
        return cls.platform

    # --- what each platform says differently -------------------------------------------------
    @property
    def configured(self) -> bool:
        """Has the secrets to verify webhooks and to send; if not, every webhook is refused."""
        raise NotImplementedError

    def verify(self, request: Request) -> signatures.Verdict:
        """Whether the raw webhook comes from the platform (before anything else reads it)."""
        raise NotImplementedError

    def events(self, body: Any) -> list[PlatformEvent]:
        """The customer events of a verified webhook; echoes, receipts, unknown shapes left out."""
        raise NotImplementedError

    async def profile_name(self, user_id: str) -> str | None:
        """The customer's name as their platform profile shows it, or None."""
        raise NotImplementedError

    async def send(self, user_id: str, message: dict[str, Any], queued: dict | None = None) -> Delivery:
        """One message of the assistant (text, buttons) in the platform's form. `queued` is the
        outbox row when the message did not answer the customer just now (reply windows apply)."""
        raise NotImplementedError

    def add_routes(self, routes: Blueprint) -> None:
        """Routes of the platform's own (Messenger's subscription handshake)."""

    # --- common -----------------------------------------------------------------------------
    def sender(self, user_id: str) -> str:
        return f"{self.platform}-{user_id}"

    @property
    def http(self) -> aiohttp.ClientSession:
        """One connection pool per server process, opened with the server's event loop."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._http

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        routes = Blueprint(f"vietcx_{self.platform}", __name__)

        @routes.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @routes.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            raw = request.body or b""
            if len(raw) > MAX_WEBHOOK_BYTES:
                return response.json({"error": "too large"}, status=413)
            verdict = self.verify(request) if self.configured else signatures.Verdict.NO_SIGNATURE
            if verdict is not signatures.Verdict.OK:
                address = request.remote_addr or request.ip
                logger.warning("%s webhook refused from %s: %s", self.platform, address, verdict.value)
                return response.json({"error": verdict.value}, status=verdict.status)
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError):
                return response.json({"error": "The body must be JSON."}, status=400)
            for event in self.events(body):
                request.app.add_task(self._handle(request, on_new_message, event))
            return response.json({"status": "received"})

        @routes.listener("after_server_start")
        async def start_pushing(app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
            if self.configured:
                app.add_task(self._push_forever())

        @routes.listener("before_server_stop")
        async def close(_app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
            if self._http is not None:
                await self._http.close()

        self.add_routes(routes)
        return routes

    async def _handle(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]], event: PlatformEvent
    ) -> None:
        """One event, after the webhook was acknowledged (a failure is logged: nobody awaits it)."""
        try:
            await self._handle_event(request, on_new_message, event)
        except Exception:  # noqa: BLE001
            logger.exception("A %s event could not be handled", self.platform)

    async def _handle_event(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]], event: PlatformEvent
    ) -> None:
        """One event: exactly once per event id."""
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(None, events.first_time, self.platform, event.event_id):
            logger.info("%s event %s already handled: a resend", self.platform, event.event_id)
            return
        sender = self.sender(event.user_id)
        if not throttle.allow("flood", sender):
            logger.warning("%s conversation %s is flooding: message dropped", self.platform, sender)
            return
        if self._turns is None:
            self._turns = asyncio.Semaphore(concurrent_turns())
        async with self._turns:  # the turn itself; sending the answer waits for the network only
            answer = await self._answer(request, on_new_message, event, sender)
        await self._send_all(event.user_id, answer)

    async def _answer(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        event: PlatformEvent,
        sender: str,
    ) -> list[dict[str, Any]]:
        """The assistant's answer to the event."""
        customer = await self._customer(event.user_id)
        if event.follow:
            text = "/greet"
        elif event.text is None:
            return [{"text": NOT_TEXT}]
        else:
            text = checks.clean_text(event.text)
        return await turn(
            request,
            on_new_message,
            self.platform,
            Caller(sender, {"customer": customer}),
            text,
            trusted=event.follow,
        )

    async def _customer(self, user_id: str) -> dict[str, str]:
        """`metadata.customer`: the platform id and, asked once per customer, the profile name."""
        loop = asyncio.get_running_loop()
        profile = await loop.run_in_executor(None, profiles.heard_from, self.platform, user_id)
        name = profile.display_name
        fetched = profile.platform_name_at
        stale = datetime.now(timezone.utc) - timedelta(days=PROFILE_NAME_DAYS)
        if fetched is None or as_utc(fetched) < stale:
            try:
                name = await self.profile_name(user_id) or name
            except Exception as error:  # noqa: BLE001 (without the name the customer is still answered)
                problem = type(error).__name__
                logger.warning("%s profile of a customer unavailable (%s)", self.platform, problem)
            else:
                remember = functools.partial(profiles.remember_platform_name, self.platform, user_id, name)
                await loop.run_in_executor(None, remember)
        return {"id": user_id, "name": name} if name else {"id": user_id}

    async def _send_all(self, user_id: str, messages: list[dict[str, Any]]) -> None:
        """The answer to what the customer just wrote, in order (a failure is logged by `send`)."""
        for message in messages:
            await self.send(user_id, message)

    async def last_message_at(self, user_id: str) -> datetime | None:
        """When the customer last wrote on the platform (None if never on record)."""
        loop = asyncio.get_running_loop()
        profile = await loop.run_in_executor(None, profiles.get, self.platform, user_id)
        return as_utc(profile.last_message_at) if profile and profile.last_message_at else None

    async def _push_forever(self) -> None:
        """Pushes queued messages as long as the server runs; a failing round is logged, not fatal."""
        while True:
            try:
                await self.push_waiting()
            except Exception:  # noqa: BLE001 (the next round tries again)
                logger.exception("Pushing queued %s messages failed", self.platform)
            await asyncio.sleep(push_interval())

    async def push_waiting(self) -> int:
        """One round: sends what waits in the outbox for this platform; returns how many went out."""
        loop = asyncio.get_running_loop()
        claimed = await loop.run_in_executor(None, outbox.claim, self.platform + "-")
        sent = 0
        stopped: set[str] = set()  # a conversation whose message failed: the rest of it waits
        for row in claimed:
            sender = row["sender_id"]
            if sender in stopped:
                await loop.run_in_executor(None, outbox.retry_later, row["id"], row["attempts"] or 0, 0)
                continue
            message = (await delivery.as_messages([row]))[0]
            result = await self.send(sender.removeprefix(self.platform + "-"), message, queued=row)
            if result.sent:
                await loop.run_in_executor(None, outbox.delivered, row["id"])
                sent += 1
                continue
            stopped.add(sender)
            attempts = (row["attempts"] or 0) + 1
            if result.outcome is Outcome.RETRY and attempts < MAX_PUSH_ATTEMPTS:
                delay = min(30 * 2 ** (attempts - 1), 1800)
                await loop.run_in_executor(None, outbox.retry_later, row["id"], attempts, delay)
            else:
                reason = result.reason or "Không gửi được sau nhiều lần thử"
                logger.error("Queued message %s to %s undeliverable: %s", row["id"], sender, reason)
                await loop.run_in_executor(None, outbox.undeliverable, row["id"], reason)
        return sent


def within(moment: datetime | None, hours: float) -> bool:
    """Whether `moment` is less than `hours` ago."""
    return moment is not None and datetime.now(timezone.utc) - moment < timedelta(hours=hours)
