"""Starts, supervises and stops the scaled-out deployment on one machine.

Every application process is the one `make run` starts (vietcx.rasa_server, vietcx.action_server,
vietcx.console), given the settings a shop gives it on its own machine: the product database and
the tracker store in PostgreSQL, Rasa's lock store and the rate limits in Redis, the action
servers reached through nginx (endpoints.cluster.yml reads them all from the environment). A
process that dies is started again, as systemd's `Restart=always` would.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import requests

from vietcx.cluster.services import POSTGRES_USER, Nginx, Postgres, Redis
from vietcx.settings import PROJECT, VAR, secret

logger = logging.getLogger(__name__)
ENDPOINTS = PROJECT / "endpoints.cluster.yml"
PRODUCT_DB = "vietcx"
TRACKER_DB = "rasa"
SERVERS = ("rasa-1", "rasa-2", "actions-1", "actions-2", "console")


@dataclass
class Ports:
    """Where each process listens (all on 127.0.0.1). The customers' address (`front`) and the
    console's are those of `make run`."""

    front: int = 5005
    actions_front: int = 5055
    console: int = 5080
    postgres: int = 5433
    redis: int = 6380
    rasa: list[int] = field(default_factory=lambda: [5105, 5106])
    actions: list[int] = field(default_factory=lambda: [5155, 5156])


