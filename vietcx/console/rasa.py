"""Handing a conversation back to the bot: the one call the console makes on the Rasa server."""

from __future__ import annotations

from urllib.parse import quote

import requests

from vietcx.rasa_api import auth_header
from vietcx.store import escalations


class RasaUnavailable(RuntimeError):
    """Rasa could not be reached or refused the hand-back; nothing was changed."""


def hand_back(rasa_url: str, sender_id: str, jwt_key: str) -> list[dict]:
    """Tells Rasa that staff resolved the conversation; returns the bot's messages for the customer
    (the survey question), which Rasa does not deliver itself: the console queues them. The call is
    authenticated with a short-lived token signed with `jwt_key` (Rasa's API is never open)."""
    url = f"{rasa_url.rstrip('/')}/conversations/{quote(sender_id, safe='')}/trigger_intent"
    try:
        answer = requests.post(
            url, json={"name": escalations.HAND_BACK_INTENT}, headers=auth_header(jwt_key, 60), timeout=60
        )
        answer.raise_for_status()
        return list(answer.json().get("messages") or [])
    except (requests.RequestException, ValueError, AttributeError) as error:
        # the status or the kind of failure only, never the request's headers
        status = getattr(getattr(error, "response", None), "status_code", None)
        raise RasaUnavailable(
            f"hand-back of {sender_id!r} to {rasa_url} failed: {status or type(error).__name__}"
        ) from error
