"""Engine and schema of the product's database (SQLite by default, PostgreSQL by URL).

The schema is brought up to date by Alembic's migrations (vietcx/store/migrations/) whenever a
process first opens the database, so upgrading never needs a manual step. A change to a table here
needs its migration too: `alembic revision --autogenerate` against a migrated database writes one
to check, and tests/unit/test_migrations.py fails until it exists.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import portalocker
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
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import URL, Engine, Row, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql import Select

from vietcx import retrying
from vietcx.settings import database_url

logger = logging.getLogger(__name__)
T = TypeVar("T")
metadata = MetaData()

customers = Table(
    "customers",
    metadata,
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
    metadata,
    Column("id", String(36), primary_key=True),
    Column("sender_id", String(200), nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Column("customer_id", String(200), nullable=False, index=True),
    Column("topic", String(64)),  # the FAQ topic (or escalation) that was resolved
    Column("resolved_by", String(16), nullable=False, default="faq"),  # faq | staff
    Column("csat", Integer),
    Column("ces", Integer),
    Column("nps", Integer),  # 0–10, only when data/survey.yml asks it
    Column("comment", Text),
    Column("sentiment", Text),  # the conversation's sentiment summary (JSON) when available
    Column("status", String(16), nullable=False),  # asked | partial | completed | skipped
    Column("started_at", DateTime(timezone=True), nullable=False, index=True),
    Column("answered_at", DateTime(timezone=True)),
)


def connection_lost(error: BaseException) -> bool:
    """Whether a database error means the server could not be reached (restarting, failed over),
    so the same work is worth doing again in a moment, rather than a mistake in the work. SQLite
    calls a missing table an operational error too: there only a locked database counts."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, OperationalError):
        return not isinstance(error.orig, sqlite3.Error) or "locked" in str(error.orig)
    return False


async def while_unreachable(work: Callable[[], Awaitable[T]], what: str) -> T:
    """`work()` awaited, and started again for up to VIETCX_DB_RETRY_SECONDS (30) while the database
    cannot be reached (restarted, failed over): the customer's turn waits instead of failing or
    being kept in one process's memory only. Any other error is the work's own and is raised."""
    waits = retrying.pauses("VIETCX_DB_RETRY_SECONDS", 30)
    while True:
        try:
            return await work()
        except Exception as error:
            pause = next(waits, None) if connection_lost(error) else None
            if pause is None:
                raise
            logger.warning("%s: database unreachable, trying again in %.1f s", what, pause)
            await asyncio.sleep(pause)


def url_text(url: URL) -> str:
    """A URL as text that parses back to the same password: SQLAlchemy 1.4 quotes ":", "@" and "/"
    in it but not "%", so a password holding "%41" would come back as "A"."""
    if url.password:
        url = url.set(password=str(url.password).replace("%", "%25"))
    return url.render_as_string(hide_password=False)


def text_sha256(text: str | None) -> str:
    """The hex SHA-256 of a message's text (of "" for none)."""
    return hashlib.sha256((text or "").encode("utf-8", "surrogatepass")).hexdigest()


def _hash_of_text(context: Any) -> str:  # noqa: ANN401 (SQLAlchemy's execution context)
    return text_sha256(context.get_current_parameters().get("text"))


message_sentiment = Table(
    "message_sentiment",
    metadata,
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
    # the text's SHA-256 stands for it in the unique key: PostgreSQL refuses index entries over
    # about 2.7 kB, and customers paste long texts (filled in from `text` on every insert)
    Column("text_sha256", String(64), default=lambda ctx: _hash_of_text(ctx)),
    UniqueConstraint("sender_id", "sent_at", "text_sha256", name="uq_message_sentiment_text"),
)

conversation_sentiment = Table(
    "conversation_sentiment",
    metadata,
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

# the conversations whose sentiment rows are to be written again: one row per tracker event that
# matters to them, put here by Rasa's event broker (vietcx/store/sentiment_queue.py) and removed
# by the sweep once written (vietcx/store/sentiment.py)
sentiment_queue = Table(
    "sentiment_queue",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(200), nullable=False, index=True),
    Column("event", String(32), nullable=False),
    Column("timestamp", String(32), nullable=False),  # the event's own, as repr(float)
    Column("queued_at", DateTime(timezone=True), nullable=False),
)

# work that one process at a time may do (the sentiment sweep): taken until `until` by `holder`
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(100), nullable=False),
    Column("until", DateTime(timezone=True), nullable=False),
)

