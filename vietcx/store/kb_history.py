"""The knowledge base's history: each version saved from the console, whole, with who saved it and
what they changed; the console restores any of them."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.engine import Engine

from vietcx.store.db import engine, kb_versions

ACTIONS = ("add", "edit", "delete", "example", "restore", "file")
OUTSIDE = "file"  # the actor of a version found on disk, changed outside the console


def record(
    content: str,
    actor: str,
    action: str,
    topic_id: str | None = None,
    summary: str | None = None,
    db: Engine | None = None,
) -> int:
    """Stores a version; returns its id."""
    if action not in ACTIONS:
        raise ValueError(f"unknown knowledge base action {action!r}")
    values = {
        "at": datetime.now(timezone.utc),
        "actor": actor[:64],
        "action": action,
        "topic_id": topic_id[:64] if topic_id else None,
        "summary": summary[:200] if summary else None,
        "content": content,
    }
    with (db or engine()).begin() as connection:
        return connection.execute(kb_versions.insert().values(**values)).inserted_primary_key[0]


def latest_content(db: Engine | None = None) -> str | None:
    """The newest stored version's text (None before the first)."""
    query = select(kb_versions.c.content).order_by(kb_versions.c.id.desc()).limit(1)
    with (db or engine()).connect() as connection:
        return connection.execute(query).scalar()


def versions(limit: int = 100, db: Engine | None = None) -> list[dict]:
    """The newest versions first, without their text."""
    columns = [c for c in kb_versions.c if c.name != "content"]
    query = select(*columns).order_by(kb_versions.c.id.desc()).limit(limit)
    with (db or engine()).connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def get(version_id: int, db: Engine | None = None) -> dict | None:
    with (db or engine()).connect() as connection:
        row = connection.execute(select(kb_versions).where(kb_versions.c.id == version_id)).first()
    return dict(row._mapping) if row else None
