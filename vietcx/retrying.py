"""Pauses between tries of work that failed for a reason that passes (a server restarting).

One schedule for every retry of the product: the Rasa server's calls of the action servers and of
the tracker store, the action server's database work.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator


def pauses(setting: str, default: float, first: float = 0.1, longest: float = 2.0) -> Iterator[float]:
    """The pauses before each new try, doubling from `first` up to `longest`, until the seconds of
    environment variable `setting` (else `default`) have passed: then the work has failed."""
    deadline = time.monotonic() + float(os.environ.get(setting, default))
    pause = first
    while time.monotonic() + pause <= deadline:
        yield pause
        pause = min(pause * 2, longest)
