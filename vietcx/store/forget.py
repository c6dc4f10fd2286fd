"""Forgetting a customer (their right to erasure): `python -m vietcx forget-customer`.

A customer may have chatted under several sender ids: on most channels the sender is the customer
id itself, but the web channel gives every browser conversation its own random sender id and
records who the signed-in customer is in the slot `customer_id` (actions/customer.py), which the
product copies into its rows. So the customer's conversations are the sender id equal to their id,
every sender whose product rows name them (surveys, escalations, conversation sentiment, flags)
and every conversation in Rasa's tracker store whose `customer_id` slot named them on that channel.

Of those conversations everything goes: the profile, the messages and their sentiment, review
flags, queued staff messages, and the tracker store's events. Survey answers and escalations are
kept but made anonymous instead of deleted: the CSAT/CES figures, response rates and escalation
counts of past months must not change when a customer leaves, and without the comment, the
sentiment summary (which quotes a message), the name and the ids nothing in them points to the
person. Their ids become the literal FORGOTTEN; an escalation still unresolved is closed
(resolved_by FORGOTTEN, no resolution time, so resolution times stay those of staff), as its
conversation is gone and no staff member could answer it.

The product database changes in one transaction, before the tracker store: should the tracker
store fail, running the command again still finds every conversation there. A second run removes
nothing. Forget a customer after their conversation, not during one: a message that arrives
meanwhile starts a new conversation.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Table, and_, delete, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import Delete, Update

from vietcx.store import profiles
from vietcx.store.db import (
    conversation_sentiment,
    engine,
    escalations,
    flags,
    message_sentiment,
    outbox,
    surveys,
)
from vietcx.store.tracker import EVENTS, delete_conversations, tracker_engine

FORGOTTEN = "forgotten"  # the sender and customer id of anonymised survey answers and escalations
LINKED = (surveys, escalations, conversation_sentiment, flags)  # tables that name the customer


@dataclass(frozen=True)
class Removal:
    """What happened to one table's rows of the customer."""

    table: str
    action: str  # deleted | anonymised
    count: int


def forget_customer(
    channel: str, customer_id: str, db: Engine | None = None, tracker_url: str | None = None
) -> list[Removal]:
    """Removes the customer everywhere (see the module's docstring); returns what, table by table."""
    db = db or engine()
    senders = sender_ids(channel, customer_id, db, tracker_url)
    with db.begin() as connection:
        removed = _forget_in_product(connection, channel, customer_id, senders)
    events = delete_conversations(senders, tracker_url)
    return [*removed, Removal("tracker events", "deleted", events)]


def sender_ids(channel: str, customer_id: str, db: Engine, tracker_url: str | None = None) -> set[str]:
    """Every sender id (conversation) of the customer, in the product database and the tracker store."""
    found = {customer_id}
    with db.connect() as connection:
        for table in LINKED:
            query = select(table.c.sender_id).where(_names(table, channel, customer_id)).distinct()
            found.update(connection.execute(query).scalars())
    return found | _tracker_senders(channel, customer_id, tracker_url)


def _tracker_senders(channel: str, customer_id: str, tracker_url: str | None) -> set[str]:
    """Conversations whose `customer_id` slot was this customer while the `customer_channel` slot
    was this channel (or unset: an id alone is taken to be the customer's)."""
    tracker = tracker_engine(tracker_url)
    if tracker is None:
        return set()
    slot = EVENTS.c.type_name == "slot"
    # narrowed in SQL by the id's spellings in JSON (Rasa's json.dumps escapes non-ASCII as \u...,
    # other writers may not), then compared exactly
    spellings = {json.dumps(customer_id)[1:-1], json.dumps(customer_id, ensure_ascii=False)[1:-1]}
    mentions = or_(*(EVENTS.c.data.contains(spelling, autoescape=True) for spelling in spellings))
    with tracker.connect() as connection:
        candidates = (
            connection.execute(
                select(EVENTS.c.sender_id)
                .where(slot, EVENTS.c.action_name == "customer_id", mentions)
                .distinct()
            )
            .scalars()
            .all()
        )
        found = set()
        for sender in candidates:
            rows = connection.execute(
                select(EVENTS.c.data)
                .where(
                    EVENTS.c.sender_id == sender,
                    slot,
                    EVENTS.c.action_name.in_(("customer_channel", "customer_id")),
                )
                .order_by(EVENTS.c.id)
            ).scalars()
            current_channel = None
            for event in map(json.loads, rows):
                if event.get("name") == "customer_channel":
                    current_channel = event.get("value")
                elif event.get("value") == customer_id and current_channel in (None, channel):
                    found.add(sender)
                    break
    return found


def _names(table: Table, channel: str, customer_id: str) -> ColumnElement:
    """The table's rows that name the customer on the channel."""
    return and_(table.c.channel == channel, table.c.customer_id == customer_id)


def _forget_in_product(
    connection: Connection, channel: str, customer_id: str, senders: Collection[str]
) -> list[Removal]:
    """Deletes or anonymises the customer's rows, in the caller's transaction."""

    def theirs(table: Table) -> ColumnElement:
        return or_(table.c.sender_id.in_(senders), _names(table, channel, customer_id))

    def count(statement: Delete | Update) -> int:
        return connection.execute(statement).rowcount

    escalation_ids = list(connection.execute(select(escalations.c.id).where(theirs(escalations))).scalars())
    anonymous = {"sender_id": FORGOTTEN, "customer_id": FORGOTTEN, "sentiment": None}
    profile = profiles.forget(channel, customer_id, connection)
    messages = count(delete(message_sentiment).where(message_sentiment.c.sender_id.in_(senders)))
    conversations = count(delete(conversation_sentiment).where(theirs(conversation_sentiment)))
    answers = count(update(surveys).where(theirs(surveys)).values(comment=None, **anonymous))
    # unresolved ones first: they are closed, so their ids can all become FORGOTTEN (only one
    # unresolved escalation per sender id may exist)
    connection.execute(
        update(escalations)
        .where(escalations.c.id.in_(escalation_ids), escalations.c.status != "resolved")
        .values(status="resolved", resolved_by=FORGOTTEN)
    )
    escalated = count(
        update(escalations)
        .where(escalations.c.id.in_(escalation_ids))
        .values(customer_name=None, **anonymous)
    )
    queued = count(
        delete(outbox).where(or_(outbox.c.sender_id.in_(senders), outbox.c.escalation_id.in_(escalation_ids)))
    )
    flagged = count(delete(flags).where(theirs(flags)))
    return [
        Removal("customers", "deleted", int(profile)),
        Removal("message_sentiment", "deleted", messages),
        Removal("conversation_sentiment", "deleted", conversations),
        Removal("surveys", "anonymised", answers),
        Removal("escalations", "anonymised", escalated),
        Removal("outbox", "deleted", queued),
        Removal("flags", "deleted", flagged),
    ]
