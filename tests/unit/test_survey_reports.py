"""Survey storage, exports and metrics on a real SQLite file with known rows."""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from vietcx.cli import main
from vietcx.names import make_name
from vietcx.reports.surveys import COLUMNS, export, metrics, report
from vietcx.store import profiles, surveys
from vietcx.store.db import engine
from vietcx.store.db import surveys as table
from vietcx.store.period import Period

# (channel, customer, topic, csat, ces, comment, status, day of November 2026)
ROWS = [
    ("zalo", "z1", "warranty", 5, 7, "Rất tốt, gọi mình 0912345678 nhé", "completed", 3),
    ("zalo", "z2", "warranty", 4, 6, None, "completed", 10),
    ("zalo", "z3", "shipping_time", 2, 3, "Chị Ngọc thấy hơi chậm", "completed", 20),
    ("web", "w1", "shipping_time", 3, None, None, "partial", 15),
    ("web", "w2", "installment", None, None, None, "skipped", 25),
    ("messenger", "m1", "warranty", 1, 2, "mail an@gmail.com", "completed", 28),
    ("web", "w3", "warranty", 5, 5, None, "completed", 2),  # December: outside the November filter
]


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    url = f"sqlite:///{tmp_path / 'surveys.db'}"
    monkeypatch.setenv("VIETCX_DATABASE_URL", url)
    monkeypatch.setenv("VIETCX_PSEUDONYM_SECRET", "khoá của bài kiểm tra")
    database = engine(url)
    profiles.save_name("zalo", "z3", make_name(["Trần", "Thị", "Ngọc"]), source="customer", db=database)
    for number, (channel, customer, topic, csat, ces, comment, status, day) in enumerate(ROWS):
        survey_id = surveys.start(f"sender-{customer}", channel, customer, topic, "faq", db=database)
        answers = {k: v for k, v in {"csat": csat, "ces": ces, "comment": comment}.items() if v is not None}
        surveys.record(survey_id, db=database, status=status, **answers)
        month = 12 if number == len(ROWS) - 1 else 11
        when = datetime(2026, month, day, 9, 0, tzinfo=timezone.utc)
        with database.begin() as connection:
            connection.execute(update(table).where(table.c.id == survey_id).values(started_at=when))
    return database


NOVEMBER = Period(datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 11, 30, tzinfo=timezone.utc))


def test_metrics_match_a_hand_computation(db) -> None:  # noqa: ANN001
    nps = [10, 9, 8, None, None, 3]
    frame = pd.DataFrame(
        [{"csat": r[3], "ces": r[4], "nps": n} for r, n in zip(ROWS[:6], nps, strict=True)], dtype="float"
    )
    result = metrics(frame)
    # CSAT answers 5,4,2,3,1 → 2 of 5 are 4–5 = 40 %; CES answers 7,6,3,2 → mean 4.5
    # answered: 5 of 6 asked (the skipped one answered nothing)
    assert result["csat_score"] == 40.0
    assert result["mean_ces"] == 4.5
    assert result["answered"] == 5 and result["asked"] == 6 and result["response_rate"] == round(5 / 6, 4)
    assert result["csat_distribution"] == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
    assert result["ces_distribution"] == {1: 0, 2: 1, 3: 1, 4: 0, 5: 0, 6: 1, 7: 1}
    # NPS answers 10,9,8,3 → promoters 2 of 4 (50 %) − detractors 1 of 4 (25 %) = 25
    assert result["nps"] == 25.0 and result["nps_answers"] == 4
    assert result["nps_distribution"][10] == 1 and result["nps_distribution"][0] == 0


