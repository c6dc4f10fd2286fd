"""Figures for operators in Prometheus' format (prometheus-client), at /metrics of the Rasa server
and of the action server.

The Rasa server counts what passes through it, per channel: customer messages, replies sent,
messages not understood (fallbacks) and the time of each turn. `make run` runs several Rasa
processes: each writes its counts into PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess
mode; the folder is emptied before they start) and /metrics, whichever process answers, adds them
up. The action server reports what the product database holds when asked: escalations not yet
resolved, survey answers per status, messages waiting in the outbox and deliveries that failed —
the same whichever process is asked. No figure holds personal data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from vietcx.store.db import escalations, outbox, surveys

CONTENT_TYPE = CONTENT_TYPE_LATEST
MESSAGES = Counter("vietcx_messages", "Customer messages handled", ["channel"])
REPLIES = Counter("vietcx_replies", "Messages sent to customers", ["channel"])
FALLBACKS = Counter("vietcx_fallbacks", "Customer messages the assistant did not understand", ["channel"])
TURN_SECONDS = Histogram(
    "vietcx_turn_seconds",
    "From a customer's message to the end of the assistant's turn",
    ["channel"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def exposition() -> bytes:
    """This server's counters, summed over its processes when there are several."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


class DatabaseFigures(Collector):
    """Gauges read from the product database at each scrape."""

    def __init__(self, db: Engine) -> None:
        self._db = db

    def collect(self) -> Iterator[Metric]:
        with self._db.connect() as connection:
            open_escalations = connection.execute(
                select(func.count()).select_from(escalations).where(escalations.c.status != "resolved")
            ).scalar()
            by_status_query = select(surveys.c.status, func.count()).group_by(surveys.c.status)
            answers = connection.execute(by_status_query).all()
            waiting = connection.execute(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.delivered_at.is_(None), outbox.c.failed_at.is_(None))
            ).scalar()
            failed = connection.execute(
                select(func.count()).select_from(outbox).where(outbox.c.failed_at.is_not(None))
            ).scalar()
        yield GaugeMetricFamily(
            "vietcx_escalations_open", "Escalations not yet resolved", value=open_escalations
        )
        by_status = GaugeMetricFamily("vietcx_survey_answers", "Surveys by status", labels=["status"])
        for status, count in answers:
            by_status.add_metric([status], count)
        yield by_status
        yield GaugeMetricFamily("vietcx_outbox_backlog", "Messages waiting to reach customers", value=waiting)
        yield GaugeMetricFamily("vietcx_outbox_failed", "Messages that could not be delivered", value=failed)


def database_exposition(db: Engine) -> bytes:
    """The database's figures, for the action server's /metrics."""
    registry = CollectorRegistry()
    registry.register(DatabaseFigures(db))
    return generate_latest(registry)
