"""The web chat page (`GET /webhooks/web/chat`) and its channel, served by the Rasa server itself so
the page and its webhook share one origin and nothing comes from the internet.

The page first asks `POST /webhooks/web/session` for its conversation: it sends the token it kept
from an earlier visit (`Authorization: Bearer …`) and, on a shop page where the customer is signed
in, the shop's identity token (`{"identity": "…"}`, see vietcx.channels.identity). It gets back a
conversation token, which it shows on every message and poll; the conversation id and the
customer's name come only from that token, never from the page's own words.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from vietcx.channels import checks, identity, throttle
from vietcx.channels.base import Caller, GuardedInput, bearer
from vietcx.settings import PROJECT

WEB_ROOT = PROJECT / "web"
MAX_IDENTITY_CHARS = 2048


class WebChatChannel(GuardedInput):
    """The chat page's channel: anyone may open a conversation, only its holder may continue it."""

    public = True

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
        """The page, its files and the session route, beside the guarded webhook and updates."""
        routes = super().blueprint(on_new_message)

        @routes.route("/chat", methods=["GET"])
        async def page(_request: Request) -> HTTPResponse:
            return await response.file(WEB_ROOT / "index.html", mime_type="text/html; charset=utf-8")

        @routes.route("/session", methods=["POST"])
        async def session(request: Request) -> HTTPResponse:
            try:
                self.count_address(request)
                body = checks.json_body(request.body) if request.body else {}
                conversation = self._conversation(request, body)
            except checks.BadRequest as problem:
                return response.json({"error": str(problem)}, status=problem.status)
            return response.json(
                {"token": identity.issue(conversation), "signed_in": bool(conversation.customer_id)}
            )

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


def _metadata(conversation: identity.Conversation) -> dict[str, Any]:
    """What the assistant may believe about the customer: only what the shop signed."""
    if not conversation.customer_id:
        return {}
    customer = {"id": conversation.customer_id}
    if conversation.name:
        customer["name"] = conversation.name
    return {"customer": customer}
