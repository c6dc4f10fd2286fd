"""Escalation exports (CSV/XLSX/JSON, streamed, personal data masked) and the escalation report:
how many per reason and channel, and how long staff took to resolve them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from vietcx.privacy import export_row, mask_text
from vietcx.reports.files import write_rows
from vietcx.store import escalations
from vietcx.store.db import engine
from vietcx.store.period import Period

COLUMNS = [
    "id",
    "created_at",
    "assigned_at",
    "resolved_at",
    "channel",
    "sender_id",
    "customer_id",
    "customer_name",
    "reason",
    "status",
    "staff",
    "resolved_by",
    "sentiment",
]
NUMBERS = ["reason", "channel", "status", "created_at", "resolved_at"]


def _masked(row: dict) -> dict:
    """The customer's name goes, and with it from the sentiment summary's quoted message."""
    name = row["customer_name"]
    if row["sentiment"]:
        summary = json.loads(row["sentiment"])
        # the full name and its capitalised words ("chị Ngọc" → "Ngọc"), never the honorific alone
        names = [name, *(word for word in (name or "").split() if word[:1].isupper())]
        summary["most_negative_text"] = mask_text(summary.get("most_negative_text"), names)
        row["sentiment"] = json.dumps(summary, ensure_ascii=False)
    row["customer_name"] = "[tên]" if name else name
    return row


def _export_rows(where: Period, include_pii: bool, db: Engine) -> Iterator[list[dict]]:
    for batch in escalations.rows(where, db):
        for row in batch:
            export_row(row, include_pii)
            if not include_pii:
                _masked(row)
        yield [{column: row[column] for column in COLUMNS} for row in batch]


def export(
    where: Period,
    fmt: str,
    out: Path,
    include_pii: bool = False,
    db: Engine | None = None,
    progress: bool = True,
) -> int:
    """Writes the matching escalations to `out`; returns how many."""
    db = db or engine()
    total = sum(escalations.counts(where, db=db).values())
    return write_rows(_export_rows(where, include_pii, db), COLUMNS, fmt, out, total, progress)


def load_frame(where: Period, db: Engine | None = None) -> pd.DataFrame:
    """The matching escalations' numbers (no personal data), with minutes from opened to resolved."""
    frames = [
        pd.DataFrame(batch, columns=COLUMNS)[NUMBERS] for batch in escalations.rows(where, db or engine())
    ]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=NUMBERS)
    # SQLite hands back naive datetimes, PostgreSQL aware ones: both are UTC
    created = pd.to_datetime(frame["created_at"], utc=True)
    resolved = pd.to_datetime(frame["resolved_at"], utc=True)
    frame["minutes_to_resolve"] = (resolved - created).dt.total_seconds() / 60
    return frame


def _summary(frame: pd.DataFrame, by: str, values: list[str]) -> pd.DataFrame:
    """Per value of `by`: escalations, resolved, median minutes to resolve (empty groups included)."""
    groups = frame.groupby(frame[by].fillna("-"))
    table = pd.DataFrame(
        {
            "escalations": groups.size(),
            "resolved": groups["minutes_to_resolve"].count(),
            "median_minutes_to_resolve": groups["minutes_to_resolve"].median().round(1),
        }
    )
    table = table.reindex(list(dict.fromkeys([*values, *table.index])))
    table[["escalations", "resolved"]] = table[["escalations", "resolved"]].fillna(0).astype(int)
    table.index.name = by
    return table


def figures(where: Period, db: Engine | None = None) -> dict:
    """Escalations per reason, channel and day (UTC, as the period), median time to resolve: what
    the CLI report prints and the console's /reports page draws."""
    frame = load_frame(where, db)
    durations = frame["minutes_to_resolve"].dropna()
    frame["day"] = pd.to_datetime(frame["created_at"], utc=True).dt.strftime("%Y-%m-%d")
    return {
        "escalations": len(frame),
        "resolved": len(durations),
        "median_minutes_to_resolve": round(float(durations.median()), 1) if len(durations) else None,
        "by_reason": _summary(frame, "reason", list(escalations.REASONS)),
        "by_channel": _summary(frame, "channel", []),
        "by_day": _summary(frame, "day", []),
    }


def report(where: Period, out_dir: Path, db: Engine | None = None) -> dict:
    """`figures`, and a PNG chart saved in `out_dir`."""
    result = figures(where, db)
    out_dir.mkdir(parents=True, exist_ok=True)
    result["chart"] = _chart(result, out_dir / "escalations.png")
    return result


def table(result: dict) -> str:
    """The report as text."""
    median = result["median_minutes_to_resolve"]
    return (
        f"{result['escalations']} escalations, {result['resolved']} resolved; median time to resolve: "
        + (f"{median} minutes" if median is not None else "-")
        + "\n\nper reason:\n"
        + result["by_reason"].to_string(na_rep="-")
        + "\n\nper channel:\n"
        + (result["by_channel"].to_string(na_rep="-") if len(result["by_channel"]) else "(none)")
    )


def _chart(result: dict, path: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(14, 4.5))
    panels = [
        (result["by_reason"]["escalations"], "Số yêu cầu theo lý do"),
        (result["by_channel"]["escalations"], "Số yêu cầu theo kênh"),
        (result["by_reason"]["median_minutes_to_resolve"].fillna(0), "Thời gian giải quyết (trung vị, phút)"),
    ]
    for axis, (series, title) in zip(axes, panels, strict=True):
        axis.bar([str(k) for k in series.index], list(series.values), color="#0a6cff")
        axis.set_title(title)
        axis.tick_params(axis="x", labelrotation=20)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return str(path)
