"""The console's settings, from environment variables.

VIETCX_RASA_URL                  the Rasa server, told when staff hand a conversation back
                                 (default http://127.0.0.1:5005)
VIETCX_RASA_JWT_SECRET           the key of Rasa's HTTP API (see vietcx.rasa_api); the hand-back signs
                                 a short-lived token with it
VIETCX_CONSOLE_PORT              the port (default 5080); the host is 127.0.0.1 unless --host says so
VIETCX_CONSOLE_SECRET            the key signing session cookies; when unset, a random key kept in
                                 the untracked file var/console-secret (created on first start)
VIETCX_CONSOLE_SESSION_MINUTES   how long a sign-in lasts (default 480, a working day)
VIETCX_CONSOLE_SECURE_COOKIE     1: cookies only over HTTPS (set it behind a TLS proxy)
VIETCX_CONSOLE_QUIET_MINUTES     a customer unanswered this long by the staff member who took the
                                 conversation is pointed out to them in the queue (default 5)
VIETCX_CONSOLE_THREADS           requests served at once (default 16; every open queue page keeps
                                 one for its live updates)
"""

from __future__ import annotations

import os
from pathlib import Path

from vietcx.settings import VAR, secret

SECRET_FILE = VAR / "console-secret"
DEFAULT_PORT = 5080


def rasa_url() -> str:
    return os.environ.get("VIETCX_RASA_URL") or "http://127.0.0.1:5005"


def port() -> int:
    return int(os.environ.get("VIETCX_CONSOLE_PORT") or DEFAULT_PORT)


def quiet_minutes() -> float:
    return float(os.environ.get("VIETCX_CONSOLE_QUIET_MINUTES") or 5)


def threads() -> int:
    return int(os.environ.get("VIETCX_CONSOLE_THREADS") or 16)


def session_minutes() -> float:
    return float(os.environ.get("VIETCX_CONSOLE_SESSION_MINUTES") or 480)


def secure_cookie() -> bool:
    return os.environ.get("VIETCX_CONSOLE_SECURE_COOKIE") == "1"


def secret_key(path: Path = SECRET_FILE) -> str:
    """The key signing session cookies (VIETCX_CONSOLE_SECRET, else kept in var/console-secret)."""
    return secret("VIETCX_CONSOLE_SECRET", path)
