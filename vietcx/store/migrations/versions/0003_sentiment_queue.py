"""The sentiment sweep follows a queue filled by Rasa's event broker, not the tracker's ids.

With several Rasa servers on PostgreSQL, event ids commit out of order, so following MAX(id) skipped
events; the queue's rows are removed only once written. `leases` lets one process sweep at a time.
The old high-water mark (`sync_state`) goes.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sentiment_queue",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(200), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("timestamp", sa.String(32), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sentiment_queue_sender_id", "sentiment_queue", ["sender_id"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(100), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
    )
    op.drop_table("sync_state")


def downgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.drop_table("leases")
    op.drop_index("ix_sentiment_queue_sender_id", "sentiment_queue")
    op.drop_table("sentiment_queue")
