"""Start the real Rasa server and action server on free local ports, for tests and benchmarks.

Both run as child processes exactly as `make run` starts them (same modules, same files), bound to
127.0.0.1, with an endpoints file pointing Rasa at the action server's port and fresh secrets; the
calls below authenticate as the shop's own programs do (REST token, Rasa API token).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from vietcx.cluster.launcher import Cluster, Ports
from vietcx.rasa_api import auth_header
from vietcx.settings import PROJECT, for_staff_file, kb_file

DEFAULT_MODEL = PROJECT / "models" / "assistant.tar.gz"
QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TOKENIZERS_PARALLELISM": "false",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    """Polls `url` until it answers 200; fails early with the log's tail if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}:\n{_tail(log)}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


@dataclass
class Assistant:
    """A running pair of servers and the calls tests make on them."""

    workdir: Path
    model: Path
    env: dict[str, str]
    rasa_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    console_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    @property
    def kb_file(self) -> Path:
        """The action server's own copy of the knowledge base, which tests may edit."""
        return Path(self.env["VIETCX_KB_FILE"])

    @property
    def database_url(self) -> str:
        """The product database the action server writes to."""
        return self.env["VIETCX_DATABASE_URL"]

    def start(self) -> None:
        """Starts whichever of the two servers is not running and waits for both."""
        if "actions" not in self.processes:
            self._spawn(
                "actions",
                [sys.executable, "-m", "vietcx.action_server", "--port", str(self.actions_port)],
                f"http://127.0.0.1:{self.actions_port}/health",
            )
        if "rasa" not in self.processes:
            endpoints = self.workdir / "endpoints.yml"
            endpoints.write_text(
                f'action_endpoint:\n  url: "http://127.0.0.1:{self.actions_port}/webhook"\n'
                f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{self.workdir / "tracker.db"}"\n'
                "lock_store:\n  type: vietcx.store.locks.DatabaseLockStore\n"
                "event_broker:\n  type: vietcx.store.sentiment_queue.SentimentQueue\n",
                encoding="utf-8",
            )
            command = [
                sys.executable,
                "-m",
                "vietcx.rasa_server",
                "--model",
                str(self.model),
                "--enable-api",
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.rasa_port),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(PROJECT / "credentials.yml"),
            ]
            for stale in Path(self.env["VIETCX_READY_DIR"]).glob("rasa-*"):
                stale.unlink()
            self._spawn("rasa", command, f"{self.url}/webhooks/rest/")
            self._wait_for_every_worker()

    def _wait_for_every_worker(self, timeout: float = 240) -> None:
        """With several Rasa processes (SANIC_WORKERS, as `make run` starts them), the first one up
        answers before the others have warmed their models: wait for each one's ready file."""
        workers = int(self.env.get("SANIC_WORKERS", "1"))
        ready = Path(self.env["VIETCX_READY_DIR"])
        deadline = time.monotonic() + timeout
        while len(list(ready.glob("rasa-*"))) < workers:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{workers} Rasa processes not ready:\n{_tail(self.workdir / 'rasa.log')}")
            time.sleep(0.5)

    def start_console(self) -> None:
        """Starts the staff console too (tests that need it ask for it)."""
        if "console" not in self.processes:
            self.env["VIETCX_RASA_URL"] = self.url
            command = [sys.executable, "-m", "vietcx.console", "--port", str(self.console_port)]
            self._spawn("console", command, f"{self.console_url}/health")

    def stop(self, name: str | None = None) -> None:
        """Stops one server (`rasa`, `actions` or `console`) or all."""
        for key in [name] if name else list(self.processes):
            process = self.processes.pop(key, None)
            if process and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def restart(self, name: str | None = None) -> None:
        """Stops and starts one server or both (state must survive: it lives in the database)."""
        self.stop(name)
        self.start()

    def _spawn(self, name: str, command: list[str], health_url: str) -> None:
        log = self.workdir / f"{name}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(
                command, cwd=PROJECT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.processes[name] = process
        wait_until_up(health_url, process, log)

    @property
    def rest_headers(self) -> dict[str, str]:
        """What the shop's own programs show the REST channel."""
        return {"Authorization": f"Bearer {self.env['VIETCX_REST_TOKEN']}"}

    @property
    def api_headers(self) -> dict[str, str]:
        """A short-lived token for Rasa's HTTP API."""
        return auth_header(self.env["VIETCX_RASA_JWT_SECRET"])

    def staff_session(
        self, username: str, password: str, client: requests.Session | None = None
    ) -> requests.Session:
        """A browser (`client`, else a new one) signed in to the console (start it first) as an
        existing staff account."""
        client = client or requests.Session()
        login = f"{self.console_url}/login"
        answer = client.post(
            login,
            data={"csrf_token": form_token(client, login), "username": username, "password": password},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 302, answer.status_code
        return client

    def staff_reply(self, client: requests.Session, escalation_id: int, text: str) -> None:
        """A staff member takes the escalation and replies, as in the console's page."""
        page = f"{self.console_url}/escalations/{escalation_id}"
        for action, data in (("take", {}), ("reply", {"text": text})):
            answer = client.post(
                f"{page}/{action}",
                data={"csrf_token": form_token(client, page), **data},
                allow_redirects=False,
                timeout=30,
            )
            assert answer.status_code in (302, 303), (action, answer.status_code)

    def chat(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list:
        """Sends one customer message over the REST channel and returns the bot's replies."""
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        reply = requests.post(
            f"{self.url}/webhooks/rest/webhook", json=body, headers=self.rest_headers, timeout=60
        )
        reply.raise_for_status()
        return reply.json()

    def web_conversation(self, identity: str | None = None) -> str:
        """A new conversation token of the web page (for a signed-in customer with `identity`)."""
        reply = requests.post(
            f"{self.url}/webhooks/web/session", json={"identity": identity} if identity else {}, timeout=30
        )
        reply.raise_for_status()
        return reply.json()["token"]

    def web_chat(self, token: str, text: str, ack: int = 0) -> list:
        """Sends one message as the web page does and returns the bot's replies."""
        reply = requests.post(
            f"{self.url}/webhooks/web/webhook",
            json={"message": text, "ack": ack},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        reply.raise_for_status()
        return reply.json()

    def trigger_intent(self, sender: str, intent: str) -> list[dict]:
        """An intent given to a conversation through Rasa's API (customers cannot send intents);
        returns the bot's messages."""
        reply = requests.post(
            f"{self.url}/conversations/{quote(sender, safe='')}/trigger_intent",
            json={"name": intent},
            headers=self.api_headers,
            timeout=60,
        )
        reply.raise_for_status()
        return reply.json()["messages"]

    def new_session(self, sender: str) -> None:
        """The customer comes back later: a new session starts."""
        self.trigger_intent(sender, "session_start")

    def parse(self, text: str) -> dict[str, Any]:
        """The NLU result for a text (`/model/parse`)."""
        reply = requests.post(
            f"{self.url}/model/parse", json={"text": text}, headers=self.api_headers, timeout=60
        )
        reply.raise_for_status()
        return reply.json()

    def tracker(self, sender: str) -> dict[str, Any]:
        """The stored conversation of a sender."""
        reply = requests.get(
            f"{self.url}/conversations/{quote(sender, safe='')}/tracker", headers=self.api_headers, timeout=60
        )
        reply.raise_for_status()
        return reply.json()

    def log(self, name: str) -> str:
        """Everything a server has written so far."""
        return (self.workdir / f"{name}.log").read_text(errors="replace")


def form_token(client: requests.Session, url: str) -> str:
    """The CSRF token of the console page at `url`."""
    page = client.get(url, timeout=30)
    found = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page.text)
    assert found, f"no form on {url} ({page.status_code})"
    return found.group(1)


def reply_text(replies: list[dict]) -> str:
    """All the text the assistant sent back, in one string."""
    return " ".join(r.get("text", "") for r in replies)


def reply_buttons(replies: list[dict]) -> list[dict]:
    """All the buttons the assistant sent back."""
    return [b for r in replies for b in r.get("buttons", [])]


def zalo_env(port: int) -> dict[str, str]:
    """Settings of a Zalo OA whose API is a local fake on `port` (tests/e2e/fake_zalo.py)."""
    return {
        "VIETCX_ZALO_APP_ID": str(secrets.randbelow(10**18)),
        "VIETCX_ZALO_APP_SECRET": secrets.token_urlsafe(15),
        "VIETCX_ZALO_OA_SECRET": secrets.token_urlsafe(15),
        "VIETCX_ZALO_ACCESS_TOKEN": "zat-" + secrets.token_urlsafe(24),
        "VIETCX_ZALO_REFRESH_TOKEN": "zrt-" + secrets.token_urlsafe(24),
        "VIETCX_ZALO_API_URL": f"http://127.0.0.1:{port}",
        "VIETCX_ZALO_OAUTH_URL": f"http://127.0.0.1:{port}",
    }


def server_settings(workdir: Path) -> dict[str, str]:
    """Fresh secrets, fakes of the platforms and test-friendly limits, as every test server gets
    (and a copy of the knowledge base to edit, with the questions only staff answer beside it)."""
    if for_staff_file().exists():
        shutil.copy(for_staff_file(), workdir / for_staff_file().name)
    return {
        "VIETCX_KB_FILE": str(shutil.copy(kb_file(), workdir / "faq.yml")),
        "VIETCX_SWEEP_SECONDS": "2",
        "VIETCX_STAFF_HOURS": "00:00-24:00",  # staff always on duty unless a test says otherwise
        "VIETCX_CONSOLE_SECRET": secrets.token_hex(32),
        "VIETCX_REST_TOKEN": secrets.token_hex(32),
        "VIETCX_RASA_JWT_SECRET": secrets.token_hex(32),
        "VIETCX_WEB_SESSION_SECRET": secrets.token_hex(32),
        "VIETCX_WEB_IDENTITY_SECRET": secrets.token_hex(32),
        "VIETCX_PSEUDONYM_SECRET": secrets.token_hex(32),
        # Messenger's page, with the Graph API played by a fake the tests start on this port
        "VIETCX_MESSENGER_APP_SECRET": secrets.token_hex(16),
        "VIETCX_MESSENGER_VERIFY_TOKEN": secrets.token_hex(8),
        "VIETCX_MESSENGER_PAGE_TOKEN": "EAAG" + secrets.token_hex(20),
        "VIETCX_GRAPH_URL": f"http://127.0.0.1:{free_port()}/v19.0",
        # a Zalo OA, with Zalo's OA API and OAuth played by one fake the tests start on this port
        **zalo_env(free_port()),
        # scripted conversations type faster than any customer: the product's own limits are
        # exercised by tests/security against servers of their own
        "VIETCX_LIMIT_CONVERSATION": "1000/second",
        "VIETCX_LIMIT_FLOOD": "10000/minute",
    }


@contextlib.contextmanager
def running_assistant(
    model: Path = DEFAULT_MODEL, extra_env: dict[str, str] | None = None
) -> Iterator[Assistant]:
    """Runs both servers for the duration of a `with` block, in a temporary working folder."""
    if not model.exists():
        raise FileNotFoundError(f"{model} is missing: run `make train` first")
    with tempfile.TemporaryDirectory(prefix="vietcx-") as workdir:
        env = {
            **os.environ,
            **QUIET_ENV,
            **server_settings(Path(workdir)),
            "VIETCX_DATABASE_URL": f"sqlite:///{Path(workdir) / 'vietcx.db'}",
            "VIETCX_ENDPOINTS": str(Path(workdir) / "endpoints.yml"),
            "VIETCX_READY_DIR": str(Path(workdir) / "ready"),
            "PROMETHEUS_MULTIPROC_DIR": str(Path(workdir) / "metrics"),
            **(extra_env or {}),
        }
        (Path(workdir) / "ready").mkdir()
        (Path(workdir) / "metrics").mkdir()
        assistant = Assistant(Path(workdir), model, env)
        try:
            assistant.start()
            yield assistant
        finally:
            assistant.stop()


@contextlib.contextmanager
def running_cluster(extra_env: dict[str, str] | None = None) -> Iterator[Cluster]:
    """The deployment of `make cluster` (vietcx/cluster/) on free ports in a folder of its own, with
    the test servers' settings, for the duration of a `with` block."""
    folder = Path(tempfile.mkdtemp(prefix="vietcx-cluster-"))
    folder.chmod(0o755)  # PostgreSQL runs as its own account when run as root
    ports = Ports(
        front=free_port(), actions_front=free_port(), console=free_port(), postgres=free_port(),
        redis=free_port(), rasa=[free_port(), free_port()], actions=[free_port(), free_port()],
    )  # fmt: skip
    env = {**QUIET_ENV, **server_settings(folder), **(extra_env or {})}
    cluster = Cluster(folder=folder, ports=ports, extra_env=env)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
