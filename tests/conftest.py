"""Fixtures shared by the end-to-end and browser tests: the real servers, started once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness import Assistant, running_assistant


@pytest.fixture(scope="session")
def assistant() -> Iterator[Assistant]:
    """The trained model served by the real Rasa server and action server on free ports."""
    with running_assistant() as running:
        yield running


@pytest.fixture()
def console(assistant: Assistant) -> Assistant:
    """The same servers plus the staff console (`assistant.console_url`). Per test, not per session:
    `assistant` differs between folders (tests/browser has its own), and a session-wide console would
    be the first folder's servers for every later test (starting it again costs nothing)."""
    assistant.start_console()
    return assistant
