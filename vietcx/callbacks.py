"""The call back offered to a customer whose escalation nobody has taken in time.

The wait counts staff hours only (VIETCX_CALLBACK_AFTER_MINUTES, vietcx/staff_hours.py). The offer
comes either with the assistant's answer to the customer's next message (actions/waiting.py), or,
for a customer who wrote nothing more, from the action server's regular sweep through the outbox
(the message and its buttons are the domain's `utter_callback_offer`). Either way the escalation
records it once (`callback_offered_at`).
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timezone
from typing import Any

import yaml
from sqlalchemy.engine import Engine

from vietcx import settings
from vietcx.names import NEUTRAL
from vietcx.staff_hours import StaffHours
from vietcx.store import escalations, outbox, profiles
from vietcx.store.db import as_utc

logger = logging.getLogger(__name__)
OFFER = "utter_callback_offer"


def waited_too_long(escalation: dict, now: datetime | None = None, hours: StaffHours | None = None) -> bool:
    """Whether the escalation has waited untaken for the configured time, counted in staff hours."""
    waited = (hours or StaffHours.from_env()).minutes_open_between(
        as_utc(escalation["created_at"]), now or datetime.now(timezone.utc)
    )
    return waited >= settings.callback_after_minutes()


@functools.lru_cache(maxsize=1)
def _offer() -> dict[str, Any]:
    domain = yaml.safe_load((settings.PROJECT / "domain.yml").read_text(encoding="utf-8"))
    return domain["responses"][OFFER][0]


def offer_due(db: Engine | None = None) -> int:
    """Offers the call back to every customer who has waited too long without writing again;
    returns how many were offered."""
    hours, now, offered = StaffHours.from_env(), datetime.now(timezone.utc), 0
    for escalation in escalations.untaken_without_offer(db):
        if not waited_too_long(escalation, now, hours) or not escalations.mark_callback_offered(
            escalation["id"], db
        ):
            continue
        address, honorific = _address(escalation, db)
        response = _offer()
        text = response["text"].format(customer_address=address, customer_honorific=honorific)
        outbox.send(
            escalation["sender_id"],
            text,
            "bot",
            escalation_id=escalation["id"],
            buttons=response.get("buttons"),
            db=db,
        )
        offered += 1
    return offered


def _address(escalation: dict, db: Engine | None) -> tuple[str, str]:
    """How the offer addresses the customer ("chị Ngọc", "chị"), from their stored profile."""
    profile = profiles.get(escalation["channel"], escalation["customer_id"] or escalation["sender_id"], db)
    name = profile.name if profile else None
    return (name.address, name.honorific) if name and name.honorific else (NEUTRAL, NEUTRAL)
