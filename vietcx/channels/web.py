"""The REST channel and the web chat page, hardened against bad input.

Rasa's own `RestInput` answers malformed or oddly shaped JSON with a server error and accepts a
message without a sender. These subclasses check the request first and answer with a clear 400,
then hand over to Rasa's code unchanged. `WebChatChannel` also serves the chat page (`web/`) from
the Rasa server itself, so the page and its webhook share one origin and nothing comes from the
internet.

Messages that do not answer the customer's own turn (a staff member's reply, the bot's survey after
staff hand back) wait in the product database's outbox; both channels add them to the answer of
the customer's next message, and `GET …/updates?sender=ID` hands them out to a polling client
(the chat page polls every few seconds).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from vietcx.settings import PROJECT
from vietcx.store import escalations, staff

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

        @blueprint.on_response
        async def deliver(request: Request, answer: HTTPResponse) -> HTTPResponse | None:
            """Queued messages first, then the answer to this message."""
            if request.method != "POST" or not request.path.endswith("/webhook") or answer.status != 200:
                return None
            sender = json.loads(request.body)["sender"]
            waiting = await _collect(sender)
            if not waiting:
                return None
            return response.json(waiting + json.loads(answer.body or b"[]"))

        @blueprint.route("/updates", methods=["GET"])
        async def updates(request: Request) -> HTTPResponse:
            sender = request.args.get("sender", "")
            if not sender.strip() or len(sender) > MAX_SENDER_CHARS:
                return response.json({"error": "'sender' is required."}, status=400)
            return response.json(await _collect(sender))

        return blueprint


async def _collect(sender: str) -> list[dict[str, Any]]:
    """The sender's queued messages in the REST channel's format; staff messages say who wrote them."""
    queued = await asyncio.get_running_loop().run_in_executor(None, escalations.collect, sender)
    names: dict[str, str] = {}
    delivered = []
    for message in queued:
        item: dict[str, Any] = {"recipient_id": sender}
        if message["text"]:
            item["text"] = message["text"]
        if message["buttons"]:
            item["buttons"] = message["buttons"]
        if message["author"] == "staff":
            username = message["staff"] or ""
            if username not in names:
                account = staff.get(username)
                names[username] = account["display_name"] if account else username
            item["custom"] = {"staff": True, "staff_name": _given_name(names[username])}
        delivered.append(item)
    return delivered


def _given_name(display_name: str) -> str:
    """ "Nguyễn Thị Lan" → "Lan": customers are told which staff member answers, the Vietnamese way."""
    return display_name.split()[-1] if display_name.split() else display_name


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
