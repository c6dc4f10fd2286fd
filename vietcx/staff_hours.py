"""When staff answer chats: VIETCX_STAFF_HOURS (e.g. "08:00-21:00") in VIETCX_TIMEZONE (default
Asia/Ho_Chi_Minh). Outside those hours the assistant says when someone will answer."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_HOURS = "08:00-21:00"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class StaffHours:
    opens: time
    closes: time | None  # None: until midnight ("…-24:00")
    zone: ZoneInfo

    @classmethod
    def from_env(cls) -> StaffHours:
        """The configured hours; a malformed setting is an error, not a silent default."""
        return cls.parse(os.environ.get("VIETCX_STAFF_HOURS") or DEFAULT_HOURS,
                         os.environ.get("VIETCX_TIMEZONE") or DEFAULT_TIMEZONE)  # fmt: skip

    @classmethod
    def parse(cls, hours: str, zone: str = DEFAULT_TIMEZONE) -> StaffHours:
        try:
            start, end = (part.strip() for part in hours.split("-"))
            opens = time.fromisoformat(start)
            closes = None if end == "24:00" else time.fromisoformat(end)
        except ValueError:
            raise ValueError(f"staff hours must look like 08:00-21:00, not {hours!r}") from None
        if closes is not None and closes <= opens:
            raise ValueError(f"staff hours must close after they open: {hours!r}")
        return cls(opens, closes, ZoneInfo(zone))

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone).time()
        return self.opens <= local and (self.closes is None or local < self.closes)

    def next_opening(self, moment: datetime) -> datetime:
        """When staff are next on duty (local time), for a moment outside the hours."""
        local = moment.astimezone(self.zone)
        opening = datetime.combine(local.date(), self.opens, tzinfo=self.zone)
        return opening if local < opening else opening + timedelta(days=1)

    def label(self) -> str:
        """ "8:00–21:00" as the replies show it."""
        closes = "24:00" if self.closes is None else f"{self.closes.hour}:{self.closes.minute:02d}"
        return f"{self.opens.hour}:{self.opens.minute:02d}–{closes}"

    def minutes_open_between(self, start: datetime, end: datetime) -> float:
        """How many minutes of staff hours lie between two moments: a wait that began at 20:55 and
        is looked at 8:05 the next morning (hours 08:00-21:00) counts 10 minutes, not 11 hours."""
        if end <= start:
            return 0.0
        local_start, local_end = start.astimezone(self.zone), end.astimezone(self.zone)
        total, day = 0.0, local_start.date()
        while day <= local_end.date():
            opens = datetime.combine(day, self.opens, tzinfo=self.zone)
            closes = (
                datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
                if self.closes is None
                else datetime.combine(day, self.closes, tzinfo=self.zone)
            )
            overlap = (min(closes, local_end) - max(opens, local_start)).total_seconds()
            total += max(0.0, overlap) / 60
            day += timedelta(days=1)
        return total
