"""A platform's access and refresh tokens, shared by every process of the product.

Zalo's OA access token lasts about 25 hours and its refresh token is single-use: a refresh answers
with a new pair and the old refresh token is dead. Two processes refreshing at once would leave one
of them with a dead token, so a process must `claim` the refresh first: the claim is a compare-and-set
on the row (the database lets exactly one through) that lapses after a while, in case its holder dies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from vietcx.store.db import as_utc, engine, platform_tokens


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime

    def expires_within(self, seconds: float) -> bool:
        return self.expires_at - datetime.now(timezone.utc) < timedelta(seconds=seconds)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def get(platform: str, db: Engine | None = None) -> Tokens | None:
    with (db or engine()).connect() as connection:
        row = connection.execute(
            select(platform_tokens).where(platform_tokens.c.platform == platform)
        ).first()
    if row is None:
        return None
    return Tokens(row.access_token, row.refresh_token, as_utc(row.expires_at))


def seed(platform: str, tokens: Tokens, db: Engine | None = None) -> bool:
    """Stores the first pair (from the settings) unless the database already has one: after the first
    refresh the settings' refresh token is spent, and only the database knows the live one."""
    values = {
        "platform": platform,
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": tokens.expires_at,
        "updated_at": _now(),
    }
    try:
        with (db or engine()).begin() as connection:
            connection.execute(platform_tokens.insert().values(**values))
    except IntegrityError:
        return False
    return True


def claim_refresh(
    platform: str, seen_access_token: str, seconds: float = 30, db: Engine | None = None
) -> bool:
    """True if this caller may refresh now: nobody else is refreshing, and the token it saw is still
    the current one (if not, someone has just refreshed: use theirs)."""
    now = _now()
    with (db or engine()).begin() as connection:
        return (
            connection.execute(
                update(platform_tokens)
                .where(
                    platform_tokens.c.platform == platform,
                    platform_tokens.c.access_token == seen_access_token,
                    or_(
                        platform_tokens.c.refreshing_until.is_(None), platform_tokens.c.refreshing_until < now
                    ),
                )
                .values(refreshing_until=now + timedelta(seconds=seconds))
            ).rowcount
            == 1
        )


def save(platform: str, tokens: Tokens, db: Engine | None = None) -> None:
    """The refreshed pair; ends the claim."""
    with (db or engine()).begin() as connection:
        connection.execute(
            update(platform_tokens)
            .where(platform_tokens.c.platform == platform)
            .values(
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token,
                expires_at=tokens.expires_at,
                refreshing_until=None,
                updated_at=_now(),
            )
        )


def release(platform: str, db: Engine | None = None) -> None:
    """The refresh failed: let the next caller try."""
    with (db or engine()).begin() as connection:
        connection.execute(
            update(platform_tokens)
            .where(platform_tokens.c.platform == platform)
            .values(refreshing_until=None)
        )
