"""The call back offered to a customer whose escalation nobody took: when it was offered, the
number left and when.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("callback_offered_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("callback_phone", sa.String(20)))
        batch.add_column(sa.Column("callback_requested_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_column("callback_requested_at")
        batch.drop_column("callback_phone")
        batch.drop_column("callback_offered_at")
