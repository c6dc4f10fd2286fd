"""Masking personal data (phone numbers, e-mail addresses, names) in text that leaves the product."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime

# Vietnamese mobile and landline numbers: 0912345678, 0912 345 678, +84 912.345.678, 84-912-345-678
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SELF_NAMED = re.compile(
    r"(?i)\b(tên (?:là|tôi là|mình là|em là|chị là|anh là)|tên:|my name is)\s+[^\W\d_]+(?:\s+[^\W\d_]+){0,3}"
)


def mask_text(text: str | None, names: Iterable[str] = ()) -> str | None:
    """The text with phone numbers, e-mails, the given names and self-introductions masked."""
    if not text:
        return text
    masked = _EMAIL.sub("[email]", text)
    masked = _PHONE.sub("[số điện thoại]", masked)
    masked = _SELF_NAMED.sub(lambda m: f"{m.group(1)} [tên]", masked)
    for name in sorted({n for n in names if n and len(n) >= 2}, key=len, reverse=True):
        masked = re.sub(rf"(?i)(?<!\w){re.escape(name)}(?!\w)", "[tên]", masked)
    return masked


def mask_id(value: str | None) -> str | None:
    """A stable pseudonym for an identifier: the same id gives the same mask, the id itself is hidden."""
    if not value:
        return value
    return "id-" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:10]


def export_row(row: dict, include_pii: bool, texts: Iterable[str] = (), names: Iterable[str] = ()) -> dict:
    """A database row as it leaves the product: ISO timestamps; texts and ids masked unless asked."""
    for key, value in row.items():
        if isinstance(value, datetime):
            row[key] = value.isoformat()
    if not include_pii:
        for column in texts:
            row[column] = mask_text(row[column], names)
        for column in ("sender_id", "customer_id"):
            if column in row:
                row[column] = mask_id(row[column])
    return row
