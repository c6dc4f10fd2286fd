"""Survey exports (CSV/XLSX/JSON, streamed, personal data masked) and the CSAT/CES/NPS report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from vietcx.privacy import export_row
from vietcx.reports.files import write_rows
from vietcx.store import surveys
from vietcx.store.db import engine
from vietcx.store.period import Period

COLUMNS = [
    "id",
    "started_at",
    "answered_at",
    "channel",
    "sender_id",
    "customer_id",
    "topic",
    "resolved_by",
    "status",
    "csat",
    "ces",
    "nps",
    "comment",
    "sentiment",
]


def _export_rows(where: Period, include_pii: bool, db: Engine) -> Iterator[list[dict]]:
    """Batches of rows ready to write: masked unless asked otherwise, timestamps as ISO text."""
    for batch in surveys.rows(where, db, with_names=not include_pii):
        for row in batch:
            export_row(row, include_pii, ("comment",), row.get("names", ()))
        yield [{column: row[column] for column in COLUMNS} for row in batch]


def export(
    where: Period,
    fmt: str,
    out: Path,
    include_pii: bool = False,
    db: Engine | None = None,
    progress: bool = True,
) -> int:
    """Writes the matching responses to `out`; returns how many. Streams, so size is no problem."""
    db = db or engine()
    return write_rows(
        _export_rows(where, include_pii, db), COLUMNS, fmt, out, surveys.count(where, db), progress
    )


def load_frame(where: Period, db: Engine | None = None) -> pd.DataFrame:
    """The matching responses' numbers (no personal data) as a DataFrame."""
    numbers = ["channel", "topic", "status", "csat", "ces", "nps", "started_at"]
    frames = [pd.DataFrame(batch, columns=COLUMNS)[numbers] for batch in surveys.rows(where, db or engine())]
    if not frames:
        return pd.DataFrame(columns=numbers)
    return pd.concat(frames, ignore_index=True)


def metrics(frame: pd.DataFrame) -> dict:
    """CSAT score (% of 4–5 answers), mean CES, NPS (% promoters 9–10 − % detractors 0–6, of the
    NPS answers), distributions, response rate (answered / asked)."""
    csat = frame["csat"].dropna().astype(int)
    ces = frame["ces"].dropna().astype(int)
    nps = frame["nps"].dropna().astype(int)
    answered = int((frame["csat"].notna() | frame["ces"].notna() | frame["nps"].notna()).sum())
    return {
        "asked": len(frame),
        "answered": answered,
        "response_rate": round(answered / len(frame), 4) if len(frame) else None,
        "csat_score": round(float((csat >= 4).mean() * 100), 1) if len(csat) else None,
        "mean_ces": round(float(ces.mean()), 2) if len(ces) else None,
        "nps": round(float(((nps >= 9).mean() - (nps <= 6).mean()) * 100), 1) if len(nps) else None,
        "nps_answers": len(nps),
        "csat_distribution": {n: int((csat == n).sum()) for n in range(1, 6)},
        "ces_distribution": {n: int((ces == n).sum()) for n in range(1, 8)},
        "nps_distribution": {n: int((nps == n).sum()) for n in range(0, 11)},
    }


def figures(where: Period, db: Engine | None = None) -> dict:
    """Overall, per day (UTC, as the period), per channel and per topic metrics: what the CLI
    report prints and the console's /reports page draws."""
    frame = load_frame(where, db)
    frame["day"] = pd.to_datetime(frame["started_at"], utc=True).dt.strftime("%Y-%m-%d")
    by = {
        key: {str(value): metrics(group) for value, group in frame.groupby(frame[key].fillna("-"))}
        for key in ("day", "channel", "topic")
    }
    return {
        "overall": metrics(frame),
        "by_day": by["day"],
        "by_channel": by["channel"],
        "by_topic": by["topic"],
    }


def improve_first(by_topic: dict[str, dict]) -> list[tuple[str, dict]]:
    """FAQ topics with answers, the ones to improve first on top: lowest CSAT, then hardest (lowest
    mean CES), then the most asked; a topic without a score yet comes last."""

    def urgency(item: tuple[str, dict]) -> tuple:
        m = item[1]
        unscored = m["csat_score"] is None and m["mean_ces"] is None
        csat = m["csat_score"] if m["csat_score"] is not None else 101.0
        ces = m["mean_ces"] if m["mean_ces"] is not None else 8.0
        return (unscored, csat, ces, -m["asked"], item[0])

    return sorted(by_topic.items(), key=urgency)


def report(where: Period, out_dir: Path, db: Engine | None = None) -> dict:
    """`figures`, and PNG charts saved in `out_dir`."""
    result = figures(where, db)
    out_dir.mkdir(parents=True, exist_ok=True)
    result["charts"] = _charts(
        result["overall"], {k: result[f"by_{k}"] for k in ("channel", "topic")}, out_dir
    )
    return result


def table(result: dict) -> str:
    """The report as text tables."""
    rows = [{"group": "all", **_flat(result["overall"])}]
    rows += [{"group": f"channel={k}", **_flat(v)} for k, v in result["by_channel"].items()]
    rows += [{"group": f"topic={k}", **_flat(v)} for k, v in improve_first(result["by_topic"])]
    distribution = (
        pd.DataFrame(
            {
                "CSAT": pd.Series(result["overall"]["csat_distribution"]),
                "CES": pd.Series(result["overall"]["ces_distribution"]),
            }
        )
        .fillna(0)
        .astype(int)
    )
    return pd.DataFrame(rows).to_string(index=False) + "\n\nanswers per score:\n" + distribution.to_string()


def _flat(m: dict) -> dict:
    return {k: m[k] for k in ("asked", "answered", "response_rate", "csat_score", "mean_ces", "nps")}


def _charts(overall: dict, by: dict, out_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for name, data, title in [
        ("csat_distribution.png", overall["csat_distribution"], "CSAT: số câu trả lời theo điểm (1–5)"),
        ("ces_distribution.png", overall["ces_distribution"], "CES: số câu trả lời theo điểm (1–7)"),
        (
            "csat_by_channel.png",
            {k: v["csat_score"] or 0 for k, v in by["channel"].items()},
            "CSAT (% hài lòng) theo kênh",
        ),
        (
            "csat_by_topic.png",
            {k: v["csat_score"] or 0 for k, v in by["topic"].items()},
            "CSAT (% hài lòng) theo chủ đề",
        ),
    ]:
        figure, axes = plt.subplots(figsize=(8, 4.5))
        axes.bar([str(k) for k in data], list(data.values()), color="#0a6cff")
        axes.set_title(title)
        axes.tick_params(axis="x", labelrotation=45 if len(data) > 7 else 0)
        figure.tight_layout()
        path = out_dir / name
        figure.savefig(path, dpi=100)
        plt.close(figure)
        paths.append(str(path))
    return paths
