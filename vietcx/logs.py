"""Where the servers log: appended files under VIETCX_LOG_DIR (`make run`: var/log/), rotated by
size and never truncated by a restart, so the logs stay an audit trail. Without VIETCX_LOG_DIR
(tests, a service manager that collects stderr) everything goes to stderr. Several processes write
one file (`make run` runs a Rasa process per core): the rotation takes a lock file beside the log
(concurrent-log-handler), where the standard library's handler lost a fifth of the lines.

VIETCX_LOG_MAX_BYTES   size at which a log file is rotated (default 10 MB)
VIETCX_LOG_BACKUPS     rotated files kept per log (default 10)
"""

from __future__ import annotations

import contextvars
import logging
import os
from pathlib import Path

import yaml
from concurrent_log_handler import ConcurrentRotatingFileHandler

FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s [%(conversation)s]: %(message)s"
# the conversation (sender id) being handled, put on every line logged while it is: the Rasa server
# sets it for each turn, the action server for each action call; "-" outside any conversation
conversation: contextvars.ContextVar[str] = contextvars.ContextVar("vietcx_conversation", default="-")


class ConversationFilter(logging.Filter):
    """Gives every record the conversation it was logged in (the format names it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.conversation = conversation.get()
        return True


def log_dir() -> Path | None:
    folder = os.environ.get("VIETCX_LOG_DIR")
    return Path(folder) if folder else None


def _rotation() -> tuple[int, int]:
    return int(os.environ.get("VIETCX_LOG_MAX_BYTES") or 10_000_000), int(
        os.environ.get("VIETCX_LOG_BACKUPS") or 10
    )


def configure(name: str, level: int = logging.INFO) -> None:
    """Logging of one of the product's own servers (`name`: actions, console)."""
    folder = log_dir()
    if folder is None:
        handler: logging.Handler = logging.StreamHandler()
    else:
        folder.mkdir(parents=True, exist_ok=True)
        size, backups = _rotation()
        handler = ConcurrentRotatingFileHandler(
            str(folder / f"{name}.log"), maxBytes=size, backupCount=backups, encoding="utf-8"
        )
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(ConversationFilter())
    logging.basicConfig(level=level, handlers=[handler])


def rasa_logging_file(name: str = "rasa") -> Path | None:
    """A logging configuration for Rasa's `--logging-config-file` that writes the same way
    (Rasa's own `--log-file` neither rotates nor covers its own loggers); None without a log dir."""
    folder = log_dir()
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    size, backups = _rotation()
    handler = {
        "class": "concurrent_log_handler.ConcurrentRotatingFileHandler",
        "filename": str(folder / f"{name}.log"),
        "maxBytes": size,
        "backupCount": backups,
        "encoding": "utf-8",
        "formatter": "plain",
        "filters": ["conversation"],
    }
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": FORMAT}},
        "filters": {"conversation": {"()": "vietcx.logs.ConversationFilter"}},
        "handlers": {"file": handler},
        "root": {"level": "INFO", "handlers": ["file"]},
        # Sanic's loggers do not propagate (Rasa turns that off): errors are written all the same
        "loggers": {name: {"handlers": ["file"], "level": "INFO"} for name in ("sanic.root", "sanic.error")},
    }
    path = folder / f".{name}-logging.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path
