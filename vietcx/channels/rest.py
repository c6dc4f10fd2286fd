"""The REST channel for the shop's own programs (server to server): `POST /webhooks/rest/webhook`.

Callers prove themselves with `Authorization: Bearer <token>`, the token being `VIETCX_REST_TOKEN`
(or, when unset, the one `make run` keeps in var/rest-token): a caller with the token is the
shop itself, so it names the conversation (`sender`) and the customer (`metadata.customer`).
"""

from __future__ import annotations

import hmac
from typing import Any

from sanic.request import Request

from vietcx.channels import checks
from vietcx.channels.base import Caller, GuardedInput, bearer
from vietcx.settings import VAR, secret


def rest_token() -> str:
    return secret("VIETCX_REST_TOKEN", VAR / "rest-token")


class RestChannel(GuardedInput):
    """JSON in, JSON out: {"sender", "message", "metadata", "ack"} → the assistant's messages."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self, token: str | None = None) -> None:
        self._token = token or rest_token()

    async def caller(self, request: Request, body: dict[str, Any] | None) -> Caller:
        """The shop's program, if it shows the token; the sender comes from the body or the query."""
        given = bearer(request)
        if not given or not hmac.compare_digest(given.encode(), self._token.encode()):
            raise checks.BadRequest("Authorization: Bearer <VIETCX_REST_TOKEN> is required.", 401)
        if body is None:
            return Caller(checks.sender(request.args.get("sender")))
        return Caller(checks.sender(body.get("sender")), checks.metadata(body.get("metadata")))
