"""Did this webhook really come from Zalo or from Facebook? One function per platform formula.

Used by the Messenger and Zalo connectors (vietcx/channels/messenger.py, zalo.py). The
functions take the raw body and the header's value, never a parsed and re-serialised body (the
platforms sign the bytes they send), and answer with a `Verdict`: the connector answers with its
`status` and logs its text, which never holds a secret, a digest or the body.

**Zalo Official Account.** `X-ZEvent-Signature: mac=<hex>`, hex being the plain SHA-256 (not an HMAC)
of `app_id + raw body + timestamp + OA secret key`, where `app_id` and `timestamp` (milliseconds)
are fields of the JSON body and the key is the OA's secret key, not the app secret. Zalo's own
pages (developers.zalo.me/docs/official-account/webhook/…, rendered in the browser) were not found
to read; the formula is the one every implementation found agrees on:
- hainh.me/zalo-api-php-webhook-callback-official-account.html (app id, body, the body's timestamp,
  OA secret key, in that order, SHA-256; "the OA secret key, not the App Secret Key");
- chatwoot/chatwoot app/jobs/webhooks/zalo_events_job.rb (`Digest::SHA256.hexdigest(
  "#{app_id}#{post_body}#{timestamp}#{oa_secret_key}")` compared with `"mac=#{hash}"`);
- zaloplatform/zalo-java-sdk src/main/java/com/vng/zalo/sdk/utils/MacUtils.java (Zalo's SDK: `buildMac`
  is `DigestUtils.sha256Hex` of its arguments concatenated, no key).
Zalo resends an event it got no 200 for (within 2 s) for up to 12 hours (the same hainh.me page, a
third party; not confirmed on Zalo's pages), so an event is refused only when older than
`VIETCX_ZALO_MAX_AGE_SECONDS` (default 13 hours) or more than a minute in the future. Within that
window a replayed event is recognised by `vietcx.store.events.first_time`, whose rows must therefore
be kept longer than the window.

**Messenger.** `X-Hub-Signature-256: sha256=<hex>`, hex being the HMAC-SHA256 of the raw body under
the app secret; subscribing the webhook is a GET with `hub.mode=subscribe`, `hub.verify_token` and
`hub.challenge`, an int to send back (developers.facebook.com/docs/messenger-platform/webhooks and
developers.facebook.com/docs/graph-api/webhooks/getting-started).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Mapping
from enum import Enum
from typing import Any

ZALO_HEADER = "X-ZEvent-Signature"
MESSENGER_HEADER = "X-Hub-Signature-256"
DEFAULT_ZALO_MAX_AGE_SECONDS = 13 * 3600  # Zalo resends for up to 12 hours
FUTURE_MARGIN_SECONDS = 60  # clocks differ a little; an event from further ahead is not Zalo's
_ZALO_MAC = re.compile(r"mac=([0-9a-fA-F]{64})")
_MESSENGER_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_MILLISECONDS = re.compile(r"[0-9]{1,16}")
# Meta sends an int: anything beyond a short plain token is refused, so the route never echoes markup
_CHALLENGE = re.compile(r"[0-9A-Za-z_.-]{1,128}")


class Verdict(str, Enum):
    """Why a webhook is accepted or refused, in words fit for a log."""

    OK = "verified"
    NO_SIGNATURE = "no signature header"
    MALFORMED_SIGNATURE = "signature header malformed"
    NOT_JSON = "body is not a JSON object"
    NO_APP_ID = "app_id missing from the body"
    BAD_TIMESTAMP = "timestamp missing or not a whole number of milliseconds"
    WRONG_SIGNATURE = "signature does not match"
    WRONG_APP = "event for another app"
    STALE = "event older than the accepted window"
    FUTURE = "event timestamp in the future"

    @property
    def status(self) -> int:
        """The HTTP answer: 401 when the request is not proven to come from the platform, 403 when it
        is but the event is out of its time window."""
        if self is Verdict.OK:
            return 200
        return 403 if self in (Verdict.STALE, Verdict.FUTURE, Verdict.WRONG_APP) else 401


def zalo_max_age() -> float:
    """How old (seconds) a Zalo event may be (VIETCX_ZALO_MAX_AGE_SECONDS): longer than Zalo's resends."""
    value = float(os.environ.get("VIETCX_ZALO_MAX_AGE_SECONDS") or DEFAULT_ZALO_MAX_AGE_SECONDS)
    if value <= 0:
        raise ValueError("VIETCX_ZALO_MAX_AGE_SECONDS must be a positive number of seconds")
    return value


