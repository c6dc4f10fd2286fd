"""Zalo Official Account: the OA's webhook (`/webhooks/zalo/webhook`), its consultation messages
and the follower profile, on the common platform connector (vietcx/channels/platform.py).

- Every event is verified before it is read: `X-ZEvent-Signature: mac=<sha256(app_id + body +
  timestamp + OA secret key)>` (vietcx/channels/signatures.py), the body's `app_id` must be the
  shop's app, and an event older than the resend window is refused.
- Events (webhook event names of the OA API v3): `user_send_text` is read; a tapped button comes back
  as such a text. `user_send_image`, `_sticker`, `_gif`, `_audio`, `_video`, `_file`, `_location`,
  `_link`, `_business_card` get a polite "text only" answer; `follow` gets the welcome; the OA's own
  messages (`oa_send_*`), receipts (`user_received_message`, `user_seen_message`) and anything
  else are ignored. Each event once (`message.msg_id`; a follow by follower and time).
- The customer's name is the follower's `display_name` from `GET /v3.0/oa/user/detail`, asked once.
- Answers are consultation messages (`POST /v3.0/oa/message/cs`): text split at 2 000 characters;
  buttons as a button template of `oa.query.show` buttons whose payload is the button's title, so
  the tap shows in the chat as the customer's own words and comes back as text the assistant reads
  as that button (vietcx/channels/payloads.py). Zalo shows at most 5 buttons under a message: more
  (the CES question has 7 and "Bỏ qua") are spread evenly over follow-up messages, every answer
  still one tap.
- Zalo allows consultation messages only within 7 days of the customer's last message (-230
  otherwise): a queued message outside it is marked undeliverable for staff, never dropped silently.
- The access token is kept fresh (vietcx/channels/zalo_tokens.py); an "invalid access token"
  (-216) refreshes it once and the call is made again.

Settings (environment): VIETCX_ZALO_APP_ID, VIETCX_ZALO_APP_SECRET (refreshing the token),
VIETCX_ZALO_OA_SECRET (the OA secret key: webhook signatures), VIETCX_ZALO_ACCESS_TOKEN and
VIETCX_ZALO_REFRESH_TOKEN (the first pair only), VIETCX_ZALO_API_URL (default
https://openapi.zalo.me) and VIETCX_ZALO_OAUTH_URL (default https://oauth.zaloapp.com).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
from typing import Any

import aiohttp
from sanic.request import Request

from vietcx.channels import signatures
from vietcx.channels.platform import SENT, Delivery, Outcome, PlatformChannel, PlatformEvent, within
from vietcx.channels.zalo_tokens import TokenKeeper

logger = logging.getLogger(__name__)
MAX_BUTTONS = 5
MAX_TITLE = 100
MORE_BUTTONS = "Dạ, anh/chị cũng có thể chọn:"
WINDOW_HOURS = 7 * 24
SEND_ATTEMPTS = 4
INVALID_TOKEN = {-216, -124}
OUTSIDE_WINDOW_ERROR = -230
RATE_LIMITED = {-32}
OUTSIDE_WINDOW = "Quá 7 ngày kể từ tin nhắn cuối của khách: Zalo không cho gửi tin tư vấn này"
NOT_TEXT_EVENTS = {
    f"user_send_{kind}"
    for kind in ("image", "sticker", "gif", "audio", "video", "file", "location", "link", "business_card")
}


def api_url() -> str:
    return (os.environ.get("VIETCX_ZALO_API_URL") or "https://openapi.zalo.me").rstrip("/")


class ZaloError(Exception):
    """Zalo answered with an error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code


