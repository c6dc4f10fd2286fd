"""The console's /reports page and its downloads through Flask's test client, on a real SQLite file:
the figures are those of vietcx/reports (the CLI's), exports are masked unless an admin asks, bad
input is refused and every download is in the audit trail."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.engine import Engine
from test_console import sign_in

from vietcx.privacy import mask_id
from vietcx.reports import surveys as survey_report
from vietcx.store import escalations, surveys
from vietcx.store.audit import recent
from vietcx.store.db import surveys as survey_table
from vietcx.store.period import Period

DAY = datetime(2026, 11, 20, 5, 0, tzinfo=timezone.utc)
ANSWERS = [  # sender, channel, topic, csat, ces
    ("khach-a", "web", "warranty", 5, 7),
    ("khach-b", "web", "warranty", 2, 2),
    ("khach-c", "zalo", "shipping_time", 4, 6),
    ("khach-d", "zalo", "shipping_time", None, None),
]


@pytest.fixture()
def answered(db: Engine) -> None:
    for sender, channel, topic, csat, ces in ANSWERS:
        survey = surveys.start(sender, channel, sender, topic, "faq", db=db)
        if csat is not None:
            surveys.record(survey, db=db, csat=csat, ces=ces, status="completed")
        with db.begin() as connection:
            connection.execute(update(survey_table).where(survey_table.c.id == survey).values(started_at=DAY))
    escalations.open_escalation("khach-b", "web", "khach-b", "chị Ngọc", "customer_request", db=db)


def _text(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert found, element_id
    return found.group(1).strip()


def test_the_page_shows_the_cli_reports_figures(app: Flask, db: Engine, answered: None) -> None:
    page = sign_in(app, "lan").get("/reports?from=2026-11-20&to=2026-11-20")
    assert page.status_code == 200
    expected = survey_report.figures(Period(DAY.replace(hour=0), DAY.replace(hour=0)), db)["overall"]
    assert expected["csat_score"] == 66.7 and expected["mean_ces"] == 5.0
    assert _text(page.text, "csat") == "66.7%"
    assert _text(page.text, "ces") == "5.00"
    assert _text(page.text, "response-rate") == "75.0%"
    assert _text(page.text, "escalations") == "0"  # opened today, outside the period
    charts = json.loads(_text(page.text, "report-data"))
    assert {c["id"] for c in charts} >= {"chart-csat-day", "chart-sentiment-day", "chart-topic"}
    [csat_day] = [c for c in charts if c["id"] == "chart-csat-day"]
    assert csat_day["labels"] == ["2026-11-20"] and csat_day["datasets"][0]["data"] == [66.7]
    topics = re.findall(r'<tr data-topic="([^"]+)">', page.text)
    assert topics == ["warranty", "shipping_time"]  # the lower CSAT first: the answer to improve
    assert "Bảo hành" in page.text and "Thời gian giao hàng" in page.text


def test_filters_are_in_the_url_and_bad_ones_are_refused(app: Flask, answered: None) -> None:
    lan = sign_in(app, "lan")
    page = lan.get("/reports?from=2026-11-20&to=2026-11-20&channel=zalo").text
    assert _text(page, "csat") == "100.0%" and _text(page, "response-rate") == "50.0%"
    assert 'value="2026-11-20"' in page and '<option value="zalo" selected>' in page
    for query in ("from=20-11-2026", "channel=<script>", "from=2026-11-21&to=2026-11-20"):
        assert lan.get(f"/reports?{query}").status_code == 400, query
    assert lan.get("/reports/export?what=surveys&format=exe").status_code == 400
    assert lan.get("/reports/export?what=customers&format=csv").status_code == 404


def _rows(answer) -> list[dict]:  # noqa: ANN001
    assert answer.status_code == 200, answer.status_code
    return list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"))))


def test_an_agent_downloads_masked_data_only(app: Flask, db: Engine, answered: None) -> None:
    lan = sign_in(app, "lan")
    rows = _rows(lan.get("/reports/export?what=surveys&format=csv"))
    assert sorted(r["sender_id"] for r in rows) == sorted(mask_id(s) for s, *_ in ANSWERS)
    refused = lan.get("/reports/export?what=escalations&format=csv&personal=1")
    assert refused.status_code == 403 and "Chỉ quản trị viên" in refused.text
    [masked] = _rows(lan.get("/reports/export?what=escalations&format=csv"))
    assert masked["customer_name"] == "[tên]"
    [row] = recent(1, actor="lan", action="export", db=db)
    assert row["detail"] == "escalations.csv, 1 dòng, đã che thông tin cá nhân"


def test_an_admin_may_choose_personal_data(app: Flask, db: Engine, answered: None) -> None:
    hoa = sign_in(app, "hoa")
    assert "Giữ thông tin cá nhân" in hoa.get("/reports").text
    assert "Giữ thông tin cá nhân" not in sign_in(app, "lan").get("/reports").text
    [row] = _rows(hoa.get("/reports/export?what=escalations&format=csv&personal=1"))
    assert (row["customer_name"], row["sender_id"]) == ("chị Ngọc", "khach-b")
    answer = hoa.get("/reports/export?what=surveys&format=json&from=2026-11-20&to=2026-11-20&channel=web")
    assert answer.headers["Content-Disposition"] == "attachment; filename=surveys.json"
    assert sorted(r["csat"] for r in answer.json) == [2, 5]
    assert recent(1, actor="hoa", action="export", db=db)[0]["target"] == "2026-11-20 → 2026-11-20, kênh web"
    workbook = hoa.get("/reports/export?what=surveys&format=xlsx")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"  # a zip, as every XLSX file
