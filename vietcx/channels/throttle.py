"""Rate limits of the channels, counted by the `limits` library (moving windows).

Each limit is a `limits` string, configurable by environment variable:

VIETCX_LIMIT_CONVERSATION    messages of one conversation before the customer is asked, politely,
                             to slow down (default "8/10second": a fast typist splitting a sentence
                             stays under it)
VIETCX_LIMIT_FLOOD           messages of one conversation before requests are refused with 429
                             (default "40/minute")
VIETCX_LIMIT_ADDRESS         requests from one address to the public web routes (default
                             "300/minute": a shop's office behind one address stays under it)
VIETCX_LIMIT_NEW_CONVERSATION  new web conversations from one address (default "30/minute")
VIETCX_LIMIT_UPDATES         polls of `/updates` by one conversation (default "40/minute"; the page
                             polls every 3 s)

Counters live where `VIETCX_RATE_LIMIT_STORAGE` says (memory:// for one server, redis:// shared by
several).
"""

from __future__ import annotations

import functools
import os

from limits import RateLimitItem, parse_many, storage, strategies

from vietcx.settings import rate_limit_storage

DEFAULTS = {
    "conversation": "8/10second",
    "flood": "40/minute",
    "address": "300/minute",
    "new_conversation": "30/minute",
    "updates": "40/minute",
}


@functools.lru_cache(maxsize=1)
def _storage() -> storage.Storage:
    return storage.storage_from_string(rate_limit_storage())


@functools.lru_cache(maxsize=1)
def _limiter() -> strategies.MovingWindowRateLimiter:
    # the limiter holds its storage by a weak reference only: the cached _storage() keeps it alive
    return strategies.MovingWindowRateLimiter(_storage())


@functools.cache
def _limits(kind: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(os.environ.get(f"VIETCX_LIMIT_{kind.upper()}") or DEFAULTS[kind]))


def allow(kind: str, key: str) -> bool:
    """Counts one request of `kind` for `key`; False once any of that kind's limits is exceeded."""
    limiter = _limiter()
    return all([limiter.hit(limit, kind, key) for limit in _limits(kind)])
