"""Vietnamese phone numbers as customers type them, for the call back they ask for.

Accepted: 0912345678, 0912 345 678, 0912.345.678, +84 912 345 678, 84912345678; mobile numbers
(03x, 05x, 07x, 08x, 09x, ten digits) and landlines (02x area codes, eleven digits). Anything else
is refused, so staff never call a number that cannot be right.
"""

from __future__ import annotations

import re

# a run of digits with the separators people type inside a number
_CANDIDATE = re.compile(r"\+?\d[\d\s.\-()]*\d")
_MOBILE = re.compile(r"0[35789]\d{8}")
_LANDLINE = re.compile(r"02\d{9}")


def normalize(text: str) -> str | None:
    """The number in `text` in its national form ("0912345678"), or None if there is no valid one."""
    for candidate in _CANDIDATE.findall(text or ""):
        digits = re.sub(r"\D", "", candidate)
        if candidate.startswith("+") or (digits.startswith("84") and len(digits) in (11, 12)):
            if not digits.startswith("84"):
                continue
            digits = "0" + digits[2:]
        if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
            return digits
    return None


def display(number: str) -> str:
    """How a number is read back to the customer and shown to staff: "0912 345 678", "024 3825 1234"."""
    if _LANDLINE.fullmatch(number):
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    return f"{number[:4]} {number[4:7]} {number[7:]}"
