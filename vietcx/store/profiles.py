"""Customer profiles: who a customer is on a channel, and how to address them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from vietcx.names import Name
from vietcx.store.db import customers, engine


@dataclass(frozen=True)
class Profile:
    """One customer on one channel."""

    channel: str
    channel_user_id: str
    display_name: str | None
    full_name: str | None
    given_name: str | None
    honorific: str | None
    name_source: str | None
    name_declined: bool
    first_seen: datetime
    last_seen: datetime
    conversations: int
    last_message_at: datetime | None = None
    platform_name_at: datetime | None = None

    @property
    def name(self) -> Name | None:
        """The stored name, if the customer gave one."""
        if not self.given_name:
            return None
        return Name(
            full=self.full_name or self.given_name, given=self.given_name, honorific=self.honorific or ""
        )


def _now() -> datetime:
    return datetime.now(timezone.utc)


def get(channel: str, user_id: str, db: Engine | None = None) -> Profile | None:
    """The stored profile, or None for a customer never seen."""
    with (db or engine()).connect() as connection:
        row = connection.execute(
            select(customers).where(customers.c.channel == channel, customers.c.channel_user_id == user_id)
        ).first()
    if row is None:
        return None
    values = {k: v for k, v in row._mapping.items() if k != "id"}
    return Profile(**values)


def start_conversation(
    channel: str, user_id: str, display_name: str | None = None, db: Engine | None = None
) -> tuple[Profile, bool]:
    """Records a new conversation; returns the profile and whether the customer was seen before."""
    changes: dict[str, object] = {"conversations": customers.c.conversations + 1}
    if display_name:
        changes["display_name"] = display_name
    seen = _update(channel, user_id, db, **changes)
    profile = get(channel, user_id, db)
    assert profile is not None
    return profile, seen


def save_name(channel: str, user_id: str, name: Name, source: str, db: Engine | None = None) -> None:
    """Stores (or corrects) the customer's name; `source` is "customer" or "channel"."""
    values = {"full_name": name.full, "given_name": name.given, "honorific": name.honorific}
    _update(channel, user_id, db, name_source=source, name_declined=False, **values)


def heard_from(channel: str, user_id: str, db: Engine | None = None) -> Profile:
    """A platform customer has just written: remembers when (the platform's reply window counts
    from it) and returns the profile."""
    _update(channel, user_id, db, last_message_at=_now())
    profile = get(channel, user_id, db)
    assert profile is not None
    return profile


def remember_platform_name(
    channel: str, user_id: str, display_name: str | None, db: Engine | None = None
) -> None:
    """The name the platform's profile shows (None: it gave none); asked once, kept with the profile."""
    values: dict[str, object] = {"platform_name_at": _now()}
    if display_name:
        values["display_name"] = display_name
    _update(channel, user_id, db, **values)


def decline_name(channel: str, user_id: str, db: Engine | None = None) -> None:
    """Remembers that the customer prefers not to give a name: never ask again."""
    _update(channel, user_id, db, name_declined=True)


def _update(channel: str, user_id: str, db: Engine | None, **values: object) -> bool:
    """Updates a profile in one transaction, creating it first if needed; True if it existed.

    A new customer's first messages may reach two processes at once (two Rasa servers, a Zalo
    resend): both may find no profile and both insert it. The unique (channel, user) key lets one
    insert through; the other transaction fails and is run again, and then finds the profile."""
    where = (customers.c.channel == channel, customers.c.channel_user_id == user_id)
    for attempt in range(3):
        now = _now()
        try:
            with (db or engine()).begin() as connection:
                existed = connection.execute(select(customers.c.id).where(*where)).first() is not None
                if not existed:
                    connection.execute(
                        customers.insert().values(
                            channel=channel,
                            channel_user_id=user_id,
                            first_seen=now,
                            last_seen=now,
                            conversations=0,
                            name_declined=False,
                        )
                    )
                connection.execute(update(customers).where(*where).values(last_seen=now, **values))
            return existed
        except (IntegrityError, OperationalError):  # SQLite: the other writer came first
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def forget(channel: str, user_id: str, db: Engine | Connection | None = None) -> bool:
    """Deletes a customer's profile; True if there was one. Given a connection, it runs in that
    connection's transaction (vietcx.store.forget removes the rest of the customer's data in it)."""
    statement = delete(customers).where(
        customers.c.channel == channel, customers.c.channel_user_id == user_id
    )
    if isinstance(db, Connection):
        return db.execute(statement).rowcount > 0
    with (db or engine()).begin() as connection:
        return connection.execute(statement).rowcount > 0
