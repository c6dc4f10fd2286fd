"""The web chat page (`GET /webhooks/web/chat`), the widget that embeds it in a shop's own pages
(`GET /webhooks/web/widget.js`) and their channel, served by the Rasa server itself so the chat and
its webhook share one origin and nothing comes from the internet.

The page first asks `POST /webhooks/web/session` for its conversation: it sends the token it kept
from an earlier visit (`Authorization: Bearer …`) and, on a shop page where the customer is signed
in, the shop's identity token (`{"identity": "…"}`, see vietcx.channels.identity). It gets back a
conversation token, which it shows on every message, poll and stream; the conversation id and the
customer's name come only from that token, never from the page's own words.

Staff replies are pushed: `GET /webhooks/web/stream` is a server-sent-events stream of the
conversation's queued messages, read by the page with `fetch()` so that the token travels in a
header, never in a URL. The page still acknowledges what it showed with its cursor (`/updates`).

The shop's sites that may frame the page and call these routes from their own pages are listed in
`VIETCX_WEB_ORIGINS` (comma-separated origins; empty: only this server's own origin).
"""

from __future__ import annotations

import asyncio
import functools
import html
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import SessionStarted, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from vietcx.channels import checks, delivery, identity, throttle
from vietcx.channels.base import Caller, GuardedInput, bearer
from vietcx.settings import PROJECT

logger = logging.getLogger(__name__)
WEB_ROOT = PROJECT / "web"
MAX_IDENTITY_CHARS = 2048
ORIGINS_PLACEHOLDER = "__VIETCX_ORIGINS__"  # in index.html: the origins the framed page may talk to
# the routes a shop's page may call from its own origin (CORS); the page and its files need none
JSON_ROUTES = ("session", "webhook", "updates", "stream", "greeting")
_ORIGIN = re.compile(r"https?://(\[[0-9a-f:.]+\]|[a-z0-9-]+(\.[a-z0-9-]+)*)(:[0-9]{1,5})?")
GREET = "/greet"  # the intent of a customer's greeting, given by the server, never by the page
STREAM_SECONDS = 300  # a stream ends after this; the page reconnects (and proves its token again)
STREAM_CHECK_SECONDS = 1.0
STREAM_KEEPALIVE_SECONDS = 15.0  # a comment now and then, so proxies keep an idle stream open


