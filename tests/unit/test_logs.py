"""Log files are an audit trail: appended across restarts, rotated by size, never truncated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from vietcx.settings import PROJECT

SERVER = """
import logging, sys
from vietcx import logs
if sys.argv[1] == "rasa":
    import logging.config, yaml
    logging.config.dictConfig(yaml.safe_load(open(logs.rasa_logging_file())))
else:
    logs.configure("actions")
logging.getLogger("vietcx.test").info("outside any conversation (%s)", sys.argv[3])
logs.conversation.set("zalo-12345")
for number in range(int(sys.argv[2])):
    logging.getLogger("vietcx.test").info("run %s line %d %s", sys.argv[3], number, "x" * 40)
"""


def run(folder: Path, kind: str, lines: int, label: str, max_bytes: int = 1_000_000) -> None:
    env = {**os.environ, "VIETCX_LOG_DIR": str(folder), "VIETCX_LOG_MAX_BYTES": str(max_bytes)}
    env["VIETCX_LOG_BACKUPS"] = "3"
    subprocess.run([sys.executable, "-c", SERVER, kind, str(lines), label], cwd=PROJECT, env=env, check=True)


def test_a_restart_appends_to_the_log(tmp_path: Path) -> None:
    run(tmp_path, "actions", 3, "first")
    run(tmp_path, "actions", 3, "second")
    text = (tmp_path / "actions.log").read_text(encoding="utf-8")
    assert text.count("run first") == 3 and text.count("run second") == 3


def test_logs_are_rotated_by_size_and_old_ones_kept(tmp_path: Path) -> None:
    run(tmp_path, "actions", 200, "big", max_bytes=2000)
    rotated = sorted(p.name for p in tmp_path.glob("actions.log*"))
    assert rotated == ["actions.log", "actions.log.1", "actions.log.2", "actions.log.3"]
    assert all(p.stat().st_size <= 2100 for p in tmp_path.glob("actions.log*"))


def test_rasas_logging_configuration_writes_the_same_way(tmp_path: Path) -> None:
    run(tmp_path, "rasa", 2, "one")
    run(tmp_path, "rasa", 2, "two")
    text = (tmp_path / "rasa.log").read_text(encoding="utf-8")
    assert text.count("run one") == 2 and text.count("run two") == 2
    config = yaml.safe_load((tmp_path / ".rasa-logging.yml").read_text(encoding="utf-8"))
    assert config["handlers"]["file"]["class"] == "concurrent_log_handler.ConcurrentRotatingFileHandler"
    assert set(config["loggers"]) == {"sanic.root", "sanic.error"}


def test_several_processes_share_one_log_without_losing_lines(tmp_path: Path) -> None:
    """`make run` runs a Rasa process per core, all writing rasa.log: rotation must not race."""
    env = {**os.environ, "VIETCX_LOG_DIR": str(tmp_path), "VIETCX_LOG_MAX_BYTES": "4000"}
    env["VIETCX_LOG_BACKUPS"] = "500"
    writers = [
        subprocess.Popen([sys.executable, "-c", SERVER, "rasa", "400", f"p{n}"], cwd=PROJECT, env=env)
        for n in range(3)
    ]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0, 0]
    lines = [
        line for log in tmp_path.glob("rasa.log*") for line in log.read_text(encoding="utf-8").splitlines()
    ]
    for n in range(3):
        assert sum(f"run p{n} line" in line for line in lines) == 400


def test_every_line_names_its_conversation(tmp_path: Path) -> None:
    for kind in ("actions", "rasa"):
        run(tmp_path, kind, 1, kind)
        lines = (tmp_path / f"{kind}.log").read_text(encoding="utf-8").splitlines()
        assert any(line.endswith(f"[-]: outside any conversation ({kind})") for line in lines)
        assert any("[zalo-12345]: run" in line and "line 0" in line for line in lines)
