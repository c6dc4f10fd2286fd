"""The trust boundary every input channel of the product goes through, in one place.

A channel says only who is calling (`caller`: it verifies the proof its clients give). Everything
else is common: the body is checked and bounded, the conversation and (for public routes) the
address are rate-limited, a `/…` text is an intent only if it is a button just offered, queued
messages are handed out until the client acknowledges them, and a failure inside Rasa becomes a
polite answer, never a stack trace.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from vietcx.channels import checks, delivery, payloads, throttle

logger = logging.getLogger(__name__)
EMPTY_MESSAGE_PAYLOAD = "/nlu_fallback"  # Rasa does not classify empty text and would stay silent
TOO_FAST = (
    "Dạ, {who} nhắn hơi nhanh nên em chưa kịp đọc hết ạ. {Who} vui lòng đợi vài giây rồi gửi lại "
    "tin nhắn vừa rồi giúp em nhé."
)
TROUBLE = (
    "Dạ, em xin lỗi, hệ thống đang gặp trục trặc nên chưa trả lời được tin nhắn này ạ. "
    "Anh/chị vui lòng gửi lại sau ít phút giúp em nhé."
)


@dataclass(frozen=True)
class Caller:
    """Who a request speaks for, as verified by the channel: the conversation and what the
    assistant may believe about the customer (`metadata.customer`)."""

    sender: str
    metadata: dict[str, Any] = field(default_factory=dict)


class GuardedInput(InputChannel):
    """A JSON webhook (`POST …/webhook`) and a poll for queued messages (`GET …/updates`)."""

    public = False  # anyone on the internet may call it: requests are also counted per address

    async def caller(self, request: Request, body: dict[str, Any] | None) -> Caller:
        """The verified caller, or `checks.BadRequest` with status 401/403 (`body` is None on GET)."""
        raise NotImplementedError

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The webhook and the updates route; subclasses add their own."""
        routes = Blueprint(f"vietcx_{self.name()}", __name__)

        @routes.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @routes.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                self.count_address(request)
                body = checks.json_body(request.body)
                caller = await self.verified(request, body)
                text = checks.message_text(body)
                ack = checks.cursor(body.get("ack"))
            except checks.BadRequest as problem:
                return _refused(problem)
            if not throttle.allow("flood", caller.sender):
                return _refused(checks.BadRequest("Too many messages in this conversation.", 429))
            await delivery.acknowledge(caller.sender, ack)
            answer = await turn(request, on_new_message, self.name(), caller, text)
            return response.json(await delivery.pending(caller.sender, ack) + answer)

        @routes.route("/updates", methods=["GET"])
        async def updates(request: Request) -> HTTPResponse:
            try:
                self.count_address(request)
                caller = await self.verified(request, None)
                after = checks.cursor(request.args.get("after"))
            except checks.BadRequest as problem:
                return _refused(problem)
            if not throttle.allow("updates", caller.sender):
                return _refused(checks.BadRequest("Too many polls for this conversation.", 429))
            await delivery.acknowledge(caller.sender, after)
            return response.json(await delivery.pending(caller.sender, after))

        return routes

    def count_address(self, request: Request, always: bool = False) -> None:
        """Public routes (and anyone failing to prove who they are): one more request from this
        address, or 429 for a flood."""
        if (self.public or always) and not throttle.allow("address", request.remote_addr or request.ip):
            raise checks.BadRequest("Too many requests from this address.", 429)

    async def verified(self, request: Request, body: dict[str, Any] | None) -> Caller:
        """The caller; a failed proof counts against the address even on a private route, so
        guessing tokens is slowed down."""
        try:
            return await self.caller(request, body)
        except checks.BadRequest as problem:
            if problem.status == 401 and not self.public:
                self.count_address(request, always=True)
            raise


async def turn(
    request: Request,
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    channel: str,
    caller: Caller,
    text: str,
    trusted: bool = False,
) -> list[dict[str, Any]]:
    """One customer message through Rasa; returns the assistant's answer. A customer typing faster
    than the conversation's limit is asked, politely, to slow down, and the message is not read.
    `trusted`: the text is the connector's own intent (a platform's "follow" event), not the customer's."""
    agent = request.app.ctx.agent
    if not throttle.allow("conversation", caller.sender):
        tracker = await agent.tracker_store.retrieve(caller.sender)
        who = (tracker.get_slot("customer_honorific") if tracker else None) or "anh/chị"
        return [
            {"recipient_id": caller.sender, "text": TOO_FAST.format(who=who, Who=who[:1].upper() + who[1:])}
        ]
    if _blank(text):
        text = EMPTY_MESSAGE_PAYLOAD
    elif not trusted and (text.strip().startswith(payloads.PREFIX) or len(text) <= payloads.MAX_TITLE):
        tracker = await agent.tracker_store.retrieve(caller.sender)
        text = payloads.customer_text(text, payloads.offered_buttons(tracker.events if tracker else []))
    collector = CollectingOutputChannel()
    metadata = {**caller.metadata, "channel": channel}
    try:
        await on_new_message(
            UserMessage(text, collector, caller.sender, input_channel=channel, metadata=metadata)
        )
    except Exception:  # noqa: BLE001 (whatever broke, the customer gets an answer)
        logger.exception("A message of %s could not be handled", caller.sender)
        return [{"recipient_id": caller.sender, "text": TROUBLE}]
    return collector.messages


def _refused(problem: checks.BadRequest) -> HTTPResponse:
    headers = {"Retry-After": "10"} if problem.status == 429 else None
    return response.json({"error": str(problem)}, status=problem.status, headers=headers)


def _blank(text: str) -> bool:
    """Nothing the NLU can read: no letter, digit or symbol (emoji), only spaces, punctuation or
    invisible formatting. The NLU finds no word in such a text and could not classify it."""
    return not any(ch.isalnum() or unicodedata.category(ch).startswith("S") for ch in text)


def bearer(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