def zalo_mac(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """Zalo's formula, here only: hex SHA-256 of app_id + raw body + timestamp + OA secret key."""
    return hashlib.sha256(
        app_id.encode() + raw_body + timestamp.encode() + oa_secret_key.encode()
    ).hexdigest()


def verify_zalo(
    raw_body: bytes,
    header: str | None,
    oa_secret_key: str,
    now: float | None = None,
    max_age: float | None = None,
) -> Verdict:
    """Whether a Zalo OA event is Zalo's and recent. `header` is the X-ZEvent-Signature value, `now`
    Unix seconds (default: the clock), `max_age` seconds (default: `zalo_max_age()`)."""
    if not oa_secret_key:
        raise ValueError("no Zalo OA secret key: every event would be refused (or forgeable)")
    if not header or not header.strip():
        return Verdict.NO_SIGNATURE
    given = _ZALO_MAC.fullmatch(header.strip())
    if not given:
        return Verdict.MALFORMED_SIGNATURE
    body = _json_object(raw_body)
    if body is None:
        return Verdict.NOT_JSON
    app_id = _text(body.get("app_id"))
    if not app_id:
        return Verdict.NO_APP_ID
    timestamp = _text(body.get("timestamp"))
    if timestamp is None or not _MILLISECONDS.fullmatch(timestamp):
        return Verdict.BAD_TIMESTAMP
    expected = zalo_mac(app_id, raw_body, timestamp, oa_secret_key)
    if not hmac.compare_digest(expected, given.group(1).lower()):
        return Verdict.WRONG_SIGNATURE
    age = (time.time() if now is None else now) - int(timestamp) / 1000
    if age > (zalo_max_age() if max_age is None else max_age):
        return Verdict.STALE
    if age < -FUTURE_MARGIN_SECONDS:
        return Verdict.FUTURE
    return Verdict.OK


def messenger_signature(raw_body: bytes, app_secret: str) -> str:
    """Meta's formula, here only: hex HMAC-SHA256 of the raw body under the app secret."""
    return hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify_messenger(raw_body: bytes, header: str | None, app_secret: str) -> Verdict:
    """Whether a Messenger event is Meta's; `header` is the X-Hub-Signature-256 value."""
    if not app_secret:
        raise ValueError("no Messenger app secret: every event would be refused (or forgeable)")
    if not header or not header.strip():
        return Verdict.NO_SIGNATURE
    given = _MESSENGER_SIGNATURE.fullmatch(header.strip())
    if not given:
        return Verdict.MALFORMED_SIGNATURE
    if not hmac.compare_digest(messenger_signature(raw_body, app_secret), given.group(1).lower()):
        return Verdict.WRONG_SIGNATURE
    return Verdict.OK


def messenger_challenge(query: Mapping[str, Any], verify_token: str) -> str | None:
    """The `hub.challenge` to send back when Meta subscribes the webhook with our verify token, else
    None (answer 403). `query` is the request's query arguments (Sanic's `request.args` will do)."""
    if not verify_token:
        raise ValueError("no Messenger verify token: the subscription could never be confirmed")
    mode, token, challenge = (query.get(name) for name in ("hub.mode", "hub.verify_token", "hub.challenge"))
    if mode != "subscribe" or not isinstance(token, str) or not isinstance(challenge, str):
        return None
    if not hmac.compare_digest(token.encode(errors="surrogatepass"), verify_token.encode()):
        return None
    return challenge if _CHALLENGE.fullmatch(challenge) else None


def _json_object(raw_body: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw_body or b"")
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        return None
    return body if isinstance(body, dict) else None


def _text(value: Any) -> str | None:
    """A body field as it is written in the signed text: a string, or a whole JSON number."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
