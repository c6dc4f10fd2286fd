"""Customers send text, never intents.

Rasa reads a message that starts with `/` as an intent with entities (`/survey_answer{"score": 5}`),
which is how buttons work. Typed by a customer, the same syntax would let anyone forge any intent
(`/EXTERNAL_staff_resolved`) or entity (`{"score": 99}`). A `/…` text is therefore accepted only
when it is one of the buttons the assistant offered in its last answer, with exactly the entities
offered; anything else is passed on as ordinary text, which Rasa cannot unpack.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from rasa.shared.core.events import BotUttered, Event, UserUttered

PREFIX = "/"
# a zero-width space before the text: invisible, not whitespace to Rasa's strip(), so the text is
# never unpacked as an intent, neither by the message processor nor by the NLU's RegexMessageHandler
NOT_A_PAYLOAD = "\u200b"
_PAYLOAD = re.compile(r"/(?P<intent>[^{@\s]+)(?P<entities>\{.*\})?", re.DOTALL)


def offered_payloads(events: Iterable[Event]) -> list[str]:
    """The payloads of the buttons in the assistant's last answer (its messages since the
    customer's last message)."""
    offered: list[str] = []
    for event in reversed(list(events)):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            offered += [str(b.get("payload")) for b in event.data.get("buttons") or [] if b.get("payload")]
    return offered


def customer_text(text: str, offered: Iterable[str]) -> str:
    """`text` as Rasa may read it: an offered button's payload as it is, any other `/…` as text."""
    if not text.strip().startswith(PREFIX):
        return text
    typed = _canonical(text.strip())
    if typed is not None and any(typed == _canonical(p.strip()) for p in offered):
        return text.strip()
    return NOT_A_PAYLOAD + text


def _canonical(payload: str) -> tuple[str, Any] | None:
    """(intent, entities) of a payload, so that spacing inside the JSON does not matter."""
    match = _PAYLOAD.fullmatch(payload)
    if not match:
        return None
    try:
        entities = json.loads(match.group("entities")) if match.group("entities") else {}
    except (ValueError, RecursionError):
        return None
    return match.group("intent"), entities
