"""Who is chatting on the web page: the shop's signed identity tokens and the conversation tokens
this server gives the page.

**Identity token** (made by the shop's backend for a signed-in customer): a JWT signed with
HMAC-SHA256 (`HS256`) and the secret `VIETCX_WEB_IDENTITY_SECRET`, with the claims
`sub` (the shop's customer id, a string), `name` (the customer's full name, optional) and `exp`
(expiry, Unix seconds). Nothing else is accepted: another algorithm, a missing `sub` or `exp`, a
wrong signature or an expired token make the visitor anonymous (and are logged).

**Conversation token** (made here, kept by the page): names the conversation (`sub`, the Rasa
sender id) and, for a signed-in customer, who they are (`cid`, `name`), signed with this server's
own key (`VIETCX_WEB_SESSION_SECRET`, else var/web-session-secret). The page shows it on every
request in `Authorization: Bearer …`, so a conversation can only be continued, and its staff
replies read, by the browser it was given to. Anonymous ids are random (128 bits), never taken from
the page.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from dataclasses import dataclass

import jwt

from vietcx.settings import VAR, secret

logger = logging.getLogger(__name__)
ALGORITHM = "HS256"
MAX_CUSTOMER_ID = 100
MAX_NAME = 100
SENDER_PREFIX = "web-"  # every web conversation id; signed-in customers: web-customer-<their id>
CUSTOMER_PREFIX = SENDER_PREFIX + "customer-"


@dataclass(frozen=True)
class Conversation:
    """A web conversation as its token proves it: the Rasa sender id and, if signed in, the customer."""

    sender: str
    customer_id: str | None = None
    name: str | None = None


def identity_secret() -> str | None:
    """The secret shared with the shop's backend; None: no shop sign-in configured."""
    return os.environ.get("VIETCX_WEB_IDENTITY_SECRET") or None


def session_secret() -> str:
    return secret("VIETCX_WEB_SESSION_SECRET", VAR / "web-session-secret")


def conversation_days() -> float:
    """How long a page may keep its conversation without coming back (VIETCX_WEB_CONVERSATION_DAYS)."""
    return float(os.environ.get("VIETCX_WEB_CONVERSATION_DAYS") or 30)


def verify_identity(token: str, key: str | None = None) -> Conversation | None:
    """The signed-in customer named by the shop's identity token, or None (logged) if it is not
    valid: wrong signature, other algorithm, expired, or claims of the wrong shape."""
    key = key or identity_secret()
    if not key:
        logger.warning("An identity token was sent but VIETCX_WEB_IDENTITY_SECRET is not set: anonymous")
        return None
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.PyJWTError as error:
        logger.warning("Identity token refused (%s): the visitor is anonymous", type(error).__name__)
        return None
    customer_id, name = claims.get("sub"), claims.get("name")
    if not isinstance(customer_id, str) or not customer_id.strip() or len(customer_id) > MAX_CUSTOMER_ID:
        logger.warning("Identity token refused (customer id of the wrong shape): the visitor is anonymous")
        return None
    if not isinstance(name, str) or len(name) > MAX_NAME:
        name = None
    customer_id = customer_id.strip()
    return Conversation(CUSTOMER_PREFIX + customer_id, customer_id, (name or "").strip() or None)


def anonymous() -> Conversation:
    """A new conversation for a visitor nobody vouched for: a random, unguessable id."""
    return Conversation(SENDER_PREFIX + secrets.token_urlsafe(16))


def issue(conversation: Conversation, key: str | None = None) -> str:
    """The token the page keeps for `conversation`."""
    now = int(time.time())
    claims: dict[str, object] = {"sub": conversation.sender, "iat": now}
    claims["exp"] = now + int(conversation_days() * 86400)
    if conversation.customer_id:
        claims["cid"] = conversation.customer_id
        if conversation.name:
            claims["name"] = conversation.name
    return jwt.encode(claims, key or session_secret(), algorithm=ALGORITHM)


def verify(token: str, key: str | None = None) -> Conversation | None:
    """The conversation a page's token proves, or None."""
    try:
        claims = jwt.decode(
            token, key or session_secret(), algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
        )
    except jwt.PyJWTError:
        return None
    sender, customer_id, name = claims.get("sub"), claims.get("cid"), claims.get("name")
    if not isinstance(sender, str) or not sender.startswith(SENDER_PREFIX):
        return None
    return Conversation(
        sender,
        customer_id if isinstance(customer_id, str) else None,
        name if isinstance(name, str) else None,
    )
