"""Facebook Messenger: the page's webhook (`/webhooks/messenger/webhook`), the Send API and the
user profile, on the common platform connector (vietcx/channels/platform.py).

Built for Meta's rules rather than on Rasa's `facebook` channel:
- every POST is verified before it is read (`X-Hub-Signature-256`, constant time); the GET
  subscription handshake answers the challenge only for the configured verify token;
- every entry and every messaging event of a batch is handled, each once (`mid`); echoes of the
  page's own messages, delivery and read receipts are ignored; a tapped quick reply or postback
  arrives as its payload;
- the customer's name comes from the user profile (`first_name`, `last_name`), asked once;
- answers go out through the Send API: text split at 2 000 characters, buttons as quick replies
  (up to 13, titles cut to 20 characters), retried with back-off on network errors and 5xx;
- Meta's reply windows: within 24 hours of the customer's last message anything may be sent; after
  that, up to 7 days, only a staff member's reply, tagged `HUMAN_AGENT`; later, or when Meta says
  the window is closed, the queued message is marked undeliverable for staff to see.

Settings (environment): VIETCX_MESSENGER_APP_SECRET, VIETCX_MESSENGER_VERIFY_TOKEN,
VIETCX_MESSENGER_PAGE_TOKEN, and VIETCX_GRAPH_URL (default https://graph.facebook.com/v19.0; the
tests point it at a local fake). Without the app secret the channel refuses every POST.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import aiohttp
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from vietcx.channels import signatures
from vietcx.channels.platform import SENT, Delivery, Outcome, PlatformChannel, PlatformEvent, within

logger = logging.getLogger(__name__)
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
SEND_ATTEMPTS = 4
STANDARD_WINDOW_HOURS = 24
HUMAN_AGENT_WINDOW_HOURS = 7 * 24
# Meta's answers for a message outside the allowed window, or to a person who cannot receive it
OUTSIDE_WINDOW_SUBCODES = {2018278, 2018108, 1545041, 2018001}
OUTSIDE_WINDOW = "Quá 24 giờ kể từ tin nhắn cuối của khách: Messenger không cho trợ lý ảo gửi tin này"
OUTSIDE_HUMAN_WINDOW = "Quá 7 ngày kể từ tin nhắn cuối của khách: Messenger không cho gửi tin này"


def graph_url() -> str:
    return (os.environ.get("VIETCX_GRAPH_URL") or "https://graph.facebook.com/v19.0").rstrip("/")


class MessengerChannel(PlatformChannel):
    """A Facebook page's Messenger conversations."""

    platform = "messenger"
    text_limit = 2000

    def __init__(self) -> None:
        super().__init__()
        self._secret = os.environ.get("VIETCX_MESSENGER_APP_SECRET") or ""
        self._verify_token = os.environ.get("VIETCX_MESSENGER_VERIFY_TOKEN") or ""
        self._page_token = os.environ.get("VIETCX_MESSENGER_PAGE_TOKEN") or ""
        if not self._secret:
            logger.info("Messenger is not configured (VIETCX_MESSENGER_APP_SECRET): its webhook refuses all")

    @property
    def configured(self) -> bool:
        return bool(self._secret)

    def verify(self, request: Request) -> signatures.Verdict:
        return signatures.verify_messenger(
            request.body or b"", request.headers.get(signatures.MESSENGER_HEADER), self._secret
        )

    def add_routes(self, routes: Blueprint) -> None:
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

    def events(self, body: Any) -> list[PlatformEvent]:
        return [
            PlatformEvent(str(e["sender"]["id"]), str(e["message"]["mid"]), _text_of(e["message"]))
            for e in _messaging_events(body)
        ]

    async def profile_name(self, user_id: str) -> str | None:
        """The user profile's `first_name` and `last_name` (Meta gives them to a page the person
        wrote to), family name first as Vietnamese write it; the name reader takes either order."""
        params = {"fields": "first_name,last_name", "access_token": self._page_token}
        async with self.http.get(f"{graph_url()}/{user_id}", params=params) as answer:
            if answer.status != 200:
                logger.warning("Messenger profile refused (%s)", answer.status)
                return None
            profile = await answer.json()
        parts = [str(profile.get(k) or "").strip() for k in ("last_name", "first_name")]
        return " ".join(p for p in parts if p) or None

    async def send(self, user_id: str, message: dict[str, Any], queued: dict | None = None) -> Delivery:
        tag = None
        if queued is not None:  # not an answer to what the customer just wrote: is the window open?
            last = await self.last_message_at(user_id)
            if not within(last, STANDARD_WINDOW_HOURS):
                if queued["author"] != "staff":
                    return Delivery(Outcome.UNDELIVERABLE, OUTSIDE_WINDOW)
                if not within(last, HUMAN_AGENT_WINDOW_HOURS):
                    return Delivery(Outcome.UNDELIVERABLE, OUTSIDE_HUMAN_WINDOW)
                tag = "HUMAN_AGENT"
        for body in _send_bodies(user_id, message, self.text_limit, tag):
            result = await self._send(body)
            if not result.sent:
                return result
        return SENT

    async def _send(self, body: dict[str, Any]) -> Delivery:
        """One Send API call, retried with back-off on network errors and 5xx."""
        url = f"{graph_url()}/me/messages"
        for attempt in range(SEND_ATTEMPTS):
            try:
                async with self.http.post(
                    url, params={"access_token": self._page_token}, json=body
                ) as answer:
                    if answer.status < 400:
                        return SENT
                    if answer.status < 500:
                        return _refusal(answer.status, await answer.text())
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                logger.warning(
                    "Messenger Send API unreachable (%s), attempt %d", type(error).__name__, attempt + 1
                )
            if attempt + 1 < SEND_ATTEMPTS:
                await asyncio.sleep(0.5 * 2**attempt)
        logger.error("A Messenger message could not be sent after %d attempts", SEND_ATTEMPTS)
        return Delivery(Outcome.RETRY)


