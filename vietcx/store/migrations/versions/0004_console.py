"""The knowledge base's versions saved from the staff console (who changed what, to restore any).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("topic_id", sa.String(64)),
        sa.Column("summary", sa.String(200)),
        sa.Column("content", sa.Text, nullable=False),
    )
    op.create_index("ix_kb_versions_at", "kb_versions", ["at"])


def downgrade() -> None:
    op.drop_index("ix_kb_versions_at", table_name="kb_versions")
    op.drop_table("kb_versions")
