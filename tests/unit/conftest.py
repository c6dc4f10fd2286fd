"""The staff console's fixtures (tests/unit/test_console.py) for the other console test files: a
product database with staff, a tracker store with one conversation, an escalation, the app."""

from test_console import app, db, escalation, tracker  # noqa: F401 (fixtures)
