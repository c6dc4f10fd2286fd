"""Staff replies belong to their conversation, and are "delivered" only once the client says so."""

from __future__ import annotations

import requests
from attacker import sender_of, web_post, web_updates

from harness import Assistant
from harness import reply_text as texts
from vietcx.store import escalations, outbox
from vietcx.store.db import engine


def handed_over(guarded: Assistant) -> tuple[str, str]:
    """A web customer who asked for a person; returns (their token, their conversation)."""
    token = guarded.web_conversation()
    assert "nhân viên" in texts(
        web_post(guarded, "webhook", {"message": "cho tôi gặp nhân viên"}, token).json()
    )
    return token, sender_of(guarded, token)


def test_another_visitor_cannot_read_or_acknowledge_a_customers_staff_replies(guarded: Assistant) -> None:
    db = engine(guarded.database_url)
    victim_token, victim = handed_over(guarded)
    escalation = escalations.current(victim, db)
    message_id = outbox.send(
        victim, "Dạ, đơn của chị giao chiều nay ạ", "staff", "lan", escalation["id"], db=db
    )

    attacker = guarded.web_conversation()
    # naming the victim in the query, or with no token at all
    assert web_updates(guarded, attacker, sender=victim).json() == []
    assert web_updates(guarded, None, sender=victim).status_code == 401
    # acknowledging far past the victim's message, in the attacker's own conversation
    assert web_updates(guarded, attacker, after=message_id + 1000).status_code == 200
    web_post(guarded, "webhook", {"message": "alo", "ack": message_id + 1000}, attacker)
    [row] = outbox.messages(victim, db)
    assert row["delivered_at"] is None

    # the victim gets it, and gets it again until their page confirms it was shown
    [first] = web_updates(guarded, victim_token).json()
    assert first["text"] == "Dạ, đơn của chị giao chiều nay ạ" and first["custom"]["outbox_id"] == message_id
    assert outbox.messages(victim, db)[0]["delivered_at"] is None  # handed out is not delivered
    assert [m["custom"]["outbox_id"] for m in web_updates(guarded, victim_token).json()] == [message_id]
    assert web_updates(guarded, victim_token, after=message_id).json() == []
    assert outbox.messages(victim, db)[0]["delivered_at"] is not None


def test_the_acknowledgement_can_come_with_the_next_message(guarded: Assistant) -> None:
    db = engine(guarded.database_url)
    token, sender = handed_over(guarded)
    escalation = escalations.current(sender, db)
    escalations.assign(escalation["id"], "lan", db)  # staff take it, then reply, as in the console
    first = outbox.send(sender, "Dạ em là Lan ạ", "staff", "lan", escalation["id"], db=db)
    # the answer to the customer's message carries it (the bot itself is silent: staff own the chat)
    answer = web_post(guarded, "webhook", {"message": "dạ vâng"}, token).json()
    assert [m["custom"]["outbox_id"] for m in answer] == [first]
    second = outbox.send(sender, "Chị chờ em một chút nhé", "staff", "lan", escalation["id"], db=db)
    answer = web_post(guarded, "webhook", {"message": "ok em", "ack": first}, token).json()
    assert [m["custom"]["outbox_id"] for m in answer] == [second]
    delivered = [m["delivered_at"] is not None for m in outbox.messages(sender, db)]
    assert delivered == [True, False]


def test_a_cursor_that_is_not_a_number_is_a_clear_400(guarded: Assistant) -> None:
    token = guarded.web_conversation()
    for bad in ["abc", "-1", "1e309", "9" * 40]:
        assert web_updates(guarded, token, after=bad).status_code == 400
        assert web_post(guarded, "webhook", {"message": "alo", "ack": bad}, token).status_code == 400
    rest = requests.get(
        f"{guarded.url}/webhooks/rest/updates",
        params={"sender": "khach", "after": "x"},
        headers=guarded.rest_headers,
        timeout=30,
    )
    assert rest.status_code == 400
