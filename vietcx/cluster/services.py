"""Private instances of Debian's PostgreSQL, Redis and nginx, each kept under one folder.

Nothing here touches the machine's own services: each daemon gets its own data folder,
configuration, port on 127.0.0.1 and log, and runs in the foreground as a child process, so
stopping the launcher stops it. PostgreSQL refuses to run as root: under root its files belong
to the `postgres` account the Debian package creates, and it runs as that account.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import redis
from psycopg2 import sql
from sqlalchemy.engine import URL

from vietcx.store.db import url_text

POSTGRES_USER = "vietcx"  # the cluster's own superuser (not the machine's `postgres`)


def _postgres_bin() -> Path:
    """The newest PostgreSQL server programs installed by Debian's packages."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name)
    )
    if not found:
        raise FileNotFoundError("PostgreSQL is not installed: run scripts/setup-cluster.sh")
    return found[-1].parent


def _as_root() -> bool:
    return os.geteuid() == 0


@dataclass
class Postgres:
    """A PostgreSQL cluster in `folder`, listening on 127.0.0.1:`port`, password auth only."""

    folder: Path
    port: int
    password: str

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str) -> str:
        """SQLAlchemy URL of one database of this cluster (the password quoted by URL rules)."""
        return url_text(
            URL.create("postgresql+psycopg2", POSTGRES_USER, self.password, "127.0.0.1", self.port, database)
        )

    def _owned(self, path: Path) -> None:
        if _as_root():
            shutil.chown(path, "postgres", "postgres")

    def _run_as_owner(self) -> dict[str, str]:
        return {"user": "postgres", "group": "postgres"} if _as_root() else {}

    def initialise(self, log: Path) -> None:
        """Creates the cluster on first start (initdb), owned by whoever will run it."""
        if (self.data / "PG_VERSION").exists():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)  # the postgres account must reach its folder
        self.data.mkdir(mode=0o700, exist_ok=True)
        self._owned(self.data)
        password_file = self.folder / ".initdb-password"
        password_file.write_text(self.password, encoding="utf-8")
        password_file.chmod(0o600)
        self._owned(password_file)
        try:
            with open(log, "ab") as out:
                subprocess.run(
                    [
                        str(_postgres_bin() / "initdb"),
                        "-D", str(self.data),
                        "-U", POSTGRES_USER,
                        f"--pwfile={password_file}",
                        "--auth-host=scram-sha-256",
                        "--auth-local=scram-sha-256",
                        "-E", "UTF8",
                        "--no-locale",
                    ],
                    check=True, stdout=out, stderr=subprocess.STDOUT, cwd="/",
                    **self._run_as_owner(),
                )  # fmt: skip
        finally:
            password_file.unlink(missing_ok=True)

    def start(self, log: Path) -> subprocess.Popen:
        """Starts the server in the foreground (a child of the caller)."""
        self.initialise(log)
        sockets = self.folder / "run"
        sockets.mkdir(exist_ok=True)
        self._owned(sockets)
        with open(log, "ab") as out:
            return subprocess.Popen(
                [
                    str(_postgres_bin() / "postgres"),
                    "-D", str(self.data),
                    "-p", str(self.port),
                    "-k", str(sockets),
                    "-c", "listen_addresses=127.0.0.1",
                    "-c", "max_connections=200",
                    "-c", "fsync=on",
                ],
                stdout=out, stderr=subprocess.STDOUT, cwd="/", start_new_session=True,
                **self._run_as_owner(),
            )  # fmt: skip

    def connect(self, database: str = "postgres") -> psycopg2.extensions.connection:
        return psycopg2.connect(
            host="127.0.0.1", port=self.port, user=POSTGRES_USER, password=self.password,
            dbname=database, connect_timeout=3,
        )  # fmt: skip

    def wait(self, timeout: float = 60) -> None:
        """Until the server accepts connections."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.connect().close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def create_databases(self, *names: str) -> None:
        """Creates the databases that do not exist yet."""
        connection = self.connect()
        connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
        try:
            with connection.cursor() as cursor:
                for name in names:
                    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                    if cursor.fetchone() is None:
                        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            connection.close()


@dataclass
class Redis:
    """A Redis server on 127.0.0.1:`port` with a password, keeping nothing on disk (it holds only
    locks and rate-limit counters, which are worthless after a restart)."""

    folder: Path
    port: int
    password: str

    def start(self, log: Path) -> subprocess.Popen:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "redis.conf"  # the password stays out of the process list
        config.write_text(
            f"bind 127.0.0.1\nport {self.port}\nrequirepass {self.password}\n"
            f'save ""\nappendonly no\ndir {self.folder}\nprotected-mode yes\n',
            encoding="utf-8",
        )
        config.chmod(0o600)
        with open(log, "ab") as out:
            return subprocess.Popen(
                [shutil.which("redis-server") or "/usr/bin/redis-server", str(config)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def wait(self, timeout: float = 30) -> None:
        client = redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_timeout=2)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


@dataclass
class Nginx:
    """nginx in front of the Rasa servers (`port`) and of the action servers (`actions_port`).

    A request goes to the next server when the first cannot be reached or answers 502/503/504
    (its /health says 503 when it cannot serve); a customer's message (a POST) that reached a
    server that then died is not sent again, since it may have been handled already."""

    folder: Path
    port: int
    actions_port: int
    rasa_ports: list[int]
    action_ports: list[int]

    def config(self, log_dir: Path) -> str:
        user = f"user {getpass.getuser()};\n" if _as_root() else ""
        temp = self.folder / "tmp"

        def upstream(name: str, ports: list[int]) -> str:
            servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=3s;\n" for p in ports)
            return f"  upstream {name} {{\n{servers}    keepalive 32;\n  }}\n"

        def server(port: int, backend: str, read_timeout: str) -> str:
            return (
                f"  server {{\n    listen 127.0.0.1:{port};\n    client_max_body_size 1m;\n"
                f"    location / {{\n      proxy_pass http://{backend};\n"
                '      proxy_http_version 1.1;\n      proxy_set_header Connection "";\n'
                "      proxy_set_header Host $host;\n"
                "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
                "      proxy_set_header X-Forwarded-Proto $scheme;\n"
                "      proxy_next_upstream error timeout http_502 http_503 http_504;\n"
                "      proxy_connect_timeout 2s;\n"
                f"      proxy_read_timeout {read_timeout};\n"
                "      proxy_buffering off;\n    }\n  }\n"
            )

        return (
            f"{user}worker_processes 1;\ndaemon off;\npid {self.folder / 'nginx.pid'};\n"
            f"error_log {log_dir / 'nginx-error.log'} warn;\n"
            "events {\n  worker_connections 4096;\n}\n"
            "http {\n"
            f"  access_log {log_dir / 'nginx-access.log'};\n"
            f"  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n"
            f"  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n"
            f"  scgi_temp_path {temp}/scgi;\n"
            + upstream("rasa", self.rasa_ports)
            + upstream("actions", self.action_ports)
            # the web page's reply stream stays open for as long as the page does
            + server(self.port, "rasa", "1h")
            + server(self.actions_port, "actions", "60s")
            + "}\n"
        )

    def start(self, log_dir: Path) -> subprocess.Popen:
        (self.folder / "tmp").mkdir(parents=True, exist_ok=True)
        config = self.folder / "nginx.conf"
        config.write_text(self.config(log_dir), encoding="utf-8")
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        with open(log_dir / "nginx.out", "ab") as out:
            return subprocess.Popen(
                [binary, "-e", str(log_dir / "nginx-error.log"), "-p", str(self.folder), "-c", str(config)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
