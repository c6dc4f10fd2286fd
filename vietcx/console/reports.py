"""The reports page (/reports): the CLI reports' own figures (vietcx/reports, one source of truth)
drawn as charts in the page, and the exports as downloads (masked unless an admin asks otherwise)."""

from __future__ import annotations

import logging
import math
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from flask import Blueprint, abort, current_app, render_template, request, send_file
from flask_login import current_user
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from vietcx.console import labels
from vietcx.console.auth import record
from vietcx.console.permissions import can_export_personal_data
from vietcx.console.transcript import topic_titles
from vietcx.reports import escalations as escalation_report
from vietcx.reports import sentiment as sentiment_report
from vietcx.reports import surveys as survey_report
from vietcx.reports.files import FORMATS
from vietcx.store import sentiment
from vietcx.store.period import Period

logger = logging.getLogger(__name__)
blueprint = Blueprint("reports", __name__)
MOODS = ("negative", "neutral", "positive")
# what can be downloaded: the CLI's exports, by the same functions
EXPORTS = {
    "surveys": "Khảo sát",
    "escalations": "Yêu cầu hỗ trợ",
    "conversations": "Cảm xúc theo cuộc trò chuyện",
    "messages": "Cảm xúc theo tin nhắn",
}
MEDIA = {
    "csv": "text/csv",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _sweep(db: Engine) -> None:
    """The conversations' sentiment brought up to date first, as the CLI does before its report; if
    that fails (the tracker store unreachable), the figures of the action server's last sweep."""
    try:
        sentiment.sweep(db, current_app.config["VIETCX_TRACKER_URL"])
    except SQLAlchemyError:
        logger.exception("Sentiment sweep before a report failed: showing the last swept figures")


def _day(name: str, label: str) -> datetime | None:
    """A YYYY-MM-DD day as the CLI reads it (UTC), so both give the same figures for the same days."""
    value = request.args.get(name, "")
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        abort(400, f"“{label}” chưa đúng dạng ngày (ví dụ 2026-11-30).")


def _period() -> Period:
    """The period and channel of the URL; anything else than a known channel or a day is refused."""
    channel = request.args.get("channel") or None
    if channel is not None and channel not in labels.CHANNELS:
        abort(400, "Kênh này không có trong danh sách.")
    start, end = _day("from", "Từ ngày"), _day("to", "Đến ngày")
    if start and end and end < start:
        abort(400, "“Đến ngày” đang trước “Từ ngày”.")
    return Period(start, end, channel)


def _number(value: Any) -> Any:  # noqa: ANN401 (whatever pandas holds)
    """A cell for the page and its JSON: NaN and missing values become None, numpy numbers plain."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _records(frame: pd.DataFrame, key: str) -> list[dict]:
    """A report table as rows, its index under `key`."""
    rows = frame.to_dict("records")  # by column, so integer columns stay integers
    return [
        {key: str(index), **{column: _number(value) for column, value in row.items()}}
        for index, row in zip(frame.index, rows, strict=True)
    ]


def _chart(chart_id: str, kind: str, labels_: list[str], series: dict[str, list], **options: Any) -> dict:
    """One chart as console.js draws it with Chart.js (`percent`: values 0–1 shown as %, stacked)."""
    return {
        "id": chart_id,
        "type": kind,
        "labels": labels_,
        "datasets": [{"label": name, "data": values} for name, values in series.items()],
        **options,
    }


def _charts(surveys: dict, moods: dict, escalations: dict, titles: dict[str, str]) -> list[dict]:
    days = sorted(
        set(surveys["by_day"])
        | {r["day"] for r in moods["by_day"]}
        | {r["day"] for r in escalations["by_day"]}
    )
    survey_day = surveys["by_day"]
    mood_day = {r["day"]: r for r in moods["by_day"]}
    escalation_day = {r["day"]: r["escalations"] for r in escalations["by_day"]}
    mood_channel = moods["by_channel"]
    channel_names = [labels.CHANNELS.get(c, c) for c in surveys["by_channel"]]
    return [
        _chart(
            "chart-csat-day",
            "line",
            days,
            {
                "CSAT (% hài lòng)": [survey_day.get(d, {}).get("csat_score") for d in days],
                "Tỷ lệ phản hồi (%)": [
                    None
                    if survey_day.get(d, {}).get("response_rate") is None
                    else round(survey_day[d]["response_rate"] * 100, 1)
                    for d in days
                ],
            },
        ),
        _chart(
            "chart-ces-day",
            "line",
            days,
            {"CES trung bình (1–7)": [survey_day.get(d, {}).get("mean_ces") for d in days]},
        ),
        _chart(
            "chart-sentiment-day",
            "bar",
            days,
            {labels.SENTIMENTS[m]: [mood_day.get(d, {}).get(m) for d in days] for m in MOODS},
            percent=True,
        ),
        _chart(
            "chart-escalations-day", "bar", days, {"Yêu cầu hỗ trợ": [escalation_day.get(d, 0) for d in days]}
        ),
        _chart(
            "chart-channel",
            "bar",
            channel_names,
            {"CSAT (% hài lòng)": [m["csat_score"] for m in surveys["by_channel"].values()]},
        ),
        _chart(
            "chart-sentiment-channel",
            "bar",
            [labels.CHANNELS.get(r["channel"], r["channel"]) for r in mood_channel],
            {labels.SENTIMENTS[m]: [r[m] for r in mood_channel] for m in MOODS},
            percent=True,
        ),
        _chart(
            "chart-topic",
            "bar",
            [titles.get(t, t) for t, _ in surveys["improve_first"]],
            {
                "CSAT (% hài lòng)": [m["csat_score"] for _, m in surveys["improve_first"]],
            },
        ),
        _chart(
            "chart-reason",
            "bar",
            [labels.REASONS.get(r["reason"], r["reason"]) for r in escalations["by_reason"]],
            {"Yêu cầu hỗ trợ": [r["escalations"] for r in escalations["by_reason"]]},
        ),
    ]


@blueprint.get("/reports")
def page() -> str:
    where = _period()
    db = current_app.extensions["vietcx.db"]
    _sweep(db)
    surveys = survey_report.figures(where, db)
    surveys["improve_first"] = survey_report.improve_first(surveys["by_topic"])
    found = sentiment_report.figures(where, db)
    moods = {
        "messages": found["messages"],
        "conversations": found["conversations"],
        "overall": {m: _number(v) for m, v in _overall_shares(found).items()},
        **{key: _records(found[key], key[3:]) for key in ("by_day", "by_channel", "by_topic")},
    }
    escalated = escalation_report.figures(where, db)
    escalations = {
        **{k: escalated[k] for k in ("escalations", "resolved", "median_minutes_to_resolve")},
        **{key: _records(escalated[key], key[3:]) for key in ("by_day", "by_channel", "by_reason")},
    }
    titles = topic_titles()
    charts = _charts(surveys, moods, escalations, titles)
    mood_day = {r["day"]: r for r in moods["by_day"]}
    escalation_day = {r["day"]: r["escalations"] for r in escalations["by_day"]}
    days = [
        {
            "day": day,
            "survey": surveys["by_day"].get(day),
            "mood": mood_day.get(day),
            "escalations": escalation_day.get(day, 0),
        }
        for day in charts[0]["labels"]
    ]
    return render_template(
        "reports.html",
        surveys=surveys,
        moods=moods,
        escalations=escalations,
        titles=titles,
        charts=charts,
        days=days,
        chosen={k: request.args.get(k, "") for k in ("from", "to", "channel")},
        exports=EXPORTS,
        formats=FORMATS,
        may_export_personal=can_export_personal_data(current_user),
    )


def _overall_shares(found: dict) -> dict:
    """The period's share of negative / neutral / positive messages (the per-day shares weighted)."""
    by_day = found["by_day"]
    if not len(by_day) or not by_day["messages"].sum():
        return dict.fromkeys(MOODS)
    total = by_day["messages"].sum()
    return {m: round(float((by_day[m] * by_day["messages"]).sum() / total), 3) for m in MOODS}


@blueprint.get("/reports/export")
def export() -> Response:
    """One export of the period as a file; personal data only when an admin asks for it."""
    what = request.args.get("what", "")
    if what not in EXPORTS:
        abort(404, "Không có loại dữ liệu xuất này.")
    fmt = request.args.get("format", "csv")
    if fmt not in FORMATS:
        abort(400, "Định dạng tệp chưa đúng (csv, xlsx hoặc json).")
    personal = request.args.get("personal") == "1"
    if personal and not can_export_personal_data(current_user):
        abort(403, "Chỉ quản trị viên mới tải được dữ liệu có thông tin cá nhân.")
    where = _period()
    db = current_app.extensions["vietcx.db"]
    folder = Path(tempfile.mkdtemp(prefix="vietcx-export-"))
    out = folder / f"{what}.{fmt}"
    if what == "surveys":
        count = survey_report.export(where, fmt, out, personal, db, progress=False)
    elif what == "escalations":
        count = escalation_report.export(where, fmt, out, personal, db, progress=False)
    else:
        _sweep(db)
        count = sentiment_report.export(where, what, fmt, out, personal, db, progress=False)
    detail = f"{what}.{fmt}, {count} dòng, " + (
        "có thông tin cá nhân" if personal else "đã che thông tin cá nhân"
    )
    record("export", current_user.username, _describe(where), detail)
    response = send_file(out, mimetype=MEDIA[fmt], as_attachment=True, download_name=out.name)
    response.call_on_close(lambda: _remove(folder))
    return response


def _describe(where: Period) -> str:
    """The period and channel in the audit trail."""
    days = [d.strftime("%Y-%m-%d") if d else "…" for d in (where.start, where.end)]
    return f"{days[0]} → {days[1]}" + (f", kênh {where.channel}" if where.channel else "")


def _remove(folder: Path) -> None:
    for path in folder.iterdir():
        path.unlink(missing_ok=True)
    folder.rmdir()