class WebChatChannel(GuardedInput):
    """The chat page's channel: anyone may open a conversation, only its holder may continue it."""

    public = True

    def __init__(self) -> None:
        super().__init__()
        self._greeting: set[str] = set()  # conversations being greeted right now (two tabs at once)

    @classmethod
    def name(cls) -> str:
        return "web"

    async def caller(self, request: Request, body: dict[str, Any] | None) -> Caller:
        """The conversation the page's token proves (401 without a valid one)."""
        token = bearer(request)
        conversation = identity.verify(token) if token else None
        if conversation is None:
            raise checks.BadRequest("A conversation token from /webhooks/web/session is required.", 401)
        return Caller(conversation.sender, _metadata(conversation))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The page, the widget, their files, the session, greeting and stream routes, beside the
        guarded webhook and updates."""
        routes = super().blueprint(on_new_message)

        @routes.route("/chat", methods=["GET"])
        async def page(_request: Request) -> HTTPResponse:
            origins = html.escape(" ".join(allowed_origins()))
            return response.html(
                _page().replace(ORIGINS_PLACEHOLDER, origins),
                headers={"Content-Security-Policy": page_policy(), "Cache-Control": "no-cache"},
            )

        @routes.route("/widget.js", methods=["GET"])
        async def widget(_request: Request) -> HTTPResponse:
            # loaded by the shop's pages with a plain <script> tag: another origin must be able to use it
            headers = {"Cache-Control": "public, max-age=300", "Cross-Origin-Resource-Policy": "cross-origin"}
            return await response.file(
                WEB_ROOT / "static" / "widget.js", mime_type="text/javascript; charset=utf-8", headers=headers
            )

        @routes.route("/session", methods=["POST"])
        async def session(request: Request) -> HTTPResponse:
            try:
                self.count_address(request)
                body = checks.json_body(request.body) if request.body else {}
                conversation = self._conversation(request, body)
            except checks.BadRequest as problem:
                return _refusal(problem)
            return response.json(
                {
                    "token": identity.issue(conversation),
                    "conversation": conversation.sender,  # the page keeps its transcript per conversation
                    "signed_in": bool(conversation.customer_id),
                }
            )

        @routes.route("/greeting", methods=["POST"])
        async def greeting(request: Request) -> HTTPResponse:
            try:
                self.count_address(request)
                caller = await self.verified(request, None)
            except checks.BadRequest as problem:
                return _refusal(problem)
            if not throttle.allow("flood", caller.sender):
                return _refusal(checks.BadRequest("Too many messages in this conversation.", 429))
            return response.json(await self._greet(request, on_new_message, caller))

        @routes.route("/stream", methods=["GET"])
        async def stream(request: Request) -> HTTPResponse | None:
            try:
                self.count_address(request)
                caller = await self.verified(request, None)
                after = checks.cursor(request.args.get("after"))
            except checks.BadRequest as problem:
                return _refusal(problem)
            if not throttle.allow("updates", caller.sender):  # one stream counts as one poll
                return _refusal(checks.BadRequest("Too many polls for this conversation.", 429))
            await delivery.acknowledge(caller.sender, after)
            await _stream(request, caller.sender, after)
            return None

        async def preflight(_request: Request) -> HTTPResponse:
            return response.empty()

        for route in JSON_ROUTES:
            routes.add_route(preflight, f"/{route}", methods=["OPTIONS"], name=f"preflight_{route}")

        @routes.middleware("response")
        async def cross_origin(request: Request, answer: HTTPResponse) -> None:
            _allow_listed_origin(request, answer)

        routes.static("/static", str(WEB_ROOT / "static"), name="web_static")
        return routes

    def _conversation(self, request: Request, body: dict[str, Any]) -> identity.Conversation:
        """A signed-in customer's conversation when the shop vouches for them; else the visitor's
        own anonymous conversation if they hold its token; else a new anonymous one. A page
        without a valid identity never continues a signed-in customer's conversation (a shared
        computer after sign-out)."""
        given = body.get("identity")
        if isinstance(given, str) and given and len(given) <= MAX_IDENTITY_CHARS:
            signed_in = identity.verify_identity(given)
            if signed_in:
                return signed_in
        token = bearer(request)
        kept = identity.verify(token) if token else None
        if kept and not kept.customer_id:
            return kept
        if not throttle.allow("new_conversation", request.remote_addr or request.ip):
            raise checks.BadRequest("Too many new conversations from this address.", 429)
        return identity.anonymous()

    async def _greet(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]], caller: Caller
    ) -> list[dict[str, Any]]:
        """The assistant's greeting, as if the customer had said hello, for a conversation that has
        not begun (or whose session has expired: a returning customer is welcomed back). Nothing
        for a conversation under way, so a reload or a second tab never greets twice."""
        sender = caller.sender
        if sender in self._greeting or not await _greetable(request, sender):
            return []
        self._greeting.add(sender)
        collector = CollectingOutputChannel()
        metadata = {**caller.metadata, "channel": self.name()}
        try:
            await on_new_message(
                UserMessage(GREET, collector, sender, input_channel=self.name(), metadata=metadata)
            )
        except Exception:  # noqa: BLE001 (the page opens without a greeting rather than an error)
            logger.exception("The greeting of %s could not be made", sender)
            return []
        finally:
            self._greeting.discard(sender)
        return collector.messages


async def _greetable(request: Request, sender: str) -> bool:
    """No customer message in the conversation's current session, or that session has expired."""
    agent = request.app.ctx.agent
    tracker = await agent.tracker_store.retrieve(sender)
    if tracker is None or not tracker.events:
        return True
    expiry_minutes = agent.domain.session_config.session_expiration_time
    if expiry_minutes and time.time() - tracker.events[-1].timestamp > expiry_minutes * 60:
        return True
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, SessionStarted):
            return True
    return True


