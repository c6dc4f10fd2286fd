"""Facebook Messenger: the page's webhook (`/webhooks/messenger/webhook`) and the Send API.

Built for Meta's rules rather than on Rasa's `facebook` channel:
- every POST is verified before it is read (`X-Hub-Signature-256`, constant time); a forged or
  unsigned one gets 401 and nothing is stored or processed; the GET subscription handshake answers
  the challenge only for the configured verify token;
- the webhook is acknowledged at once (Meta resends after ~20 s without a 200) and each customer
  message is handled afterwards, in the background;
- every entry and every messaging event of a batch is handled, each exactly once (`mid`s are
  remembered in the product database, so a resend, a restart or a second Rasa server never answers
  twice); echoes of the page's own messages, delivery and read receipts are ignored;
- a message without text (sticker, image, file, location, voice) gets a polite answer; a tapped
  quick reply arrives as its payload;
- answers go out through the Graph API's Send API with aiohttp (never blocking the event loop):
  text split at Messenger's 2 000 characters, buttons as quick replies (up to 13, titles cut to
  20 characters), retried with back-off on network errors and 5xx.

Settings (environment): VIETCX_MESSENGER_APP_SECRET, VIETCX_MESSENGER_VERIFY_TOKEN,
VIETCX_MESSENGER_PAGE_TOKEN, and VIETCX_GRAPH_URL (default https://graph.facebook.com/v19.0; the
tests point it at a local fake). Without the app secret the channel refuses every POST.

Not yet: the customer's profile name, staff replies pushed from the outbox, the 24-hour window.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from vietcx.channels import checks, delivery, signatures, throttle
from vietcx.channels.base import Caller, turn
from vietcx.store import events

logger = logging.getLogger(__name__)
PLATFORM = "messenger"
MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
NOT_TEXT = (
    "Dạ, hiện em chỉ đọc được tin nhắn chữ ạ. Anh/chị nhắn giúp em nội dung cần hỗ trợ bằng chữ nhé, "
    'hoặc nhắn "gặp nhân viên" để được nhân viên hỗ trợ ạ.'
)
SEND_ATTEMPTS = 4


def graph_url() -> str:
    return (os.environ.get("VIETCX_GRAPH_URL") or "https://graph.facebook.com/v19.0").rstrip("/")


class MessengerChannel(InputChannel):
    """A Facebook page's Messenger conversations."""

    @classmethod
    def name(cls) -> str:
        return PLATFORM

    def __init__(self) -> None:
        self._secret = os.environ.get("VIETCX_MESSENGER_APP_SECRET") or ""
        self._verify_token = os.environ.get("VIETCX_MESSENGER_VERIFY_TOKEN") or ""
        self._page_token = os.environ.get("VIETCX_MESSENGER_PAGE_TOKEN") or ""
        if not self._secret:
            logger.info("Messenger is not configured (VIETCX_MESSENGER_APP_SECRET): its webhook refuses all")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        routes = Blueprint("vietcx_messenger", __name__)

        @routes.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @routes.route("/webhook", methods=["GET"])
        async def subscribe(request: Request) -> HTTPResponse:
            challenge = (
                signatures.messenger_challenge(request.args, self._verify_token)
                if self._verify_token
                else None
            )
            if challenge is None:
                logger.warning("Messenger subscription refused: wrong or missing verify token")
                return response.text("forbidden", status=403)
            return response.text(challenge)

        @routes.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            raw = request.body or b""
            if len(raw) > checks.MAX_BODY_BYTES * 4:
                return response.json({"error": "too large"}, status=413)
            verdict = (
                signatures.verify_messenger(
                    raw, request.headers.get(signatures.MESSENGER_HEADER), self._secret
                )
                if self._secret
                else signatures.Verdict.NO_SIGNATURE
            )
            if verdict is not signatures.Verdict.OK:
                logger.warning(
                    "Messenger webhook refused from %s: %s", request.remote_addr or request.ip, verdict.value
                )
                return response.json({"error": verdict.value}, status=verdict.status)
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError):
                return response.json({"error": "The body must be JSON."}, status=400)
            for event in _messaging_events(body):
                request.app.add_task(self._handle(request, on_new_message, event))
            return response.text("EVENT_RECEIVED")

        return routes

    async def _handle(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]], event: dict[str, Any]
    ) -> None:
        """One messaging event, after the webhook was acknowledged: exactly once per `mid`."""
        psid, message = str(event["sender"]["id"]), event["message"]
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(None, events.first_time, PLATFORM, str(message["mid"])):
            logger.info("Messenger event %s already handled: a resend", message["mid"])
            return
        if not throttle.allow("flood", psid):
            logger.warning("Messenger conversation %s is flooding: message dropped", psid)
            return
        text = _text_of(message)
        if text is None:
            answer = [{"recipient_id": psid, "text": NOT_TEXT}]
        else:
            answer = await turn(request, on_new_message, PLATFORM, Caller(psid), checks.clean_text(text))
        waiting = await delivery.pending(psid)  # staff replies queued since the customer last wrote
        if await self.send_all(psid, waiting) and waiting:
            await delivery.acknowledge(psid, max(m["custom"]["outbox_id"] for m in waiting))
        await self.send_all(psid, answer)

    async def send_all(self, psid: str, messages: list[dict[str, Any]]) -> bool:
        """The messages to the customer, in order, in Messenger's form; True if all were sent."""
        sent = True
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
            for message in messages:
                for body in _send_bodies(psid, message):
                    sent = await self._send(session, body) and sent
        return sent

    async def _send(self, session: aiohttp.ClientSession, body: dict[str, Any]) -> bool:
        """One Send API call, retried with back-off on network errors and 5xx; False if not sent."""
        url = f"{graph_url()}/me/messages"
        for attempt in range(SEND_ATTEMPTS):
            try:
                async with session.post(url, params={"access_token": self._page_token}, json=body) as answer:
                    if answer.status < 500:
                        if answer.status >= 400:
                            logger.error(
                                "Messenger refused a message (%s): %s", answer.status, await answer.text()
                            )
                        return answer.status < 400
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                logger.warning(
                    "Messenger Send API unreachable (%s), attempt %d", type(error).__name__, attempt + 1
                )
            await asyncio.sleep(0.5 * 2**attempt)
        logger.error(
            "A message to %s could not be sent after %d attempts", body["recipient"]["id"], SEND_ATTEMPTS
        )
        return False


