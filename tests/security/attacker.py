"""What an attacker sends, over real HTTP: raw requests with forged or missing proofs."""

from __future__ import annotations

import time
from typing import Any

import jwt
import requests
from requests_toolbelt.adapters.source import SourceAddressAdapter

from harness import Assistant


def from_address(address: str) -> requests.Session:
    """A client calling from another loopback address (127.0.0.0/8 is all this machine): each
    test that floods comes from an address of its own and counts against no one else."""
    client = requests.Session()
    client.mount("http://", SourceAddressAdapter((address, 0)))
    return client


def web_post(
    guarded: Assistant, path: str, body: Any = None, token: str | None = None, client: Any = requests
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(f"{guarded.url}/webhooks/web/{path}", json=body, headers=headers, timeout=60)


def web_updates(
    guarded: Assistant, token: str | None, after: Any = 0, client: Any = requests, **params: Any
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(
        f"{guarded.url}/webhooks/web/updates", params={"after": after, **params}, headers=headers, timeout=30
    )


def identity(guarded: Assistant, customer_id: str, name: str) -> str:
    """An identity token as the shop's backend makes it for a signed-in customer."""
    claims = {"sub": customer_id, "name": name, "exp": int(time.time()) + 600}
    return jwt.encode(claims, guarded.env["VIETCX_WEB_IDENTITY_SECRET"], algorithm="HS256")


def sender_of(guarded: Assistant, token: str) -> str:
    """The conversation a web token names (as the server reads it)."""
    return jwt.decode(token, guarded.env["VIETCX_WEB_SESSION_SECRET"], algorithms=["HS256"])["sub"]


def unsigned(claims: dict[str, Any]) -> str:
    """A token with algorithm "none": no signature at all."""
    return jwt.encode(claims, None, algorithm="none")
