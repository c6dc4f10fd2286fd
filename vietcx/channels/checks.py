"""What a channel request must look like before anything reads it: size, JSON shape, text, metadata.

Every field is the client's word: these checks only make sure it is well formed and bounded, so
that bad input gets a clear 4xx and never reaches Rasa, the database or a log as something else.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_BODY_BYTES = 64 * 1024  # a 10 000-character message, JSON-escaped, fits
MAX_MESSAGE_CHARS = 10_000
MAX_SENDER_CHARS = 200
MAX_METADATA_BYTES = 4096
MAX_METADATA_DEPTH = 4
# C0/C1 control characters but tab and newline: invisible, and NUL is refused by PostgreSQL
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # from "\ud800" escapes in JSON: not encodable text


class BadRequest(ValueError):
    """The request cannot be handled; the message says why (sent back with a 4xx)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def json_body(raw: bytes | None) -> dict[str, Any]:
    """The body as a JSON object, or BadRequest."""
    if raw and len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"The body is larger than {MAX_BODY_BYTES} bytes.", 413)
    try:
        body = json.loads(raw or b"")
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise BadRequest('The body must be JSON: {"message": "..."}.') from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


def message_text(body: dict[str, Any]) -> str:
    """The message as text a customer could have typed: control characters and lone surrogates
    (broken UTF-16 escapes) removed, length bounded."""
    message = body.get("message")
    if not isinstance(message, str):
        raise BadRequest("'message' must be a string.")
    if len(message) > MAX_MESSAGE_CHARS:
        raise BadRequest(f"'message' is longer than {MAX_MESSAGE_CHARS} characters.")
    return clean_text(message)


def clean_text(text: str) -> str:
    """Text safe to store and show: lone surrogates become U+FFFD, control characters go."""
    return _CONTROL.sub("", _SURROGATE.sub("\ufffd", text))


def sender(value: Any) -> str:
    """A sender id given by a trusted caller (the REST channel)."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_SENDER_CHARS:
        raise BadRequest(f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters.")
    if clean_text(value) != value:
        raise BadRequest("'sender' must not contain control characters.")
    return value


def metadata(value: Any) -> dict[str, Any]:
    """Metadata of a trusted caller: a small, shallow JSON object."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest("'metadata' must be a JSON object when given.")
    if _too_deep(value, MAX_METADATA_DEPTH):
        raise BadRequest(f"'metadata' is nested deeper than {MAX_METADATA_DEPTH} levels.")
    if len(json.dumps(value, ensure_ascii=False).encode("utf-8", "replace")) > MAX_METADATA_BYTES:
        raise BadRequest(f"'metadata' is larger than {MAX_METADATA_BYTES} bytes.")
    return _cleaned(value)


def _cleaned(value: Any) -> Any:
    """Every text inside the metadata made safe the way messages are (names are stored and shown)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(key)): _cleaned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    return value


def cursor(value: Any) -> int:
    """The id of the last queued message a client has shown (0: none yet)."""
    if value is None or value == "":
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest("The cursor ('ack' or 'after') must be a whole number.") from None
    if number < 0 or number > 2**62:
        raise BadRequest("The cursor ('ack' or 'after') is out of range.")
    return number


def _too_deep(value: Any, limit: int) -> bool:
    """Whether objects or lists nest deeper than `limit` (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False
