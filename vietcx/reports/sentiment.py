"""Sentiment exports (per message, per conversation) and the sentiment report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from vietcx.privacy import export_row
from vietcx.reports.files import write_rows
from vietcx.store.conversations import mood_of
from vietcx.store.db import conversation_sentiment, engine, message_sentiment, stream, surveys
from vietcx.store.period import Period

MESSAGE_COLUMNS = [
    "sent_at",
    "channel",
    "sender_id",
    "topic",
    "intent",
    "label",
    "confidence",
    "score",
    "text",
]
CONVERSATION_COLUMNS = [
    "started_at",
    "last_message_at",
    "channel",
    "sender_id",
    "customer_id",
    "topic",
    "messages",
    "negative",
    "neutral",
    "positive",
    "mean_score",
    "trend",
    "most_negative_score",
    "most_negative_text",
    "ended",
]
TURNED_NEGATIVE = -0.5  # a trend this low (from the first to the last third) means the mood turned


def _batches(query, include_pii: bool, text_columns: tuple[str, ...], db: Engine) -> Iterator[list[dict]]:  # noqa: ANN001
    for chunk in stream(query, db):
        yield [export_row(dict(r._mapping), include_pii, text_columns) for r in chunk]


def export(
    period: Period,
    level: str,
    fmt: str,
    out: Path,
    include_pii: bool = False,
    db: Engine | None = None,
    progress: bool = True,
) -> int:
    """Writes per-message (`level="messages"`) or per-conversation rows; returns how many."""
    db = db or engine()
    if level == "messages":
        table, columns, when, texts = message_sentiment, MESSAGE_COLUMNS, "sent_at", ("text",)
    else:
        table, columns, when, texts = (
            conversation_sentiment,
            CONVERSATION_COLUMNS,
            "started_at",
            ("most_negative_text",),
        )
    where = period.clause(table, when)
    with db.connect() as connection:
        total = connection.execute(select(func.count()).select_from(table).where(where)).scalar_one()
    query = select(*[table.c[c] for c in columns]).where(where).order_by(table.c[when])
    return write_rows(_batches(query, include_pii, texts, db), columns, fmt, out, total, progress)


def shares(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Share of negative / neutral / positive messages per value of `by`."""
    if frame.empty:
        return pd.DataFrame(columns=["negative", "neutral", "positive", "messages"])
    table = pd.crosstab(frame[by].fillna("-"), frame["label"], normalize="index").round(3)
    table = table.reindex(columns=["negative", "neutral", "positive"], fill_value=0.0)
    table["messages"] = frame.groupby(frame[by].fillna("-")).size()
    return table


def figures(period: Period, db: Engine | None = None) -> dict:
    """Shares per day, channel and topic; conversations that turned negative; sentiment vs CSAT:
    what the CLI report prints and the console's /reports page draws."""
    db = db or engine()
    with db.connect() as connection:
        messages = pd.read_sql(
            select(message_sentiment).where(period.clause(message_sentiment, "sent_at")), connection
        )
        conversations = pd.read_sql(
            select(conversation_sentiment).where(period.clause(conversation_sentiment, "started_at")),
            connection,
        )
        answers = pd.read_sql(
            select(surveys.c.sender_id, surveys.c.csat).where(surveys.c.csat.isnot(None)), connection
        )
    messages["day"] = pd.to_datetime(messages["sent_at"]).dt.strftime("%Y-%m-%d")
    turned = conversations[conversations["trend"] <= TURNED_NEGATIVE]
    mood = conversations["mean_score"].map(mood_of)
    with_csat = conversations.assign(mood=mood).merge(answers, on="sender_id", how="inner")
    csat_by_mood = with_csat.groupby("mood", observed=True)["csat"].agg(["count", "mean"]).round(2)
    return {
        "messages": len(messages),
        "conversations": len(conversations),
        "by_day": shares(messages, "day"),
        "by_channel": shares(messages, "channel"),
        "by_topic": shares(messages, "topic"),
        "turned_negative": turned[["started_at", "channel", "topic", "messages", "mean_score", "trend"]],
        "csat_by_mood": csat_by_mood,
    }


def report(period: Period, out_dir: Path, db: Engine | None = None) -> dict:
    """`figures`, and PNG charts saved in `out_dir`."""
    result = figures(period, db)
    result["charts"] = _charts(result, out_dir)
    return result


def table(result: dict) -> str:
    """The report as text."""
    parts = [f"{result['messages']} messages in {result['conversations']} conversations"]
    for key, title in [
        ("by_day", "share per day"),
        ("by_channel", "share per channel"),
        ("by_topic", "share per topic"),
        ("turned_negative", "conversations that turned negative"),
        ("csat_by_mood", "CSAT by the conversation's mood"),
    ]:
        frame = result[key]
        parts.append(f"\n{title}:\n" + (frame.to_string() if len(frame) else "(none)"))
    return "\n".join(parts)


def _charts(result: dict, out_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    colors = {"negative": "#d9534f", "neutral": "#adb5bd", "positive": "#28a745"}
    for key, name, title in [
        ("by_day", "sentiment_by_day.png", "Tỷ lệ cảm xúc theo ngày"),
        ("by_channel", "sentiment_by_channel.png", "Tỷ lệ cảm xúc theo kênh"),
    ]:
        frame = result[key][["negative", "neutral", "positive"]] if len(result[key]) else None
        figure, axes = plt.subplots(figsize=(9, 4.5))
        if frame is not None:
            frame.plot(kind="bar", stacked=True, ax=axes, color=[colors[c] for c in frame.columns])
        axes.set_title(title)
        axes.set_ylim(0, 1)
        figure.tight_layout()
        path = out_dir / name
        figure.savefig(path, dpi=100)
        plt.close(figure)
        paths.append(str(path))
    return paths
