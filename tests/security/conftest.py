"""The attack suite's own servers, with the product's default limits (the shared servers of the
other tests raise the per-conversation limits for scripted conversations)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness import Assistant, running_assistant
from vietcx.channels.throttle import DEFAULTS


@pytest.fixture(scope="package")
def guarded() -> Iterator[Assistant]:
    """The real Rasa and action servers as shipped: every limit at its default."""
    defaults = {f"VIETCX_LIMIT_{kind.upper()}": limit for kind, limit in DEFAULTS.items()}
    with running_assistant(extra_env=defaults) as running:
        yield running
