"""The audit trail on a real SQLite file: what the store keeps and returns, and the rows the staff
command line writes (never a password). The console's own rows are tested in test_console.py."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from vietcx.cli import main
from vietcx.console.labels import AUDIT_ACTIONS
from vietcx.store import audit, staff
from vietcx.store.db import engine

PASSWORD = "mật khẩu đủ dài 2026"


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    url = f"sqlite:///{tmp_path / 'vietcx.db'}"
    monkeypatch.setenv("VIETCX_DATABASE_URL", url)  # the command line reads it
    return engine(url)


def test_every_action_has_words_for_the_console() -> None:
    assert set(AUDIT_ACTIONS) == set(audit.ACTIONS)


def test_rows_come_back_newest_first_filtered_and_page_by_page(db: Engine) -> None:
    for number in range(5):
        audit.record("take", "lan" if number % 2 == 0 else "minh", number, address="10.0.0.1", db=db)
    audit.record("sign_out", "lan", db=db)
    assert [r["target"] for r in audit.recent(db=db)] == [None, "4", "3", "2", "1", "0"]
    assert [r["target"] for r in audit.recent(actor="lan", action="take", db=db)] == ["4", "2", "0"]
    first = audit.recent(limit=2, db=db)
    after = audit.recent(limit=2, before=first[-1]["id"], db=db)
    assert [r["target"] for r in after] == ["3", "2"]
    row = audit.recent(limit=1, action="take", db=db)[0]
    assert (row["actor"], row["address"], row["detail"]) == ("lan", "10.0.0.1", None) and row["at"]


def test_an_unknown_action_is_refused_and_long_values_are_cut(db: Engine) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record("delete_everything", "lan", db=db)
    audit.record("sign_in_failed", "x" * 500, detail="y" * 500, db=db)
    [row] = audit.recent(db=db)
    assert len(row["actor"]) == 64 and len(row["detail"]) == 200


def test_the_staff_command_line_is_audited_without_the_password(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["staff", "add", "lan", "--name", "Nguyễn Thị Lan", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("mật khẩu mới cũng đủ dài\n"))
    assert main(["staff", "password", "lan", "--password-stdin"]) == 0
    assert main(["staff", "disable", "lan"]) == 0
    assert main(["staff", "enable", "lan"]) == 0
    assert main(["staff", "disable", "khong-ai"]) == 1  # nothing changed, nothing recorded
    rows = [(r["actor"], r["action"], r["target"], r["detail"], r["address"]) for r in audit.recent(db=db)]
    assert rows[::-1] == [
        ("cli", "staff_add", "lan", "vai trò agent", None),
        ("cli", "staff_password", "lan", "mọi phiên đăng nhập đã kết thúc", None),
        ("cli", "staff_disable", "lan", None, None),
        ("cli", "staff_enable", "lan", None, None),
    ]
    stored = json.dumps([list(r.values()) for r in audit.recent(db=db)], default=str, ensure_ascii=False)
    assert PASSWORD not in stored and "mật khẩu mới" not in stored
    assert staff.get("lan", db)["session_epoch"] == 2  # the new password and the disabling
