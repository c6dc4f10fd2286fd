"""Custom actions, served by `python -m vietcx.action_server` (one module per conversation concern)."""
