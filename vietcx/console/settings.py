"""The console's settings, from environment variables.

VIETCX_RASA_URL                  the Rasa server, told when staff hand a conversation back
                                 (default http://127.0.0.1:5005)
VIETCX_RASA_TOKEN                Rasa's --auth-token, when Rasa was started with one
VIETCX_CONSOLE_PORT              the port (default 5080); the host is 127.0.0.1 unless --host says so
VIETCX_CONSOLE_SECRET            the key signing session cookies; when unset, a random key kept in
                                 the untracked file var/console-secret (created on first start)
VIETCX_CONSOLE_SESSION_MINUTES   how long a sign-in lasts (default 480, a working day)
VIETCX_CONSOLE_SECURE_COOKIE     1: cookies only over HTTPS (set it behind a TLS proxy)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from vietcx.settings import PROJECT

SECRET_FILE = PROJECT / "var" / "console-secret"
DEFAULT_PORT = 5080


def rasa_url() -> str:
    return os.environ.get("VIETCX_RASA_URL") or "http://127.0.0.1:5005"


def rasa_token() -> str | None:
    return os.environ.get("VIETCX_RASA_TOKEN") or None


def port() -> int:
    return int(os.environ.get("VIETCX_CONSOLE_PORT") or DEFAULT_PORT)


def session_minutes() -> float:
    return float(os.environ.get("VIETCX_CONSOLE_SESSION_MINUTES") or 480)


def secure_cookie() -> bool:
    return os.environ.get("VIETCX_CONSOLE_SECURE_COOKIE") == "1"


def secret_key(path: Path = SECRET_FILE) -> str:
    """The configured secret, else the one kept in `path` (created once, readable by its owner only),
    so sessions survive restarts without a secret ever being committed."""
    configured = os.environ.get("VIETCX_CONSOLE_SECRET")
    if configured:
        return configured
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # written aside, then linked into place: a second process starting at the same moment
        # never reads a half-written file, and the first key made wins
        aside = path.with_name(f".{path.name}.{os.getpid()}")
        with os.fdopen(os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise RuntimeError(f"{path} is empty: delete it and a new secret is made")
    return secret
