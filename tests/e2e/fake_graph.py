"""A local stand-in for Meta's Graph API (the Send API and the user profile), answering as Meta
documents it, including the error for a message outside the allowed window (code 10, subcode 2018278)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

from fake_http import JsonHandler, serving


class FakeGraph:
    """Records every message sent; fails the next `failures` calls with a 500 when asked to."""

    def __init__(self, page_token: str) -> None:
        self.page_token = page_token
        self.sent: list[dict] = []
        self.arrivals: dict[
            str, list[float]
        ] = {}  # recipient → time.monotonic() of each message (benchmarks)
        self.failures = 0
        self.profiles: dict[str, dict[str, str]] = {}  # psid → {"first_name", "last_name"}
        self.profile_calls: list[str] = []
        self.lock = threading.Lock()

    def to(self, psid: str) -> list[dict]:
        with self.lock:
            return [m["message"] for m in self.sent if m["recipient"]["id"] == psid]


@contextmanager
def fake_graph(port: int, page_token: str) -> Iterator[FakeGraph]:
    graph = FakeGraph(page_token)

    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            psid = url.path.rstrip("/").rsplit("/", 1)[-1]
            if parse_qs(url.query).get("access_token", [""])[0] != graph.page_token:
                return self._answer(400, {"error": {"message": "Invalid OAuth access token.", "code": 190}})
            with graph.lock:
                graph.profile_calls.append(psid)
                profile = graph.profiles.get(psid)
            if profile is None:
                return self._answer(
                    400,
                    {
                        "error": {
                            "message": "No profile available for that user.",
                            "code": 100,
                            "error_subcode": 2018218,
                        }
                    },
                )
            return self._answer(200, {**profile, "id": psid})

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            token = parse_qs(url.query).get("access_token", [""])[0]
            with graph.lock:
                failing = graph.failures > 0
                graph.failures -= 1 if failing else 0
            if not url.path.endswith("/me/messages"):
                return self._answer(404, {"error": {"message": "Unknown path", "code": 803}})
            if token != graph.page_token:
                return self._answer(
                    400,
                    {
                        "error": {
                            "message": "Invalid OAuth access token.",
                            "type": "OAuthException",
                            "code": 190,
                        }
                    },
                )
            if failing:
                return self._answer(
                    500, {"error": {"message": "An unexpected error has occurred.", "code": 2}}
                )
            with graph.lock:
                graph.sent.append(body)
                graph.arrivals.setdefault(body["recipient"]["id"], []).append(time.monotonic())
                number = len(graph.sent)
            self._answer(200, {"recipient_id": body["recipient"]["id"], "message_id": f"m_fake_{number}"})

    with serving(port, Handler):
        yield graph
