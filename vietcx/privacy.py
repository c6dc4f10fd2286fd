"""Masking personal data that leaves the product: phone numbers, e-mail addresses and names in text,
and ids replaced by keyed pseudonyms."""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from vietcx.settings import VAR, secret

PSEUDONYM_VARIABLE = "VIETCX_PSEUDONYM_SECRET"
PSEUDONYM_FILE = VAR / "pseudonym-secret"

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
    """A stable pseudonym for an identifier: HMAC-SHA256 under a secret key, not a plain hash, which
    anyone could compute for a guessed id (a phone number) to find the customer in an export. The
    same id and key give the same pseudonym in every export; another key gives others."""
    if not value:
        return value
    mac = _keyed(os.environ.get(PSEUDONYM_VARIABLE), PSEUDONYM_FILE).copy()
    mac.update(value.encode("utf-8"))
    return "id-" + mac.hexdigest()[:16]


@functools.lru_cache(maxsize=4)
def _keyed(configured: str | None, path: Path) -> hmac.HMAC:
    """HMAC-SHA256 under the key (VIETCX_PSEUDONYM_SECRET, else a random key kept in
    var/pseudonym-secret, made once, readable by its owner only), ready to copy. Cached, as an
    export masks two ids a row; `configured` is in the cache key, so a changed variable counts."""
    return hmac.new(secret(PSEUDONYM_VARIABLE, path).encode("utf-8"), digestmod=hashlib.sha256)


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
