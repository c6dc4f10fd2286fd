"""Baseline: the schema of 2026-12-01, the first under Alembic.

Frozen here, apart from vietcx/store/db.py, which moves on: later changes are later migrations.
It creates what is missing and adds missing columns, so it also brings a database made before
Alembic (tables created on first use, columns added at start-up) to this schema, keeping its rows.

Revision ID: 0001
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    text,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

schema = MetaData()

customers = Table(
    "customers",
    schema,
    Column("id", Integer, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("channel_user_id", String(200), nullable=False),
    Column("display_name", String(200)),
    Column("full_name", String(200)),
    Column("given_name", String(100)),
    Column("honorific", String(16)),
    Column("name_source", String(16)),  # "customer" (told us) or "channel" (profile display name)
    Column("name_declined", Boolean, nullable=False, default=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("conversations", Integer, nullable=False, default=0),
    # Zalo and Messenger: when the customer last wrote (the platforms' reply windows count from it)
    # and when their platform profile name was last asked for (once per customer, not per message)
    Column("last_message_at", DateTime(timezone=True)),
    Column("platform_name_at", DateTime(timezone=True)),
    UniqueConstraint("channel", "channel_user_id", name="uq_customer_channel_user"),
)


surveys = Table(
    "surveys",
    schema,
    Column("id", String(36), primary_key=True),
    Column("sender_id", String(200), nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Column("customer_id", String(200), nullable=False, index=True),
    Column("topic", String(64)),  # the FAQ topic (or escalation) that was resolved
    Column("resolved_by", String(16), nullable=False, default="faq"),  # faq | staff
    Column("csat", Integer),
    Column("ces", Integer),
    Column("comment", Text),
    Column("sentiment", Text),  # the conversation's sentiment summary (JSON) when available
    Column("status", String(16), nullable=False),  # asked | partial | completed | skipped
    Column("started_at", DateTime(timezone=True), nullable=False, index=True),
    Column("answered_at", DateTime(timezone=True)),
)


message_sentiment = Table(
    "message_sentiment",
    schema,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(200), nullable=False, index=True),
    Column("session_started_at", DateTime(timezone=True), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False, index=True),
    Column("text", Text),
    Column("intent", String(64)),
    Column("topic", String(64)),  # the FAQ topic the conversation was about at that point
    Column("label", String(16), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("score", Float, nullable=False),  # P(positive) − P(negative), from −1 to 1
    UniqueConstraint("sender_id", "sent_at", "text", name="uq_message_sentiment"),
)

conversation_sentiment = Table(
    "conversation_sentiment",
    schema,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(200), nullable=False, index=True),
    Column("session_started_at", DateTime(timezone=True), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("customer_id", String(200)),
    Column("topic", String(64)),
    Column("messages", Integer, nullable=False),
    Column("negative", Integer, nullable=False),
    Column("neutral", Integer, nullable=False),
    Column("positive", Integer, nullable=False),
    Column("mean_score", Float, nullable=False),
    Column("trend", Float, nullable=False),  # mean score of the last third − of the first third
    Column("most_negative_text", Text),
    Column("most_negative_score", Float),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("last_message_at", DateTime(timezone=True), nullable=False, index=True),
    Column("ended", Boolean, nullable=False, default=False),  # idle or followed by a new session
    UniqueConstraint("sender_id", "session_started_at", name="uq_conversation_sentiment"),
)

# how far the sentiment sweep has read Rasa's tracker store
sync_state = Table(
    "sync_state",
    schema,
    Column("key", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)

# conversations staff should look at (e.g. two strongly negative messages in a row)
flags = Table(
    "flags",
    schema,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(200), nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Column("customer_id", String(200)),
    Column("reason", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("reviewed_at", DateTime(timezone=True)),
)


# a conversation handed to staff: open → assigned (a staff member took it) → resolved (back to the bot)
escalations = Table(
    "escalations",
    schema,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(200), nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Column("customer_id", String(200)),
    Column("customer_name", String(200)),  # how staff address the customer ("chị Ngọc")
    Column("reason", String(32), nullable=False),  # customer_request | faq_fallback | negative_sentiment
    Column("status", String(16), nullable=False, index=True),  # open | assigned | resolved
    Column("staff", String(64)),  # the staff member who took it
    Column("sentiment", Text),  # the conversation's sentiment summary (JSON) when it was escalated
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("assigned_at", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", String(64)),
    # at most one unresolved escalation per conversation, even with two writers at once
    Index(
        "uq_open_escalation",
        "sender_id",
        unique=True,
        sqlite_where=text("status != 'resolved'"),
        postgresql_where=text("status != 'resolved'"),
    ),
)

# messages for a customer that did not come from their own turn (staff replies, the bot's answer
# after staff hand back): web clients are handed them on the customer's next message or poll until
# they acknowledge them; Zalo and Messenger conversations get them pushed (vietcx/channels/platform.py)
outbox = Table(
    "outbox",
    schema,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(200), nullable=False, index=True),
    Column("escalation_id", Integer),
    Column("author", String(16), nullable=False),  # staff | bot
    Column("staff", String(64)),
    Column("text", Text),
    Column("buttons", Text),  # JSON list of {title, payload}
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("handed_out_at", DateTime(timezone=True)),  # first given to a client
    Column("delivered_at", DateTime(timezone=True)),  # acknowledged by the client / the platform
    # pushing to a platform: a process holds a message until `claimed_until` while sending it; a
    # failed attempt is retried from `next_attempt_at`; one that cannot be delivered (reply window
    # closed, customer unreachable) gets `failed_at` and the reason, shown to staff
    Column("claimed_until", DateTime(timezone=True)),
    Column("attempts", Integer, default=0, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    Column("failure", String(200)),
)

# staff accounts of the console (passwords hashed, never stored or logged in clear)
staff = Table(
    "staff",
    schema,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(300), nullable=False),
    Column("role", String(16), nullable=False),  # agent | admin
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # part of every session's id: bumped on sign-out, a new password or disabling, it ends every
    # session of the account at once. Nullable: migrate() adds it bare, so older rows read NULL (= 0)
    Column("session_epoch", Integer, default=0, server_default="0"),
)

# who did what in the console or on the staff command line, shown to admins at /audit
# (never a password or a message's text)
audit_log = Table(
    "audit_log",
    schema,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(64), nullable=False, index=True),  # a user name (as typed, if failed) or "cli"
    Column("action", String(32), nullable=False, index=True),
    Column("target", String(200)),  # an escalation id or a user name
    Column("detail", String(200)),
    Column("address", String(64)),  # the browser's address; none for the command line
)

# platform events already taken in (Zalo, Messenger resend what they got no timely answer for):
# the unique constraint lets exactly one of several deliveries through, even arriving at once
channel_events = Table(
    "channel_events",
    schema,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),  # zalo | messenger
    Column("event_id", String(128), nullable=False),  # the platform's id; its SHA-256 when longer
    Column("received_at", DateTime(timezone=True), nullable=False, index=True),
    UniqueConstraint("platform", "event_id", name="uq_channel_event"),
)


# platform credentials that change while the product runs: Zalo's access token lasts about 25 hours
# and each refresh returns a new single-use refresh token, so both live here, shared by every
# process; `refreshing_until` lets one process at a time refresh
platform_tokens = Table(
    "platform_tokens",
    schema,
    Column("platform", String(16), primary_key=True),
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("refreshing_until", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


# Rasa's conversation locks (vietcx/store/locks.py): one row per ticket, so that several Rasa server
# processes handle a conversation's messages one at a time, in order
conversation_locks = Table(
    "conversation_locks",
    schema,
    Column("conversation_id", String(200), primary_key=True),
    Column("ticket", Integer, primary_key=True, autoincrement=False),
    Column("expires_at", Float, nullable=False),  # Unix time, as Rasa's tickets keep it
)


def upgrade() -> None:
    bind = op.get_bind()
    schema.create_all(bind, checkfirst=True)
    inspector = inspect(bind)
    for table in schema.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                kind = column.type.compile(dialect=bind.dialect)
                op.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore a backup instead")