def test_report_per_channel_and_topic_with_charts(db, tmp_path: Path) -> None:  # noqa: ANN001
    result = report(NOVEMBER, tmp_path / "charts", db)
    assert result["overall"]["asked"] == 6
    assert result["by_channel"]["zalo"]["csat_score"] == round(2 / 3 * 100, 1)  # 5, 4, 2
    assert result["by_topic"]["warranty"]["mean_ces"] == 5.0  # 7, 6, 2
    for chart in result["charts"]:
        assert Path(chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_exports_hold_exactly_the_filtered_rows_masked(db, tmp_path: Path, fmt: str) -> None:  # noqa: ANN001
    out = tmp_path / f"surveys.{fmt}"
    assert export(Period(NOVEMBER.start, NOVEMBER.end, "zalo"), fmt, out, db=db, progress=False) == 3
    if fmt == "csv":
        frame = pd.read_csv(out, encoding="utf-8-sig")
    elif fmt == "xlsx":
        frame = pd.read_excel(out)
        assert load_workbook(out).sheetnames == ["surveys"]
    else:
        frame = pd.DataFrame(json.loads(out.read_text(encoding="utf-8")))
    assert list(frame.columns) == COLUMNS
    assert sorted(frame["csat"].tolist()) == [2, 4, 5]
    text = " ".join(str(v) for v in frame["comment"].tolist())
    assert "0912345678" not in text and "[số điện thoại]" in text
    assert "Ngọc" not in text and "[tên]" in text
    assert not set(frame["customer_id"]) & {"z1", "z2", "z3"}


def test_export_with_pii_keeps_it(db, tmp_path: Path) -> None:  # noqa: ANN001
    out = tmp_path / "all.csv"
    assert export(NOVEMBER, "csv", out, include_pii=True, db=db, progress=False) == 6
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert "mail an@gmail.com" in frame["comment"].tolist()
    assert {"z1", "w1", "m1"} <= set(frame["customer_id"])


def test_cli_export_and_report(db, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    out = tmp_path / "cli.json"
    assert main(["export", "surveys", "--from", "2026-11-01", "--to", "2026-11-30", "--channel", "web",
                 "--format", "json", "--out", str(out)]) == 0  # fmt: skip
    assert len(json.loads(out.read_text(encoding="utf-8"))) == 2
    assert (
        main(["report", "surveys", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(tmp_path)]) == 0
    )
    printed = capsys.readouterr().out
    assert "channel=zalo" in printed and "topic=warranty" in printed and "csat_distribution.png" in printed


def test_xlsx_keeps_text_as_text(db, tmp_path: Path) -> None:  # noqa: ANN001
    survey_id = surveys.start("sender-x", "web", "x1", "warranty", "faq", db=db)
    surveys.record(
        survey_id, db=db, status="completed", csat=5, comment='=HYPERLINK("http://x.example","hi")'
    )
    out = tmp_path / "surveys.xlsx"
    export(Period(channel="web"), "xlsx", out, db=db, progress=False)
    [row] = [row for row in load_workbook(out).active.iter_rows() if row[0].value == survey_id]
    comment = row[COLUMNS.index("comment")]
    assert comment.value == '=HYPERLINK("http://x.example","hi")'
    assert comment.data_type == "s"  # a string, not a formula Excel would run


FORMULAS = ['=HYPERLINK("http://x.example","bấm vào")', "+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def test_formula_cells_are_escaped_in_csv_and_plain_strings_in_xlsx_and_json(db, tmp_path: Path) -> None:  # noqa: ANN001
    """A comment a spreadsheet would run (OWASP's CSV injection) is shown, never run, in every format."""
    comments = [*FORMULAS, "bình thường - ổn", "a=b"]
    for number, comment in enumerate(comments):
        survey_id = surveys.start(f"sender-f{number}", "rest", f"f{number}", "warranty", "faq", db=db)
        surveys.record(survey_id, db=db, status="completed", csat=1 + number % 5, comment=comment)
    written = {}
    for fmt in ("csv", "xlsx", "json"):
        written[fmt] = tmp_path / f"formulas.{fmt}"
        export(Period(channel="rest"), fmt, written[fmt], include_pii=True, db=db, progress=False)

    with open(written["csv"], encoding="utf-8-sig", newline="") as handle:
        table_rows = list(csv.DictReader(handle))
    assert [row["comment"] for row in table_rows] == [f"'{c}" for c in FORMULAS] + ["bình thường - ổn", "a=b"]
    assert [row["csat"] for row in table_rows] == [str(1 + n % 5) for n in range(len(comments))]

    sheet = load_workbook(written["xlsx"]).active
    header = [cell.value for cell in sheet[1]]
    cells = [row[header.index("comment")] for row in sheet.iter_rows(min_row=2)]
    # OOXML writes a control character as _xHHHH_, which Excel shows as the character; openpyxl does not
    shown = [re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m[1], 16)), cell.value) for cell in cells]
    assert shown == comments
    assert all(cell.data_type == "s" for cell in cells)  # strings, never formulas

    assert [row["comment"] for row in json.loads(written["json"].read_text(encoding="utf-8"))] == comments


def test_a_failed_export_leaves_no_file(db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        yield [dict.fromkeys(COLUMNS, "x")]
        raise OSError("database went away")

    monkeypatch.setattr(surveys, "rows", broken)
    out = tmp_path / "surveys.xlsx"
    with pytest.raises(OSError):
        export(NOVEMBER, "xlsx", out, include_pii=True, db=db, progress=False)
    assert not out.exists()


def test_asking_the_same_survey_again_after_a_fault_keeps_one_survey(db) -> None:  # noqa: ANN001
    """A Rasa server that dies before saving its turn has its survey asked again on another."""
    first = surveys.start("sender-r", "zalo", "r1", "warranty", "faq", db=db)
    assert surveys.start("sender-r", "zalo", "r1", "warranty", "faq", db=db) == first
    surveys.record(first, db=db, csat=5, status="partial")
    assert surveys.start("sender-r", "zalo", "r1", "warranty", "faq", db=db) != first  # answered: a new one
    assert surveys.start("sender-r", "zalo", "r1", "installment", "faq", db=db) != first
