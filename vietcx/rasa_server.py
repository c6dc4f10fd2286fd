"""`python -m vietcx.rasa_server [rasa run options]`: `rasa run` with its HTTP API closed and its
logs kept as the product's other servers keep theirs.

The API's JWT key is handed to Rasa inside this process, so it never shows on a command line (which
every user of the machine can read in the process list).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import jwt
import rasa.server
from rasa.__main__ import main as rasa_main
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from vietcx import logs
from vietcx.rasa_api import ALGORITHM, jwt_secret


def refusing_malformed_tokens(create_app: Callable[..., Sanic]) -> Callable[..., Sanic]:
    """Rasa's app, answering 401 to a token sanic-jwt does not expect (another algorithm, such as
    "none", escapes its checks and would otherwise be a 500)."""

    @functools.wraps(create_app)
    def create(*args: Any, **kwargs: Any) -> Sanic:
        app = create_app(*args, **kwargs)

        @app.exception(jwt.PyJWTError)
        async def refused(_request: Request, _error: Exception) -> HTTPResponse:
            body = {
                "status": "failure",
                "reason": "NotAuthenticated",
                "message": "User is not authenticated.",
            }
            return response.json(body, status=401)

        return app

    return create


def main() -> None:
    arguments = ["rasa", "run", *sys.argv[1:], "--jwt-secret", jwt_secret(), "--jwt-method", ALGORITHM]
    logging_file = logs.rasa_logging_file()
    if logging_file:
        arguments += ["--logging-config-file", str(logging_file)]
    rasa.server.create_app = refusing_malformed_tokens(rasa.server.create_app)
    sys.argv = arguments
    rasa_main()


if __name__ == "__main__":
    main()