async def _stream(request: Request, sender: str, after: int) -> None:
    """Server-sent events: each queued message above `after` once, as it is queued (the database
    is checked every second), a comment every 15 s while nothing happens, the end after a few
    minutes. A client that goes away cancels this at its next wait."""
    loop = asyncio.get_running_loop()
    stream = await request.respond(
        content_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},  # nginx: do not buffer
    )
    await stream.send(": ok\n\n")
    deadline = loop.time() + STREAM_SECONDS
    last_sent = loop.time()
    while loop.time() < deadline:
        for message in await delivery.pending(sender, after):
            after = message["custom"]["outbox_id"]
            data = json.dumps(message, ensure_ascii=False)
            await stream.send(f"id: {after}\ndata: {data}\n\n")
            last_sent = loop.time()
        if loop.time() - last_sent >= STREAM_KEEPALIVE_SECONDS:
            await stream.send(": keep-alive\n\n")
            last_sent = loop.time()
        await asyncio.sleep(STREAM_CHECK_SECONDS)
    await stream.eof()


def allowed_origins() -> tuple[str, ...]:
    """The shop's sites that may frame the chat and call the web routes (VIETCX_WEB_ORIGINS)."""
    return _parse_origins(os.environ.get("VIETCX_WEB_ORIGINS") or "")


@functools.cache
def _parse_origins(setting: str) -> tuple[str, ...]:
    """Each `scheme://host[:port]` of the setting; anything else (a path, a wildcard, a stray
    character that would change the header it goes into) is left out and logged once."""
    found = []
    for item in setting.split(","):
        origin = item.strip().rstrip("/").lower()
        if not origin:
            continue
        if _ORIGIN.fullmatch(origin):
            found.append(origin)
        else:
            logger.warning("VIETCX_WEB_ORIGINS: %r is not an origin (scheme://host[:port]): ignored", item)
    return tuple(found)


def page_policy() -> str:
    """The chat page's Content-Security-Policy: its own files only, framed only by the listed sites."""
    ancestors = " ".join(["'self'", *allowed_origins()])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        f"frame-ancestors {ancestors}"
    )


def _allow_listed_origin(request: Request, answer: HTTPResponse) -> None:
    """CORS for the JSON routes: a listed origin may read the answers (and send the Authorization
    header); any other origin gets no CORS header, so its browser keeps the answer from it."""
    if request.path.rstrip("/").rsplit("/", 1)[-1] not in JSON_ROUTES:
        return
    answer.headers["Vary"] = "Origin"
    origin = request.headers.get("origin")
    if not origin or origin.lower() not in allowed_origins():
        return
    answer.headers["Access-Control-Allow-Origin"] = origin
    if request.method == "OPTIONS":
        answer.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        answer.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        answer.headers["Access-Control-Max-Age"] = "600"


@functools.cache
def _page() -> str:
    return (WEB_ROOT / "index.html").read_text(encoding="utf-8")


def _refusal(problem: checks.BadRequest) -> HTTPResponse:
    headers = {"Retry-After": "10"} if problem.status == 429 else None
    return response.json({"error": str(problem)}, status=problem.status, headers=headers)


def _metadata(conversation: identity.Conversation) -> dict[str, Any]:
    """What the assistant may believe about the customer: only what the shop signed."""
    if not conversation.customer_id:
        return {}
    customer = {"id": conversation.customer_id}
    if conversation.name:
        customer["name"] = conversation.name
    return {"customer": customer}
