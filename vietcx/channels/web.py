"""The REST channel and the web chat page, hardened against bad input.

Rasa's own `RestInput` answers malformed or oddly shaped JSON with a server error and accepts a
message without a sender. These subclasses check the request first and answer with a clear 400,
then hand over to Rasa's code unchanged. `WebChatChannel` also serves the chat page (`web/`) from
the Rasa server itself, so the page and its webhook share one origin and nothing comes from the
internet.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from vietcx.settings import PROJECT

WEB_ROOT = PROJECT / "web"
MAX_MESSAGE_CHARS = 10_000
MAX_SENDER_CHARS = 200
EMPTY_MESSAGE_PAYLOAD = "/nlu_fallback"


def request_problem(request: Request) -> str | None:
    """Why a webhook request cannot be handled, or None when it is well formed."""
    try:
        body = json.loads(request.body or b"")
    except ValueError:
        return 'The body must be JSON: {"sender": "...", "message": "..."}.'
    if not isinstance(body, dict):
        return "The body must be a JSON object with 'sender' and 'message'."
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        return f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters."
    if not isinstance(message, str):
        return "'message' must be a string."
    if len(message) > MAX_MESSAGE_CHARS:
        return f"'message' is longer than {MAX_MESSAGE_CHARS} characters."
    if metadata is not None and not isinstance(metadata, dict):
        return "'metadata' must be a JSON object when given."
    return None


class RestChannel(RestInput):
    """Rasa's REST channel (`/webhooks/rest/webhook`) with input checks."""

    @classmethod
    def name(cls) -> str:
        """Keeps Rasa's URL for the REST channel."""
        return "rest"

    def _extract_message(self, req: Request) -> str | None:
        """An empty message becomes the fallback intent, so the customer gets an answer.

        Rasa's NLU does not classify empty text at all and the dialogue then stays silent.
        """
        text = super()._extract_message(req)
        return text if text and text.strip() else EMPTY_MESSAGE_PAYLOAD

    def get_metadata(self, request: Request) -> dict[str, Any]:
        """The sender's metadata plus the channel name, which actions record with the customer."""
        return {**(super().get_metadata(request) or {}), "channel": self.name()}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's routes, behind a check of every webhook request."""
        blueprint = super().blueprint(on_new_message)

        @blueprint.on_request
        async def check(request: Request) -> HTTPResponse | None:
            if request.method == "POST" and request.path.endswith("/webhook"):
                problem = request_problem(request)
                if problem:
                    return response.json({"error": problem}, status=400)
            return None

        return blueprint


class WebChatChannel(RestChannel):
    """The chat page at `/webhooks/web/chat`, posting to `/webhooks/web/webhook`."""

    @classmethod
    def name(cls) -> str:
        """Messages from the page are recorded with channel `web`."""
        return "web"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Adds the page and its static files to the checked REST routes."""
        blueprint = super().blueprint(on_new_message)

        @blueprint.route("/chat", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            return await response.file(WEB_ROOT / "index.html", mime_type="text/html; charset=utf-8")

        blueprint.static("/static", str(WEB_ROOT / "static"), name="web_static")
        return blueprint
