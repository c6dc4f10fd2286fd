"""Work that one process at a time may do, among every server of the deployment.

A lease is a row: whoever inserts it, or updates it once it has lapsed, holds it until `until`.
A process that dies holding one only delays the work by the lease's length.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from vietcx.store.db import leases

ME = f"{socket.gethostname()}:{os.getpid()}"


def take(name: str, seconds: float, db: Engine, holder: str = ME) -> bool:
    """True if `holder` holds the lease `name` for the next `seconds` (taken or prolonged)."""
    now = datetime.now(timezone.utc)
    until = now + timedelta(seconds=seconds)
    with db.begin() as connection:
        taken = connection.execute(
            update(leases)
            .where(leases.c.name == name, or_(leases.c.holder == holder, leases.c.until < now))
            .values(holder=holder, until=until)
        ).rowcount
    if taken:
        return True
    try:
        with db.begin() as connection:
            connection.execute(leases.insert().values(name=name, holder=holder, until=until))
        return True
    except IntegrityError:  # somebody else holds it
        return False


def give_back(name: str, db: Engine, holder: str = ME) -> None:
    """Ends the lease early, so the next process need not wait for it to lapse."""
    with db.begin() as connection:
        connection.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))


@contextmanager
def held(name: str, seconds: float, db: Engine, holder: str = ME) -> Iterator[bool]:
    """`with held(...) as mine:` — `mine` says whether this process may do the work now."""
    mine = take(name, seconds, db, holder)
    try:
        yield mine
    finally:
        if mine:
            give_back(name, db, holder)
