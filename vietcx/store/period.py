"""Which rows a report or export covers: a range of days and a channel (all when unset)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, and_
from sqlalchemy.sql.elements import ColumnElement


@dataclass(frozen=True)
class Period:
    """Days are inclusive (UTC): `end` 2026-11-30 covers the whole of that day."""

    start: datetime | None = None
    end: datetime | None = None
    channel: str | None = None

    def clause(self, table: Table, when: str) -> ColumnElement:
        """The WHERE condition on `table`, dating its rows by the column `when`."""
        conditions = []
        if self.start:
            conditions.append(table.c[when] >= self.start)
        if self.end:
            conditions.append(table.c[when] < self.end + timedelta(days=1))
        if self.channel:
            conditions.append(table.c.channel == self.channel)
        return and_(True, *conditions)
