"""Staff accounts of the console: passwords hashed with Werkzeug (scrypt), never kept in clear, and
a session epoch that ends every session of an account when it changes."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from werkzeug.security import check_password_hash, generate_password_hash

from vietcx.store.db import engine, staff

ROLES = ("agent", "editor", "admin")  # editor: an agent who also edits the knowledge base
MIN_PASSWORD = 10
# compared against when the user does not exist, so a wrong user name takes as long as a wrong password
_DUMMY_HASH = generate_password_hash("not a password of anyone")


def add(
    username: str, display_name: str, password: str, role: str = "agent", db: Engine | None = None
) -> dict:
    """Creates an account; refuses short passwords, unknown roles and taken user names."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
    if not username.strip() or not display_name.strip():
        raise ValueError("user name and display name must not be empty")
    values = {
        "username": username.strip(),
        "display_name": display_name.strip(),
        "password_hash": generate_password_hash(password),
        "role": role,
        "active": True,
        "created_at": datetime.now(timezone.utc),
        "session_epoch": 0,
    }
    try:
        with (db or engine()).begin() as connection:
            connection.execute(staff.insert().values(**values))
    except IntegrityError:
        raise ValueError(f"user name {username!r} is taken") from None
    return get(username, db) or {}


def set_password(username: str, password: str, db: Engine | None = None) -> None:
    """Replaces a password (same rules as for a new account) and ends every session of the account:
    whoever knew the old password must not stay signed in."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
    _change(username, db, password_hash=generate_password_hash(password), session_epoch=_next_epoch())


def set_active(username: str, active: bool, db: Engine | None = None) -> None:
    """Disables (or enables again) an account: a disabled staff member's sessions end at once and
    they cannot sign in, while their name stays on the escalations they handled."""
    _change(username, db, active=active, **({} if active else {"session_epoch": _next_epoch()}))


def end_sessions(username: str, db: Engine | None = None) -> None:
    """Ends every session of the account, in every browser (signing out): a session cookie copied
    earlier names the old epoch and is refused."""
    _change(username, db, session_epoch=_next_epoch())


def _next_epoch() -> ColumnElement:
    """Computed by the database in the same statement, so two bumps at once both count."""
    return func.coalesce(staff.c.session_epoch, 0) + 1


def _change(username: str, db: Engine | None, **values: object) -> None:
    with (db or engine()).begin() as connection:
        done = connection.execute(update(staff).where(staff.c.username == username).values(**values)).rowcount
    if not done:
        raise ValueError(f"no staff member {username!r}")


def get(username: str, db: Engine | None = None) -> dict | None:
    """An account without its password hash."""
    with (db or engine()).connect() as connection:
        row = connection.execute(select(staff).where(staff.c.username == username)).first()
    if row is None:
        return None
    account = dict(row._mapping)
    account.pop("password_hash")
    account["session_epoch"] = account["session_epoch"] or 0  # NULL on rows older than the column
    return account


def authenticate(username: str, password: str, db: Engine | None = None) -> dict | None:
    """The active account whose password this is, or None."""
    with (db or engine()).connect() as connection:
        row = connection.execute(select(staff).where(staff.c.username == username)).first()
    if row is None or not row.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return get(username, db) if check_password_hash(row.password_hash, password) else None
