"""The product's settings, read from environment variables in one place.

VIETCX_DATABASE_URL          SQLAlchemy URL of the product's database (customer profiles, surveys,
                             sentiment, escalations). Default: SQLite file var/vietcx.db in the project.
                             PostgreSQL: postgresql+psycopg2://user:password@host/dbname
VIETCX_KB_FILE               the FAQ knowledge base file. Default: data/kb/faq.yml; beside it
                             for_staff.yml, the questions only staff can answer (optional)
VIETCX_CALLBACK_AFTER_MINUTES minutes of staff hours an escalation may wait untaken before the
                             customer is offered a call back (default 10; fractions allowed)
VIETCX_SURVEY_FILE           the survey's settings (NPS on/off, the questions' wording).
                             Default: data/survey.yml
VIETCX_RATE_LIMIT_STORAGE    where rate-limit counters live, as a `limits` storage URI: memory://
                             (default, one process) or redis://host:6379 (several servers share them)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
VAR = PROJECT / "var"
DEFAULT_DATABASE = VAR / "vietcx.db"


def database_url() -> str:
    """Where the product keeps its data."""
    url = os.environ.get("VIETCX_DATABASE_URL")
    if url:
        return url
    DEFAULT_DATABASE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DATABASE}"


def kb_file() -> Path:
    """The FAQ knowledge base that staff edit."""
    return Path(os.environ.get("VIETCX_KB_FILE") or PROJECT / "data" / "kb" / "faq.yml")


def for_staff_file(kb: Path | None = None) -> Path:
    """Questions about the shop that the knowledge base must not answer, beside the KB file `kb`
    (default: the configured one)."""
    return (kb or kb_file()).with_name("for_staff.yml")


def callback_after_minutes() -> float:
    """How long (in staff hours) nobody may take an escalation before a call back is offered."""
    return float(os.environ.get("VIETCX_CALLBACK_AFTER_MINUTES") or 10)


def survey_file() -> Path:
    """The survey's settings file."""
    return Path(os.environ.get("VIETCX_SURVEY_FILE") or PROJECT / "data" / "survey.yml")


def cache_dir() -> Path:
    """Where computed things that are costly to compute again are kept (VIETCX_CACHE_DIR)."""
    return Path(os.environ.get("VIETCX_CACHE_DIR") or VAR / "cache")


def rate_limit_storage() -> str:
    """The `limits` storage URI shared by every rate limit of the product."""
    return os.environ.get("VIETCX_RATE_LIMIT_STORAGE") or "memory://"


def secret(variable: str, path: Path) -> str:
    """The secret in environment variable `variable`, else the one kept in `path` (created once with
    a random value, readable by its owner only), so a secret survives restarts without ever being
    committed. Processes started at the same moment all read the first key made."""
    configured = os.environ.get(variable)
    if configured:
        return configured
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # written aside, then linked into place: a second process never reads a half-written file
        aside = path.with_name(f".{path.name}.{os.getpid()}")
        with os.fdopen(os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise RuntimeError(f"{path} is empty: delete it and a new secret is made")
    return value