def _messaging_events(body: Any) -> list[dict[str, Any]]:
    """The customer messages of a (batched) webhook: every entry, every event; not the page's own
    echoes, delivery or read receipts, nor anything of an unexpected shape."""
    found = []
    entries = body.get("entry") if isinstance(body, dict) and body.get("object") == "page" else None
    for entry in entries if isinstance(entries, list) else []:
        for event in (entry.get("messaging") if isinstance(entry, dict) else None) or []:
            if not isinstance(event, dict) or not isinstance(event.get("sender"), dict):
                continue
            message = event.get("message") or event.get("postback")
            if not isinstance(message, dict) or message.get("is_echo") or not message.get("mid"):
                continue
            if "postback" in event:  # a persistent-menu or template button: its payload is the message
                message = {"mid": message["mid"], "quick_reply": {"payload": message.get("payload")}}
            found.append({"sender": event["sender"], "message": message})
    return found


def _text_of(message: dict[str, Any]) -> str | None:
    """What the customer said: a tapped quick reply's payload, else the text; None without text."""
    reply = message.get("quick_reply")
    if isinstance(reply, dict) and isinstance(reply.get("payload"), str):
        return reply["payload"]
    text = message.get("text")
    return text if isinstance(text, str) and text.strip() else None


def _send_bodies(psid: str, message: dict[str, Any]) -> list[dict[str, Any]]:
    """Send API bodies for one message of the assistant: its text in pieces of at most 2 000
    characters, the buttons as quick replies on the last piece."""
    text = message.get("text") or ""
    pieces = [text[i : i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)] or [""]
    buttons = [b for b in message.get("buttons") or [] if b.get("payload")][:MAX_QUICK_REPLIES]
    bodies = []
    for number, piece in enumerate(pieces):
        content: dict[str, Any] = {"text": piece or "…"}
        if buttons and number == len(pieces) - 1:
            content["quick_replies"] = [
                {
                    "content_type": "text",
                    "title": str(b.get("title") or "")[:MAX_QUICK_REPLY_TITLE],
                    "payload": b["payload"],
                }
                for b in buttons
            ]
        bodies.append({"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": content})
    return bodies if text or buttons else []
