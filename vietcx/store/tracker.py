"""Access to Rasa's SQL tracker store, for removing a customer's conversations on request."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from sqlalchemy import create_engine, inspect, text

from vietcx.settings import PROJECT


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
    credentials = (
        f"{config.get('username', '')}:{config.get('password', '')}@" if config.get("username") else ""
    )
    port = f":{config['port']}" if config.get("port") else ""
    return f"{dialect}://{credentials}{config.get('url', 'localhost')}{port}/{db}"


def delete_conversations(sender_id: str, url: str | None = None) -> int:
    """Deletes every stored event of a sender; returns how many were deleted."""
    url = url or tracker_store_url()
    if not url:
        return 0
    engine = create_engine(url, future=True)
    if "events" not in inspect(engine).get_table_names():
        return 0
    with engine.begin() as connection:
        return connection.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": sender_id}).rowcount
