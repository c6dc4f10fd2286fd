"""Escalation exports and report on a real SQLite file with known rows, and the `staff` commands."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.engine import Engine

from vietcx.cli import main
from vietcx.privacy import mask_id
from vietcx.reports.escalations import COLUMNS, export, report
from vietcx.store import escalations, staff
from vietcx.store.db import engine
from vietcx.store.db import escalations as table
from vietcx.store.period import Period

# (sender, channel, reason, customer name, day of November 2026, minutes to resolve or None: still open)
ROWS = [
    ("z1", "zalo", "customer_request", "Trần Thị Ngọc", 3, 10),
    ("z2", "zalo", "faq_fallback", "chị Ngọc", 10, 30),
    ("w1", "web", "customer_request", "Lê Văn An", 15, 50),
    ("w2", "web", "negative_sentiment", None, 20, None),
    ("m1", "messenger", "customer_request", "anh Hoà", 28, 20),
    ("w3", "web", "faq_fallback", "Phạm Minh", 2, 5),  # December: outside the November filter
]
NOVEMBER = Period(datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 11, 30, tzinfo=timezone.utc))


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    url = f"sqlite:///{tmp_path / 'escalations.db'}"
    monkeypatch.setenv("VIETCX_DATABASE_URL", url)
    monkeypatch.setenv("VIETCX_PSEUDONYM_SECRET", "khoá của bài kiểm tra")
    database = engine(url)
    for number, (sender, channel, reason, name, day, minutes) in enumerate(ROWS):
        sentiment = {"messages": 2, "negative": 1, "neutral": 1, "positive": 0, "mean_score": -0.4, "trend": 0.0,
                     "most_negative_text": f"{name or 'mình'} bực lắm, gọi 0912345678", "most_negative_score": -0.8}  # fmt: skip
        row, _ = escalations.open_escalation(sender, channel, sender, name, reason, sentiment, db=database)
        created = datetime(2026, 12 if number == len(ROWS) - 1 else 11, day, 9, 0, tzinfo=timezone.utc)
        values = {"created_at": created}
        if minutes is not None:
            escalations.assign(row["id"], "lan", database)
            escalations.resolve(row["id"], "lan", database)
            values |= {
                "assigned_at": created + timedelta(minutes=2),
                "resolved_at": created + timedelta(minutes=minutes),
            }
        with database.begin() as connection:
            connection.execute(update(table).where(table.c.id == row["id"]).values(**values))
    return database


def test_report_matches_a_hand_computation(db: Engine, tmp_path: Path) -> None:
    result = report(NOVEMBER, tmp_path / "charts", db)
    # November: 5 escalations, 4 resolved after 10, 30, 50 and 20 minutes → median (20 + 30) / 2 = 25
    assert (result["escalations"], result["resolved"], result["median_minutes_to_resolve"]) == (5, 4, 25.0)
    by_reason = result["by_reason"]
    assert by_reason["escalations"].to_dict() == {
        "customer_request": 3,
        "faq_fallback": 1,
        "negative_sentiment": 1,
    }
    assert by_reason.loc["customer_request", "median_minutes_to_resolve"] == 20.0  # 10, 50, 20
    assert by_reason.loc["faq_fallback", "median_minutes_to_resolve"] == 30.0
    assert pd.isna(by_reason.loc["negative_sentiment", "median_minutes_to_resolve"])  # none resolved
    assert result["by_channel"]["escalations"].to_dict() == {"messenger": 1, "web": 2, "zalo": 2}
    assert Path(result["chart"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_of_a_channel_and_of_nothing(db: Engine, tmp_path: Path) -> None:
    web = report(Period(NOVEMBER.start, NOVEMBER.end, "web"), tmp_path, db)
    assert (web["escalations"], web["median_minutes_to_resolve"]) == (2, 50.0)
    empty = report(Period(channel="zalo", start=datetime(2027, 1, 1, tzinfo=timezone.utc)), tmp_path, db)
    assert (empty["escalations"], empty["median_minutes_to_resolve"]) == (0, None)
    assert empty["by_reason"]["escalations"].sum() == 0


def _read(out: Path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    if fmt == "xlsx":
        assert load_workbook(out).sheetnames == [out.stem]
        return pd.read_excel(out, dtype=str, keep_default_na=False)
    return pd.DataFrame(json.loads(out.read_text(encoding="utf-8"))).fillna("").astype(str)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_exports_hold_exactly_the_filtered_rows_masked(db: Engine, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"escalations.{fmt}"
    assert export(Period(NOVEMBER.start, NOVEMBER.end, "zalo"), fmt, out, db=db, progress=False) == 2
    frame = _read(out, fmt)
    assert list(frame.columns) == COLUMNS
    assert frame["sender_id"].tolist() == [mask_id("z1"), mask_id("z2")]
    assert frame["customer_id"].tolist() == [mask_id("z1"), mask_id("z2")]
    assert frame["customer_name"].tolist() == ["[tên]", "[tên]"]
    assert frame["reason"].tolist() == ["customer_request", "faq_fallback"]
    assert frame["created_at"].tolist() == ["2026-11-03T09:00:00", "2026-11-10T09:00:00"]
    everything = " ".join(" ".join(row) for row in frame.astype(str).values.tolist())
    assert "Ngọc" not in everything and "0912345678" not in everything and "z1" not in everything
    summary = json.loads(frame["sentiment"][0])
    assert summary["most_negative_text"] == "[tên] bực lắm, gọi [số điện thoại]" and summary["negative"] == 1


def test_export_with_pii_keeps_it(db: Engine, tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    assert export(NOVEMBER, "csv", out, include_pii=True, db=db, progress=False) == 5
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert frame["sender_id"].tolist() == ["z1", "z2", "w1", "w2", "m1"]
    assert frame["customer_name"].tolist() == ["Trần Thị Ngọc", "chị Ngọc", "Lê Văn An", "", "anh Hoà"]
    assert frame["status"].tolist() == ["resolved", "resolved", "resolved", "open", "resolved"]
    assert "0912345678" in frame["sentiment"][0]


def test_cli_export_and_report(db: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.json"
    assert main(["export", "escalations", "--from", "2026-11-01", "--to", "2026-11-30", "--channel", "web",
                 "--format", "json", "--out", str(out)]) == 0  # fmt: skip
    assert [row["reason"] for row in json.loads(out.read_text(encoding="utf-8"))] == [
        "customer_request",
        "negative_sentiment",
    ]
    assert "(personal data masked)" in capsys.readouterr().out
    assert (
        main(["report", "escalations", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(tmp_path)])
        == 0
    )
    printed = capsys.readouterr().out
    assert "5 escalations, 4 resolved; median time to resolve: 25.0 minutes" in printed
    assert "customer_request" in printed and "messenger" in printed and "escalations.png" in printed


def test_staff_add_reads_the_password_from_stdin(
    db: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("một mật khẩu dài\n"))
    assert (
        main(["staff", "add", "lan", "--name", "Nguyễn Thị Lan", "--role", "admin", "--password-stdin"]) == 0
    )
    printed = capsys.readouterr()
    assert "một mật khẩu dài" not in printed.out + printed.err
    account = staff.authenticate("lan", "một mật khẩu dài", db)
    assert (account["display_name"], account["role"]) == ("Nguyễn Thị Lan", "admin")
    assert staff.authenticate("lan", "một mật khẩu dài\n", db) is None

    monkeypatch.setattr("sys.stdin", io.StringIO("mật khẩu mới toanh\n"))
    assert main(["staff", "password", "lan", "--password-stdin"]) == 0
    assert staff.authenticate("lan", "mật khẩu mới toanh", db) and not staff.authenticate(
        "lan", "một mật khẩu dài", db
    )


def test_staff_add_refuses_a_short_password_and_a_taken_name(
    db: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("ngắn\n"))
    assert main(["staff", "add", "minh", "--name", "Trần Văn Minh", "--password-stdin"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert staff.get("minh", db) is None
    for expected in (0, 1):
        monkeypatch.setattr("sys.stdin", io.StringIO("đủ dài rồi nhé\n"))
        assert main(["staff", "add", "minh", "--name", "Trần Văn Minh", "--password-stdin"]) == expected
    assert "is taken" in capsys.readouterr().err
    assert staff.get("minh", db)["role"] == "agent"


def test_staff_add_asks_twice_and_refuses_two_different_passwords(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["mật khẩu thứ nhất", "mật khẩu thứ hai"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert main(["staff", "add", "an", "--name", "Lê Văn An"]) == 1
    assert staff.get("an", db) is None
