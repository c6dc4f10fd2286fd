"""Backups of both databases: `python -m vietcx backup DIR` and `python -m vietcx restore DIR`.

The product database and Rasa's tracker store (the conversations) are copied into a new folder,
with a manifest of what each file is and its SHA-256. SQLite files are copied with SQLite's own
online backup, consistent while the servers keep writing; PostgreSQL databases with `pg_dump` (its
custom format, restored by `pg_restore --clean`), the password handed over in the environment,
never on a command line. Restoring checks every file against the manifest first and replaces the
databases' content: stop the servers before restoring, start them after.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from vietcx.settings import database_url
from vietcx.store.tracker import tracker_store_url

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Copy:
    """One database in a backup folder."""

    name: str  # product | tracker
    file: str
    kind: str  # sqlite | postgresql
    sha256: str


def databases() -> dict[str, str]:
    """The URL of each database to back up: the product's and, if it is SQL, the tracker store's."""
    found = {"product": database_url()}
    tracker = tracker_store_url()
    if tracker:
        found["tracker"] = tracker
    return found


def backup(folder: Path, urls: dict[str, str] | None = None) -> list[Copy]:
    """Copies every database into `folder` (created; must be new or empty) and writes the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty: back up into a new folder")
    copies = []
    for name, url in (urls or databases()).items():
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            target = folder / f"{name}.sqlite3"
            if Path(parsed.database or "").is_file():
                _sqlite_copy(Path(parsed.database), target)
            else:  # not created yet: an empty database restores to an empty one
                sqlite3.connect(target).close()
            kind = "sqlite"
        elif parsed.get_backend_name() == "postgresql":
            target = folder / f"{name}.pgdump"
            _postgres(["pg_dump", "--format=custom", "--file", str(target)], parsed)
            kind = "postgresql"
        else:
            raise ValueError(f"cannot back up a {parsed.get_backend_name()} database")
        copies.append(Copy(name, target.name, kind, _sha256(target)))
    manifest = {
        "made_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "databases": [copy.__dict__ for copy in copies],
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return copies


def restore(folder: Path, urls: dict[str, str] | None = None) -> list[Copy]:
    """Replaces the content of every database with its copy in `folder`."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    copies = [Copy(**entry) for entry in manifest["databases"]]
    targets = urls or databases()
    for copy in copies:  # every file checked before anything is replaced
        if copy.name not in targets:
            raise ValueError(f"the backup holds a {copy.name} database this installation does not use")
        if _sha256(folder / copy.file) != copy.sha256:
            raise ValueError(f"{copy.file} does not match the manifest: the backup is damaged")
    for copy in copies:
        parsed = make_url(targets[copy.name])
        if copy.kind == "sqlite" and parsed.get_backend_name() == "sqlite":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            _sqlite_copy(folder / copy.file, Path(parsed.database))
        elif copy.kind == "postgresql" and parsed.get_backend_name() == "postgresql":
            command = ["pg_restore", "--clean", "--if-exists", "--no-owner", str(folder / copy.file)]
            _postgres(command, parsed)
        else:
            raise ValueError(f"the {copy.name} backup is {copy.kind}, the database is not")
    return copies


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while other processes write."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _postgres(command: list[str], url: URL) -> None:
    """Runs a PostgreSQL client tool on the database, the password in its environment."""
    environment = {**os.environ, "PGPASSWORD": url.password or ""}
    target = ["--host", url.host or "localhost", "--dbname", url.database or ""]
    if url.port:
        target += ["--port", str(url.port)]
    if url.username:
        target += ["--username", url.username]
    subprocess.run([*command, *target], env=environment, check=True, capture_output=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
