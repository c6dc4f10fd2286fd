"""Rasa's call of the action server tried again while no action server answers, and the customer
told to send the message again when it never does (vietcx/rasa_server.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
import pytest
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.exceptions import RasaException

from vietcx.rasa_server import retrying_the_action_server


@dataclass
class Tracker:
    sender_id: str = "khach-1"
    honorific: str | None = "chị"

    def get_slot(self, name: str) -> str | None:
        return self.honorific if name == "customer_honorific" else None


def action_server_down_for(calls: int) -> tuple[list[int], object]:
    """A RemoteAction.run whose first `calls` calls cannot connect, as Rasa raises it."""
    made: list[int] = []

    async def run(_self: object, _channel: object, _nlg: object, _tracker: object, _domain: object) -> list:
        made.append(1)
        if len(made) <= calls:
            try:
                raise aiohttp.ClientConnectionError("Connection refused")
            except aiohttp.ClientConnectionError:
                raise RasaException("Failed to execute custom action") from None
        return ["events"]

    return made, run


class Action:
    def name(self) -> str:
        return "action_answer_faq"


def test_an_action_server_back_within_the_window_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIETCX_ACTION_RETRY_SECONDS", "5")
    made, run = action_server_down_for(2)
    channel = CollectingOutputChannel()
    events = asyncio.run(retrying_the_action_server(run)(Action(), channel, None, Tracker(), None))
    assert events == ["events"] and len(made) == 3 and channel.messages == []


def test_a_customer_is_told_to_send_again_when_it_never_comes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIETCX_ACTION_RETRY_SECONDS", "1")
    made, run = action_server_down_for(1000)
    channel = CollectingOutputChannel()
    with pytest.raises(RasaException):
        asyncio.run(retrying_the_action_server(run)(Action(), channel, None, Tracker(), None))
    assert len(made) >= 3
    [message] = channel.messages
    assert "chị vui lòng gửi lại tin nhắn" in message["text"] and message["recipient_id"] == "khach-1"


def test_an_error_of_the_action_itself_is_not_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []

    async def run(*_args: object) -> list:
        made.append(1)
        raise RasaException("No registered action found for name 'x'")

    with pytest.raises(RasaException):
        asyncio.run(
            retrying_the_action_server(run)(Action(), CollectingOutputChannel(), None, Tracker(), None)
        )
    assert made == [1]
