"""A local stand-in for Zalo's OA API v3 and OAuth v4, answering as Zalo documents them: HTTP 200
with `{"error": 0, "message": "Success", "data": …}`, or a negative error code (-216 invalid access
token, -230 outside the 7-day window, -32 rate limit), and single-use refresh tokens."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

from fake_http import JsonHandler, serving


class FakeZalo:
    """Records what the OA sends; its tokens, the followers' names and the failures tests ask for."""

    def __init__(self, env: dict[str, str]) -> None:
        self.app_id = env["VIETCX_ZALO_APP_ID"]
        self.app_secret = env["VIETCX_ZALO_APP_SECRET"]
        self.access_token = env["VIETCX_ZALO_ACCESS_TOKEN"]
        self.refresh_token = env["VIETCX_ZALO_REFRESH_TOKEN"]
        self.names: dict[str, str] = {}  # user id → display name
        self.outside_window: set[str] = set()  # users the OA may no longer message (-230)
        self.sent: list[dict] = []
        self.arrivals: dict[
            str, list[float]
        ] = {}  # recipient → time.monotonic() of each message (benchmarks)
        self.profile_calls: list[str] = []
        self.refreshes = 0
        self.refused_refreshes = 0
        self.failures = 0  # the next calls of the send API answer 500
        self.lock = threading.Lock()

    def to(self, user_id: str) -> list[dict]:
        with self.lock:
            return [m["message"] for m in self.sent if m["recipient"]["user_id"] == user_id]

    def expire(self) -> None:
        """The access token stops working (Zalo's are valid about 25 hours)."""
        with self.lock:
            self.access_token = "zat-" + secrets.token_urlsafe(24)


@contextmanager
def fake_zalo(port: int, env: dict[str, str]) -> Iterator[FakeZalo]:
    zalo = FakeZalo(env)

    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            if url.path != "/v3.0/oa/user/detail":
                return self._answer(404, {"error": 404, "message": "Not found"})
            if not self._authorised():
                return None
            user = json.loads(parse_qs(url.query).get("data", ["{}"])[0]).get("user_id", "")
            with zalo.lock:
                zalo.profile_calls.append(user)
                name = zalo.names.get(user)
            if name is None:
                return self._answer(200, {"error": -213, "message": "User has not followed the OA"})
            data = {"user_id": user, "display_name": name, "user_is_follower": True}
            return self._answer(200, {"error": 0, "message": "Success", "data": data})

        def do_POST(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path == "/v4/oa/access_token":
                return self._refresh(parse_qs(raw.decode()))
            if url.path != "/v3.0/oa/message/cs":
                return self._answer(404, {"error": 404, "message": "Not found"})
            if not self._authorised():
                return None
            body = json.loads(raw or b"{}")
            with zalo.lock:
                failing = zalo.failures > 0
                zalo.failures -= 1 if failing else 0
            if failing:
                return self._answer(500, {"error": -500, "message": "Internal error"})
            user = str((body.get("recipient") or {}).get("user_id") or "")
            if user in zalo.outside_window:
                return self._answer(
                    200, {"error": -230, "message": "User has not interacted with the OA in the past 7 days"}
                )
            buttons = (((body.get("message") or {}).get("attachment") or {}).get("payload") or {}).get(
                "buttons"
            )
            if buttons is not None and not 1 <= len(buttons) <= 5:
                return self._answer(200, {"error": -201, "message": "Parameters invalid: buttons"})
            with zalo.lock:
                zalo.sent.append(body)
                zalo.arrivals.setdefault(user, []).append(time.monotonic())
                number = len(zalo.sent)
            data = {"message_id": f"zmsg{number}", "user_id": user}
            return self._answer(200, {"error": 0, "message": "Success", "data": data})

        def _authorised(self) -> bool:
            if self.headers.get("access_token") != zalo.access_token:
                self._answer(200, {"error": -216, "message": "Access token is invalid"})
                return False
            return True

        def _refresh(self, form: dict[str, list[str]]) -> None:
            given = form.get("refresh_token", [""])[0]
            with zalo.lock:
                good = (
                    self.headers.get("secret_key") == zalo.app_secret
                    and form.get("app_id", [""])[0] == zalo.app_id
                    and form.get("grant_type", [""])[0] == "refresh_token"
                    and given == zalo.refresh_token
                )
                if not good:
                    zalo.refused_refreshes += 1
                    answer = {"error": -14014, "error_name": "Invalid refresh token", "error_reason": ""}
                else:
                    zalo.refreshes += 1
                    zalo.access_token = "zat-" + secrets.token_urlsafe(24)
                    zalo.refresh_token = "zrt-" + secrets.token_urlsafe(24)  # the old one is spent
                    answer = {
                        "access_token": zalo.access_token,
                        "refresh_token": zalo.refresh_token,
                        "expires_in": "90000",
                    }
            self._answer(200, answer)

    with serving(port, Handler):
        yield zalo
