"""Rasa's HTTP API (`/conversations`, `/model`, …) is never open: the Rasa server checks a JWT in
`Authorization: Bearer …` signed with `VIETCX_RASA_JWT_SECRET` (else the key kept in
var/rasa-jwt-secret, made on first start), and the product's own clients (the console's hand-back,
tests, benchmarks) sign a short-lived token with it. Tokens never travel in URLs, so they do not
end up in access logs.
"""

from __future__ import annotations

import time

import jwt

from vietcx.settings import VAR, secret

ALGORITHM = "HS256"


def jwt_secret() -> str:
    return secret("VIETCX_RASA_JWT_SECRET", VAR / "rasa-jwt-secret")


def auth_header(key: str | None = None, seconds: int = 300) -> dict[str, str]:
    """The header for one call to Rasa's API, as its administrator, valid for `seconds`."""
    claims = {"user": {"username": "vietcx", "role": "admin"}, "exp": int(time.time()) + seconds}
    return {"Authorization": "Bearer " + jwt.encode(claims, key or jwt_secret(), algorithm=ALGORITHM)}
