"""A message's sentiment row is unique by the SHA-256 of its text, not the text itself.

PostgreSQL refuses a unique index entry over about 2.7 kB, so a long message pasted by a customer
failed the whole conversation's sentiment rows. Existing rows get their hash here.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

rows = sa.table("message_sentiment", sa.column("id"), sa.column("text"), sa.column("text_sha256"))


def upgrade() -> None:
    with op.batch_alter_table("message_sentiment") as batch:
        batch.add_column(sa.Column("text_sha256", sa.String(64)))
    bind = op.get_bind()
    for row_id, text in bind.execute(sa.select(rows.c.id, rows.c.text)).all():
        digest = hashlib.sha256((text or "").encode("utf-8", "surrogatepass")).hexdigest()
        bind.execute(rows.update().where(rows.c.id == row_id).values(text_sha256=digest))
    with op.batch_alter_table("message_sentiment") as batch:
        batch.drop_constraint("uq_message_sentiment", type_="unique")
        batch.create_unique_constraint("uq_message_sentiment_text", ["sender_id", "sent_at", "text_sha256"])


def downgrade() -> None:
    with op.batch_alter_table("message_sentiment") as batch:
        batch.drop_constraint("uq_message_sentiment_text", type_="unique")
        batch.create_unique_constraint("uq_message_sentiment", ["sender_id", "sent_at", "text"])
        batch.drop_column("text_sha256")
