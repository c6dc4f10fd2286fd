"""Handing a conversation back to the bot: the one call the console makes on the Rasa server."""

from __future__ import annotations

from urllib.parse import quote

import requests

from vietcx.store import escalations


class RasaUnavailable(RuntimeError):
    """Rasa could not be reached or refused the hand-back; nothing was changed."""


def hand_back(rasa_url: str, sender_id: str, token: str | None = None) -> list[dict]:
    """Tells Rasa that staff resolved the conversation; returns the bot's messages for the customer
    (the survey question), which Rasa does not deliver itself: the console queues them."""
    url = f"{rasa_url.rstrip('/')}/conversations/{quote(sender_id, safe='')}/trigger_intent"
    try:
        answer = requests.post(
            url,
            json={"name": escalations.HAND_BACK_INTENT},
            params={"token": token} if token else None,
            timeout=60,
        )
        answer.raise_for_status()
        return list(answer.json().get("messages") or [])
    except (requests.RequestException, ValueError, AttributeError) as error:
        # the status or the kind of failure only: requests' own messages repeat the URL, token included
        status = getattr(getattr(error, "response", None), "status_code", None)
        raise RasaUnavailable(
            f"hand-back of {sender_id!r} to {rasa_url} failed: {status or type(error).__name__}"
        ) from error