# conversations staff should look at (e.g. two strongly negative messages in a row)
flags = Table(
    "flags",
    metadata,
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
    metadata,
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
    # the number the customer left to be called back while nobody took the escalation
    Column("callback_offered_at", DateTime(timezone=True)),  # when a call back was offered
    Column("callback_phone", String(20)),
    Column("callback_requested_at", DateTime(timezone=True)),
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
    metadata,
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
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(300), nullable=False),
    Column("role", String(16), nullable=False),  # agent | editor | admin
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
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(64), nullable=False, index=True),  # a user name (as typed, if failed) or "cli"
    Column("action", String(32), nullable=False, index=True),
    Column("target", String(200)),  # an escalation id or a user name
    Column("detail", String(200)),
    Column("address", String(64)),  # the browser's address; none for the command line
)

# every version of the FAQ knowledge base saved from the console (and the file as found on disk
# when it had changed outside it), whole: any one can be restored
kb_versions = Table(
    "kb_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(64), nullable=False),  # a staff user name, or "file" for an outside edit
    Column("action", String(16), nullable=False),  # add | edit | delete | example | restore | file
    Column("topic_id", String(64)),
    Column("summary", String(200)),
    Column("content", Text, nullable=False),  # the whole file after the change
)


# platform events already taken in (Zalo, Messenger resend what they got no timely answer for):
# the unique constraint lets exactly one of several deliveries through, even arriving at once
channel_events = Table(
    "channel_events",
    metadata,
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
    metadata,
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
    metadata,
    Column("conversation_id", String(200), primary_key=True),
    Column("ticket", Integer, primary_key=True, autoincrement=False),
    Column("expires_at", Float, nullable=False),  # Unix time, as Rasa's tickets keep it
)


def engine(url: str | None = None) -> Engine:
    """The engine for a URL (default: the configured one, read now), with the schema ready."""
    return _engine(url or database_url())


@functools.lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        created = create_engine(url, future=True, **sqlite_pool_options(url))
        event.listen(created, "connect", _sqlite_pragmas)
    else:
        created = create_engine(url, future=True, pool_pre_ping=True)
    migrate(created)
    return created


def sqlite_pool_options(url: str | URL) -> dict[str, Any]:
    """Engine options that keep a SQLite file's connections open in a pool, usable from any thread
    one at a time. SQLAlchemy 1.4 opens and closes a connection for every use of a file: with the
    pragmas below that is 2.9 ms for a lock ticket taken and given back, 0.45 ms pooled. An
    in-memory database keeps SQLAlchemy's own choice (a pool would give each thread its own)."""
    if make_url(url).database in (None, "", ":memory:"):
        return {}
    return {"poolclass": QueuePool, "connect_args": {"check_same_thread": False}}


def _sqlite_pragmas(connection, _record) -> None:  # noqa: ANN001 (DB-API objects)
    """WAL and a busy timeout: the Rasa server processes, the action server and the CLI share the
    file, and a rollback journal would make each writer block every reader. synchronous=NORMAL:
    in WAL mode a commit still survives a crash of any process, without a wait on the disk at
    every commit (only a power cut may lose the last ones)."""
    if not isinstance(connection, sqlite3.Connection):
        return
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def tune_every_sqlite_engine() -> None:
    """The same settings for every SQLite engine of the process, Rasa's SQL tracker store's too
    (the Rasa server calls this before Rasa makes its engine)."""
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)


MIGRATIONS = Path(__file__).with_name("migrations")


def migrate(target: Engine, revision: str = "head") -> None:
    """Brings the database's schema to the newest migration (vietcx/store/migrations, Alembic),
    one process at a time: every server opens the database when it starts, and several start at
    once. A database from before Alembic is brought up by the first migration, rows kept.
    `revision`: another one than the newest (tests of a migration start from the one before)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with _one_migrator(target), target.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextmanager
def _one_migrator(target: Engine) -> Iterator[None]:
    """A lock across processes for the migration: a lock file beside a SQLite database, an
    advisory lock on PostgreSQL."""
    if target.dialect.name == "sqlite" and target.url.database not in (None, "", ":memory:"):
        with portalocker.Lock(f"{target.url.database}.migrating", timeout=120):
            yield
    elif target.dialect.name == "postgresql":
        with target.connect() as holder:
            holder.execute(text("SELECT pg_advisory_lock(742863)"))
            try:
                yield
            finally:
                holder.execute(text("SELECT pg_advisory_unlock(742863)"))
    else:
        yield


def stream(query: Select, db: Engine, batch: int = 5000) -> Iterator[list[Row]]:
    """The query's rows in batches, read as they are written out: exports of any size stay small."""
    with db.connect() as connection:
        result = connection.execution_options(stream_results=True).execute(query)
        while chunk := result.fetchmany(batch):
            yield chunk


def as_utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; the product stores UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