class ZaloChannel(PlatformChannel):
    """A Zalo Official Account's conversations."""

    platform = "zalo"
    text_limit = 2000

    def __init__(self) -> None:
        super().__init__()
        self._app_id = os.environ.get("VIETCX_ZALO_APP_ID") or ""
        self._oa_secret = os.environ.get("VIETCX_ZALO_OA_SECRET") or ""
        self.tokens = TokenKeeper(
            self._app_id, os.environ.get("VIETCX_ZALO_APP_SECRET") or "", lambda: self.http
        )
        if not self.configured:
            logger.info(
                "Zalo is not configured (VIETCX_ZALO_APP_ID, VIETCX_ZALO_OA_SECRET): its webhook refuses all"
            )

    @property
    def configured(self) -> bool:
        return bool(self._app_id and self._oa_secret)

    def verify(self, request: Request) -> signatures.Verdict:
        raw = request.body or b""
        verdict = signatures.verify_zalo(raw, request.headers.get(signatures.ZALO_HEADER), self._oa_secret)
        if verdict is signatures.Verdict.OK and str(json.loads(raw).get("app_id")) != self._app_id:
            return signatures.Verdict.WRONG_APP
        return verdict

    def events(self, body: Any) -> list[PlatformEvent]:
        """The one event of a Zalo webhook, if it is a customer's."""
        if not isinstance(body, dict):
            return []
        name = body.get("event_name")
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        if name == "follow":
            follower = body.get("follower") if isinstance(body.get("follower"), dict) else {}
            user = str(follower.get("id") or "")
            event_id = f"follow-{user}-{body.get('timestamp')}"
            return [PlatformEvent(user, event_id, None, follow=True)] if _id(user) else []
        if name != "user_send_text" and name not in NOT_TEXT_EVENTS:
            return []
        sender = body.get("sender") if isinstance(body.get("sender"), dict) else {}
        user, msg_id = str(sender.get("id") or ""), str(message.get("msg_id") or "")
        if not _id(user) or not msg_id:
            return []
        text = message.get("text") if name == "user_send_text" else None
        text = text if isinstance(text, str) and text.strip() else None
        return [PlatformEvent(user, msg_id, text)]

    async def profile_name(self, user_id: str) -> str | None:
        """The follower's `display_name` (what the customer calls themselves on Zalo)."""
        query = {"data": json.dumps({"user_id": user_id})}
        try:
            found = await self._call("GET", "/v3.0/oa/user/detail", params=query)
        except ZaloError as error:  # -213: not a follower (Zalo shows profiles of followers only)
            logger.info("Zalo profile unavailable (%s)", error.code)
            return None
        name = (found.get("data") or {}).get("display_name")
        return str(name).strip() or None if name else None

    async def send(self, user_id: str, message: dict[str, Any], queued: dict | None = None) -> Delivery:
        if queued is not None and not within(await self.last_message_at(user_id), WINDOW_HOURS):
            return Delivery(Outcome.UNDELIVERABLE, OUTSIDE_WINDOW)
        for body in _send_bodies(user_id, message, self.text_limit):
            result = await self._send(body)
            if not result.sent:
                return result
        return SENT

    async def _send(self, body: dict[str, Any]) -> Delivery:
        """One consultation message, retried with back-off on network errors, 5xx and rate limits."""
        for attempt in range(SEND_ATTEMPTS):
            try:
                await self._call("POST", "/v3.0/oa/message/cs", json=body)
                return SENT
            except ZaloError as error:
                if error.code == OUTSIDE_WINDOW_ERROR:
                    return Delivery(Outcome.UNDELIVERABLE, OUTSIDE_WINDOW)
                if error.code in INVALID_TOKEN:  # no token works now: later, once an admin fixes it
                    logger.error("Zalo message not sent: no valid access token")
                    return Delivery(Outcome.RETRY)
                if error.code not in RATE_LIMITED and error.code > -500:
                    logger.error("Zalo refused a message: %s", error)
                    return Delivery(Outcome.UNDELIVERABLE, f"Zalo từ chối tin nhắn (mã {error.code})")
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                logger.warning("Zalo API unreachable (%s), attempt %d", type(error).__name__, attempt + 1)
            if attempt + 1 < SEND_ATTEMPTS:
                await asyncio.sleep(0.5 * 2**attempt)
        logger.error("A Zalo message could not be sent after %d attempts", SEND_ATTEMPTS)
        return Delivery(Outcome.RETRY)

    async def _call(self, method: str, path: str, **request: Any) -> dict[str, Any]:
        """One OA API call with the current access token; an invalid token is refreshed once and
        the call made again. Raises ZaloError for Zalo's error codes (5xx as -500 - status)."""
        token = await self.tokens.current()
        for retry in (True, False):
            if token is None:
                raise ZaloError(-216, "no valid access token")
            async with self.http.request(
                method, api_url() + path, headers={"access_token": token}, **request
            ) as answer:
                if answer.status >= 500:
                    raise ZaloError(-500 - answer.status, "server error")
                found = await answer.json(content_type=None)
            code = int(found.get("error") or 0) if isinstance(found, dict) else -1
            if code == 0:
                return found
            if code in INVALID_TOKEN and retry:
                logger.warning("Zalo says the access token is invalid (%s): refreshing it", code)
                token = await self.tokens.refresh(token)
                continue
            raise ZaloError(code, str(found.get("message") if isinstance(found, dict) else found))
        raise ZaloError(-216, "access token still invalid after a refresh")


def _id(value: str) -> bool:
    return value.isdigit() and len(value) <= 32


def _send_bodies(user_id: str, message: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Consultation message bodies for one message of the assistant: its text in pieces of at most
    `limit` characters; its buttons under the last piece, at most 5 a message, spread evenly over
    follow-up messages when there are more."""
    text = message.get("text") or ""
    pieces = [text[i : i + limit] for i in range(0, len(text), limit)]
    buttons = [
        {
            "title": str(b.get("title") or "")[:MAX_TITLE],
            "type": "oa.query.show",
            "payload": str(b["title"])[:MAX_TITLE],
        }
        for b in message.get("buttons") or []
        if b.get("payload") and b.get("title")
    ]
    bodies = [{"recipient": {"user_id": user_id}, "message": {"text": piece}} for piece in pieces]
    if buttons:
        groups = math.ceil(len(buttons) / MAX_BUTTONS)
        size = math.ceil(len(buttons) / groups)
        for start in range(0, len(buttons), size):
            if not bodies or "attachment" in bodies[-1]["message"]:
                bodies.append({"recipient": {"user_id": user_id}, "message": {"text": MORE_BUTTONS}})
            bodies[-1]["message"]["attachment"] = {
                "type": "template",
                "payload": {"buttons": buttons[start : start + size]},
            }
    return bodies
