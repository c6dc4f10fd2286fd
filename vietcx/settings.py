"""The product's settings, read from environment variables in one place.

VIETCX_DATABASE_URL  SQLAlchemy URL of the product's database (customer profiles, surveys,
                     sentiment, escalations). Default: SQLite file var/vietcx.db in the project.
                     PostgreSQL: postgresql+psycopg2://user:password@host/dbname
VIETCX_KB_FILE       the FAQ knowledge base file. Default: data/kb/faq.yml
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = PROJECT / "var" / "vietcx.db"


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
