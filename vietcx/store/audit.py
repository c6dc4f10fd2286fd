"""The audit trail of staff actions: who signed in (or failed to), took, replied to or resolved an
escalation, and what the staff command line changed. Kept in the database, not only in a log file,
so admins read it in the console; a row never holds a password or the text of a message."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.engine import Engine

from vietcx.store.db import audit_log, engine

ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "sign_in_locked",
    "sign_out",
    "take",
    "reply",
    "resolve",
    "staff_add",
    "staff_password",
    "staff_disable",
    "staff_enable",
    "export",
    "kb_change",
)
CLI = "cli"  # the actor of what the command line did (it has no signed-in staff member)


def record(
    action: str,
    actor: str,
    target: str | int | None = None,
    detail: str | None = None,
    address: str | None = None,
    db: Engine | None = None,
) -> None:
    """Writes one row; values longer than their columns are cut (a typed user name can be anything)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    values = {
        "at": datetime.now(timezone.utc),
        "actor": actor[:64],
        "action": action,
        "target": None if target is None else str(target)[:200],
        "detail": detail[:200] if detail else None,
        "address": address[:64] if address else None,
    }
    with (db or engine()).begin() as connection:
        connection.execute(audit_log.insert().values(**values))


def recent(
    limit: int = 100,
    actor: str | None = None,
    action: str | None = None,
    before: int | None = None,
    db: Engine | None = None,
) -> list[dict]:
    """The newest rows first, optionally of one actor and one action; `before` (a row id) gives the
    page after one already shown, which stays right while new rows are written."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if action:
        query = query.where(audit_log.c.action == action)
    if before is not None:
        query = query.where(audit_log.c.id < before)
    with (db or engine()).connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]
