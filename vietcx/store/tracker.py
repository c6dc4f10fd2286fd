"""Access to Rasa's SQL tracker store, for removing a customer's conversations on request."""

from __future__ import annotations

import functools
import os
from collections.abc import Collection
from pathlib import Path

import yaml
from sqlalchemy import column, create_engine, delete, inspect, table
from sqlalchemy.engine import URL, Engine

from vietcx.settings import PROJECT
from vietcx.store.db import url_text

# the columns of Rasa's SQLTrackerStore table used here; a slot event keeps the slot's name in
# action_name and the event (with the value) as JSON in data; timestamp is Unix time
EVENTS = table(
    "events",
    column("id"),
    column("sender_id"),
    column("type_name"),
    column("timestamp"),
    column("action_name"),
    column("data"),
)


def tracker_store_url(endpoints: Path | None = None) -> str | None:
    """SQLAlchemy URL of the tracker store configured in endpoints.yml (None if not SQL)."""
    path = endpoints or Path(os.environ.get("VIETCX_ENDPOINTS", PROJECT / "endpoints.yml"))
    if not path.exists():
        return None
    raw = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("tracker_store") or {}
    config = {key: os.path.expandvars(str(value)) for key, value in raw.items()}  # ${VAR} as Rasa does
    if str(config.get("type", "")).upper() != "SQL":
        return None
    dialect, db = config.get("dialect", "sqlite"), config.get("db", "rasa.db")
    if dialect == "sqlite":
        location = Path(db)
        return f"sqlite:///{location if location.is_absolute() else PROJECT / location}"
    # built as Rasa builds it (URL.create), so a password with "@", ":" or "/" stays one password
    url = URL.create(
        drivername=dialect,
        username=config.get("username") or None,
        password=config.get("password") or None,
        host=config.get("url", "localhost"),
        port=int(config["port"]) if config.get("port") else None,
        database=db,
    )
    return url_text(url)


@functools.lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    return create_engine(url, future=True, pool_pre_ping=True)


def tracker_engine(url: str | None = None) -> Engine | None:
    """An engine on the tracker store's database, or None while it has no conversations yet."""
    url = url or tracker_store_url()
    if not url:
        return None
    engine = _engine(url)
    return engine if "events" in inspect(engine).get_table_names() else None


def delete_conversations(sender_ids: Collection[str], url: str | None = None) -> int:
    """Deletes every stored event of these senders (whole conversations); returns how many."""
    engine = tracker_engine(url)
    if engine is None or not sender_ids:
        return 0
    with engine.begin() as connection:
        return connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(sorted(sender_ids)))).rowcount
