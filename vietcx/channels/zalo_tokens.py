"""Zalo OA's access token, kept fresh for every process of the product.

Zalo's OAuth v4 (developers.zalo.me, "Official Account API: lấy access token từ refresh token"):
`POST {VIETCX_ZALO_OAUTH_URL}/v4/oa/access_token` with the app's secret key in a `secret_key` header
and the form `refresh_token`, `app_id`, `grant_type=refresh_token` answers
`{"access_token", "refresh_token", "expires_in"}` (seconds, about 25 hours) or `{"error": <negative>,
"error_name", "error_description"}`. Each refresh token works once: the pair lives in the product
database (`vietcx.store.tokens`), the settings' pair only seeds it, and one process at a time
refreshes (the others wait for its result).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import aiohttp

from vietcx.store import tokens

logger = logging.getLogger(__name__)
PLATFORM = "zalo"
REFRESH_MARGIN_SECONDS = 3600  # refresh when the access token has less than an hour left
WAIT_FOR_OTHER_SECONDS = 15  # how long to wait for another process's refresh
SEED_LIFETIME_SECONDS = 2 * 3600  # the settings' access token: its age is unknown (Zalo says -216 if gone)


def oauth_url() -> str:
    return (os.environ.get("VIETCX_ZALO_OAUTH_URL") or "https://oauth.zaloapp.com").rstrip("/")


class TokenKeeper:
    """The current access token; refreshes it before it expires and when Zalo says it is invalid."""

    def __init__(self, app_id: str, app_secret: str, http: Callable[[], aiohttp.ClientSession]) -> None:
        self._app_id = app_id
        self._app_secret = app_secret
        self._http = http
        self._seeded = False

    async def current(self) -> str | None:
        """An access token with time left (refreshed first when it has not), or None if none works."""
        pair = await self._stored()
        if pair is None:
            return None
        if pair.expires_within(REFRESH_MARGIN_SECONDS):
            return await self.refresh(pair.access_token) or pair.access_token
        return pair.access_token

    async def refresh(self, rejected: str) -> str | None:
        """A new access token in place of `rejected`: refreshed here if no other process is doing it
        (or has just done it), else the other's result."""
        loop = asyncio.get_running_loop()
        claim = functools.partial(tokens.claim_refresh, PLATFORM, rejected)
        if not await loop.run_in_executor(None, claim):
            return await self._refreshed_elsewhere(rejected)
        pair = await loop.run_in_executor(None, tokens.get, PLATFORM)
        try:
            fresh = await self._ask_zalo(pair.refresh_token) if pair else None
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.error("Zalo token refresh failed (%s)", type(error).__name__)
            fresh = None
        if fresh is None:
            await loop.run_in_executor(None, tokens.release, PLATFORM)
            return None
        await loop.run_in_executor(None, tokens.save, PLATFORM, fresh)
        logger.info("Zalo access token refreshed; it expires at %s", fresh.expires_at.isoformat())
        return fresh.access_token

    async def _ask_zalo(self, refresh_token: str) -> tokens.Tokens | None:
        form = {"refresh_token": refresh_token, "app_id": self._app_id, "grant_type": "refresh_token"}
        async with self._http().post(
            f"{oauth_url()}/v4/oa/access_token", data=form, headers={"secret_key": self._app_secret}
        ) as answer:
            body = await answer.json(content_type=None)
        if not isinstance(body, dict) or not body.get("access_token") or not body.get("refresh_token"):
            said = body.get("error_name") or body.get("error") if isinstance(body, dict) else None
            logger.error("Zalo refused to refresh the access token: %s", said)
            return None
        lifetime = int(body.get("expires_in") or 90000)
        expires = datetime.now(timezone.utc) + timedelta(seconds=lifetime)
        return tokens.Tokens(str(body["access_token"]), str(body["refresh_token"]), expires)

    async def _refreshed_elsewhere(self, rejected: str) -> str | None:
        """Waits for the process that is refreshing; its new token, or None if it gave up."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + WAIT_FOR_OTHER_SECONDS
        while time.monotonic() < deadline:
            pair = await loop.run_in_executor(None, tokens.get, PLATFORM)
            if pair is not None and pair.access_token != rejected:
                return pair.access_token
            await asyncio.sleep(0.2)
        return None

    async def _stored(self) -> tokens.Tokens | None:
        """The database's pair, seeded once from VIETCX_ZALO_ACCESS_TOKEN / VIETCX_ZALO_REFRESH_TOKEN."""
        loop = asyncio.get_running_loop()
        if not self._seeded:
            access = os.environ.get("VIETCX_ZALO_ACCESS_TOKEN") or ""
            refresh = os.environ.get("VIETCX_ZALO_REFRESH_TOKEN") or ""
            if access and refresh:
                expires = datetime.now(timezone.utc) + timedelta(seconds=SEED_LIFETIME_SECONDS)
                seed = functools.partial(tokens.seed, PLATFORM, tokens.Tokens(access, refresh, expires))
                await loop.run_in_executor(None, seed)
            self._seeded = True
        return await loop.run_in_executor(None, tokens.get, PLATFORM)