def _refusal(status: int, text: str) -> Delivery:
    """What a 4xx of the Send API means: a closed window or unreachable person is final; a rate
    limit is worth another try later."""
    try:
        error = json.loads(text).get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    logger.error("Messenger refused a message (%s): %s", status, error.get("message") or text[:200])
    if error.get("code") in (4, 32, 613):  # rate limits
        return Delivery(Outcome.RETRY)
    if error.get("error_subcode") in OUTSIDE_WINDOW_SUBCODES or error.get("code") == 10:
        return Delivery(Outcome.UNDELIVERABLE, OUTSIDE_WINDOW)
    said = str(error.get("message") or status)[:120]
    return Delivery(Outcome.UNDELIVERABLE, f"Messenger từ chối tin nhắn: {said}")


def _messaging_events(body: Any) -> list[dict[str, Any]]:
    """The customer messages of a (batched) webhook: every entry, every event; not the page's own
    echoes, delivery or read receipts, nor anything of an unexpected shape."""
    found = []
    entries = body.get("entry") if isinstance(body, dict) and body.get("object") == "page" else None
    for entry in entries if isinstance(entries, list) else []:
        for event in (entry.get("messaging") if isinstance(entry, dict) else None) or []:
            if not isinstance(event, dict) or not isinstance(event.get("sender"), dict):
                continue
            if not str(event["sender"].get("id") or "").isdigit():
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


def _send_bodies(psid: str, message: dict[str, Any], limit: int, tag: str | None) -> list[dict[str, Any]]:
    """Send API bodies for one message of the assistant: its text in pieces of at most `limit`
    characters, the buttons as quick replies on the last piece; tagged when outside 24 hours."""
    text = message.get("text") or ""
    pieces = [text[i : i + limit] for i in range(0, len(text), limit)] or [""]
    buttons = [b for b in message.get("buttons") or [] if b.get("payload")][:MAX_QUICK_REPLIES]
    kind = {"messaging_type": "MESSAGE_TAG", "tag": tag} if tag else {"messaging_type": "RESPONSE"}
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
        bodies.append({"recipient": {"id": psid}, **kind, "message": content})
    return bodies if text or buttons else []
