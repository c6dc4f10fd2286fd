"""Customers send text, never intents.

Rasa reads a message that starts with `/` as an intent with entities (`/survey_answer{"score": 5}`),
which is how buttons work. Typed by a customer, the same syntax would let anyone forge any intent
(`/EXTERNAL_staff_resolved`) or entity (`{"score": 99}`). A `/…` text is therefore accepted only
when it is one of the buttons the assistant offered in its last answer, with exactly the entities
offered; anything else is passed on as ordinary text, which Rasa cannot unpack.

The other way round, a customer who types a button's title ("5 – Rất hài lòng") instead of tapping
it means the button: the title is read as its payload. Zalo's buttons rely on it, as they send their
payload back as the customer's own visible message: there the payload is the title.
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
MAX_TITLE = 100  # longer texts are never a button's title (so their turn needs no look at the tracker)
_PAYLOAD = re.compile(r"/(?P<intent>[^{@\s]+)(?P<entities>\{.*\})?", re.DOTALL)


def offered_buttons(events: Iterable[Event]) -> list[tuple[str, str]]:
    """(title, payload) of the buttons in the assistant's last answer (its messages since the
    customer's last message)."""
    offered: list[tuple[str, str]] = []
    for event in reversed(list(events)):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            offered += [
                (str(b.get("title") or ""), str(b.get("payload")))
                for b in event.data.get("buttons") or []
                if b.get("payload")
            ]
    return offered


def customer_text(text: str, offered: Iterable[tuple[str, str]]) -> str:
    """`text` as Rasa may read it: an offered button's payload as it is, an offered button's exact
    title as its payload, any other `/…` as text."""
    offered = list(offered)
    typed = " ".join(text.split()).casefold()
    by_title = [payload for title, payload in offered if " ".join(title.split()).casefold() == typed]
    if typed and len(by_title) == 1:
        return by_title[0]
    if not text.strip().startswith(PREFIX):
        return text
    canonical = _canonical(text.strip())
    if canonical is not None and any(canonical == _canonical(p.strip()) for _, p in offered):
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