@dataclass
class Cluster:
    """The whole deployment: `start()`, `stop()`, and the faults tests and benchmarks inject."""

    folder: Path = VAR / "cluster"
    ports: Ports = field(default_factory=Ports)
    model: Path = PROJECT / "models" / "assistant.tar.gz"
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.logs = Path(self.extra_env.get("VIETCX_LOG_DIR") or self.folder / "log")
        self.logs.mkdir(parents=True, exist_ok=True)
        self.postgres = Postgres(
            self.folder / "postgres",
            self.ports.postgres,
            self.extra_env.get("VIETCX_PG_PASSWORD")
            or secret("VIETCX_PG_PASSWORD", self.folder / "postgres-password"),
        )
        self.redis = Redis(
            self.folder / "redis",
            self.ports.redis,
            self.extra_env.get("VIETCX_REDIS_PASSWORD")
            or secret("VIETCX_REDIS_PASSWORD", self.folder / "redis-password"),
        )
        self.nginx = Nginx(
            self.folder / "nginx",
            self.ports.front,
            self.ports.actions_front,
            self.ports.rasa,
            self.ports.actions,
        )

    @property
    def url(self) -> str:
        """Where customers' channels reach the assistant (nginx)."""
        return f"http://127.0.0.1:{self.ports.front}"

    def server_url(self, name: str) -> str:
        """One application server's own address (`rasa-1`, `actions-2`, `console`)."""
        kind, _, number = name.partition("-")
        port = {"rasa": self.ports.rasa, "actions": self.ports.actions}.get(kind)
        return f"http://127.0.0.1:{port[int(number) - 1] if port else self.ports.console}"

    def environment(self) -> dict[str, str]:
        """The settings every application process gets: on separate machines, the same variables
        in each process's environment file (README, "Scaling out")."""
        redis_password = quote(self.redis.password, safe="")
        return {
            **os.environ,
            "VIETCX_DATABASE_URL": self.postgres.url(PRODUCT_DB),
            "VIETCX_ENDPOINTS": str(ENDPOINTS),
            "VIETCX_PG_HOST": "127.0.0.1",
            "VIETCX_PG_PORT": str(self.ports.postgres),
            "VIETCX_PG_USER": POSTGRES_USER,
            "VIETCX_PG_PASSWORD": self.postgres.password,
            "VIETCX_TRACKER_DB": TRACKER_DB,
            "VIETCX_REDIS_HOST": "127.0.0.1",
            "VIETCX_REDIS_PORT": str(self.ports.redis),
            "VIETCX_REDIS_PASSWORD": self.redis.password,
            "VIETCX_ACTION_ENDPOINT": f"http://127.0.0.1:{self.ports.actions_front}/webhook",
            "VIETCX_RATE_LIMIT_STORAGE": f"redis://:{redis_password}@127.0.0.1:{self.ports.redis}/2",
            "VIETCX_RASA_URL": self.url,
            "VIETCX_LOG_DIR": str(self.logs),
            # nginx says who the customer is (X-Forwarded-For): rate limits count per customer
            "SANIC_PROXIES_COUNT": "1",
            "SANIC_WORKERS": "1",
            # a conversation whose Rasa server died mid-turn waits this long for its lock (Rasa's
            # default is 60 s): longer than a turn that waits for the action servers to come back
            # (VIETCX_ACTION_RETRY_SECONDS, 30 s), shorter than a customer's patience
            "TICKET_LOCK_LIFETIME": "40",
            "OMP_NUM_THREADS": "1",
            **self.extra_env,
        }

    def _command(self, name: str) -> list[str]:
        kind, _, number = name.partition("-")
        if kind == "rasa":
            return [
                sys.executable, "-m", "vietcx.rasa_server", "--model", str(self.model), "--enable-api",
                "--interface", "127.0.0.1", "--port", str(self.ports.rasa[int(number) - 1]),
                "--endpoints", str(ENDPOINTS), "--credentials", str(PROJECT / "credentials.yml"),
            ]  # fmt: skip
        if kind == "actions":
            port = self.ports.actions[int(number) - 1]
            return [sys.executable, "-m", "vietcx.action_server", "--port", str(port)]
        return [sys.executable, "-m", "vietcx.console", "--port", str(self.ports.console)]

    def spawn(self, name: str) -> None:
        """Starts one application process (it may be running elsewhere: nothing is shared in memory)."""
        env = self.environment()
        run = self.folder / "run" / name
        for folder in ("ready", "metrics"):
            path = run / folder
            path.mkdir(parents=True, exist_ok=True)
            for stale in path.iterdir():
                stale.unlink()
        env["VIETCX_READY_DIR"] = str(run / "ready")
        env["PROMETHEUS_MULTIPROC_DIR"] = str(run / "metrics")
        with open(self.logs / f"{name}.out", "ab") as out:
            self.processes[name] = subprocess.Popen(
                self._command(name), cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def ready(self, name: str) -> bool:
        """The process answers its health check (a Rasa server: once its model is warm)."""
        if name.startswith("rasa") and not any((self.folder / "run" / name / "ready").glob("rasa-*")):
            return False
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{self.server_url(name)}/health", timeout=3).status_code == 200
        return False

    def wait_ready(self, names: tuple[str, ...] = SERVERS, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(names)
        while waiting:
            for name in list(waiting):
                process = self.processes[name]
                if process.poll() is not None:
                    printed = (self.logs / f"{name}.out").read_text(errors="replace").splitlines()[-15:]
                    raise RuntimeError(f"{name} stopped at start; see {self.logs}:\n" + "\n".join(printed))
                if self.ready(name):
                    waiting.remove(name)
            if waiting and time.monotonic() > deadline:
                raise TimeoutError(f"not ready within {timeout} s: {', '.join(waiting)}; see {self.logs}")
            time.sleep(0.5)

    def start_postgres(self) -> None:
        self.processes["postgres"] = self.postgres.start(self.logs / "postgres.log")
        self.postgres.wait()

    def start(self) -> None:
        """Starts every process and returns when all of them serve."""
        self.start_postgres()
        self.postgres.create_databases(PRODUCT_DB, TRACKER_DB)
        self.processes["redis"] = self.redis.start(self.logs / "redis.log")
        self.redis.wait()
        self.processes["nginx"] = self.nginx.start(self.logs)
        for name in SERVERS:
            self.spawn(name)
        self.wait_ready()

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Ends one process at once (a fault), or gently with SIGTERM."""
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(timeout=60)

    def restart(self, name: str) -> None:
        """Stops one process (gently) and starts it again, waiting until it serves."""
        self.kill(name, signal.SIGINT if name == "postgres" else signal.SIGTERM)
        if name == "postgres":
            self.start_postgres()
        else:
            self.spawn(name)
            self.wait_ready((name,))

    def supervise(self, pause: float = 1.0) -> None:
        """Starts again any application process that died, until interrupted."""
        while True:
            for name in SERVERS:
                process = self.processes.get(name)
                if process is not None and process.poll() is not None:
                    logger.warning("%s stopped (exit %s): starting it again", name, process.returncode)
                    self.spawn(name)
            time.sleep(pause)

    def stop(self) -> None:
        """Stops the application processes, then nginx, Redis and PostgreSQL."""
        order = [n for n in SERVERS if n in self.processes] + ["nginx", "redis", "postgres"]
        for name in order:
            process = self.processes.get(name)
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGINT if name == "postgres" else signal.SIGTERM)
        for name in order:
            process = self.processes.pop(name, None)
            if process is None:
                continue
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
