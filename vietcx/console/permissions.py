"""Who may do what with an escalation. The acting staff member is always the signed-in one."""

from __future__ import annotations

from typing import Protocol


class Staff(Protocol):
    username: str
    role: str
    is_admin: bool


def can_take(user: Staff, escalation: dict) -> bool:
    """Anyone takes an open escalation; only an admin takes one that another staff member holds."""
    if escalation["status"] == "resolved":
        return False
    return escalation["staff"] in (None, user.username) or user.is_admin


def can_work(user: Staff, escalation: dict) -> bool:
    """Replying and resolving belong to the staff member holding the escalation (admins take over first)."""
    return escalation["status"] == "assigned" and escalation["staff"] == user.username


def can_read_audit(user: Staff) -> bool:
    """The audit trail shows every staff member's sign-ins and addresses: admins only."""
    return user.is_admin


def can_export_personal_data(user: Staff) -> bool:
    """Exports keep names, phone numbers and ids only for admins; everyone else gets them masked."""
    return user.is_admin


def can_edit_kb(user: Staff) -> bool:
    """The knowledge base is what the assistant tells every customer: admins and editors only."""
    return user.role in ("admin", "editor")
