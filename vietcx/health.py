"""What a server depends on, checked for its /health: 200 when it can serve, 503 when it cannot.

A load balancer or an operator's monitor asks /health of every process. Each server names its
checks (the Rasa server: its model, tracker store and lock store; the action server and the
console: the product database); the answer lists each as "ok" or "unavailable". Why a check
failed goes to the server's log only: /health needs no sign-in, and a database error may name
hosts and users.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)

Check = Callable[[], None]  # raises when the dependency cannot be used


def database(engine: Engine) -> Check:
    """The database answers a query; a SQLite file must also still be there (a connection kept
    open in the pool would go on writing into a file that was removed)."""

    def check() -> None:
        location = engine.url.database
        if engine.dialect.name == "sqlite" and location not in (None, "", ":memory:"):
            if not Path(location).is_file():
                raise FileNotFoundError(f"SQLite file {location} is missing")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return check


def run(checks: dict[str, Check]) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of a /health answer."""
    results = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception:  # any failure means this dependency cannot serve
            logger.exception("Health check %s failed", name)
            results[name] = "unavailable"
    healthy = all(result == "ok" for result in results.values())
    return (200 if healthy else 503), {"status": "ok" if healthy else "unavailable", "checks": results}
