"""Who may act as whom on the web page and the REST channel: forged, guessed and expired proofs."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
import requests
from attacker import identity, sender_of, unsigned, web_post

from harness import Assistant
from harness import reply_text as texts
from vietcx.store import profiles
from vietcx.store.db import engine

ASKS_NAME = "cho em xin tên"


def test_a_new_visitor_gets_a_random_conversation_from_the_server(guarded: Assistant) -> None:
    senders = {sender_of(guarded, guarded.web_conversation()) for _ in range(5)}
    assert len(senders) == 5
    for sender in senders:
        assert sender.startswith("web-") and len(sender) >= 4 + 22  # 128 random bits, URL-safe


def test_the_url_id_and_the_body_sender_name_no_conversation(guarded: Assistant) -> None:
    victim = f"12345-{uuid.uuid4().hex[:6]}"
    guarded.chat(victim, "xin chào", {"customer": {"id": victim, "name": "Trần Thị Ngọc"}})
    page = requests.get(f"{guarded.url}/webhooks/web/chat", params={"id": victim}, timeout=30)
    assert page.status_code == 200  # the page itself is public, and takes nothing from the URL
    # the old way in: a body naming the victim, with and without a token of one's own
    assert web_post(guarded, "webhook", {"sender": victim, "message": "xin chào"}).status_code == 401
    mine = guarded.web_conversation()
    replies = web_post(guarded, "webhook", {"sender": victim, "message": "tên mình là Hắc"}, mine).json()
    assert "Ngọc" not in texts(replies)
    assert [e for e in guarded.tracker(victim)["events"] if e["event"] == "user"][-1]["text"] == "xin chào"


@pytest.mark.parametrize(
    "forgery",
    ["not-a-token", "forged-key", "alg-none", "expired", "another-channel-sender", "hs512"],
)
def test_forged_conversation_tokens_are_refused(guarded: Assistant, forgery: str) -> None:
    key = guarded.env["VIETCX_WEB_SESSION_SECRET"]
    claims = {"sub": "web-victim", "exp": int(time.time()) + 600}
    token = {
        "not-a-token": "abc.def.ghi",
        "forged-key": jwt.encode(claims, "guessed-key", algorithm="HS256"),
        "alg-none": unsigned(claims),
        "expired": jwt.encode({**claims, "exp": int(time.time()) - 5}, key, algorithm="HS256"),
        "another-channel-sender": jwt.encode({**claims, "sub": "rest-customer"}, key, algorithm="HS256"),
        "hs512": jwt.encode(claims, key, algorithm="HS512"),
    }[forgery]
    answer = web_post(guarded, "webhook", {"message": "xin chào"}, token)
    assert answer.status_code == 401 and "error" in answer.json()
    assert web_post(guarded, "updates", None, token).status_code in (401, 405)


def test_a_signed_in_customer_is_named_by_the_shop_only(guarded: Assistant) -> None:
    customer = f"kh-{uuid.uuid4().hex[:6]}"
    token = guarded.web_conversation(identity(guarded, customer, "Trần Thị Ngọc"))
    assert sender_of(guarded, token) == f"web-customer-{customer}"
    # the page's own metadata cannot rename her
    body = {"message": "xin chào", "metadata": {"customer": {"id": "x", "name": "Lê Văn Hắc"}}}
    reply = texts(web_post(guarded, "webhook", body, token).json())
    assert "chị Ngọc" in reply and "Hắc" not in reply
    stored = profiles.get("web", customer, engine(guarded.database_url))
    assert stored and stored.full_name == "Trần Thị Ngọc"


@pytest.mark.parametrize(
    "forgery", ["forged-key", "expired", "alg-none", "hs512", "no-expiry", "id-not-text"]
)
def test_an_invalid_identity_is_an_anonymous_visitor_and_logged(guarded: Assistant, forgery: str) -> None:
    key = guarded.env["VIETCX_WEB_IDENTITY_SECRET"]
    claims = {"sub": "12345", "name": "Trần Thị Ngọc", "exp": int(time.time()) + 600}
    token = {
        "forged-key": jwt.encode(claims, "guessed-key", algorithm="HS256"),
        "expired": jwt.encode({**claims, "exp": int(time.time()) - 1}, key, algorithm="HS256"),
        "alg-none": unsigned(claims),
        "hs512": jwt.encode(claims, key, algorithm="HS512"),
        "no-expiry": jwt.encode({"sub": "12345", "name": "Trần Thị Ngọc"}, key, algorithm="HS256"),
        "id-not-text": jwt.encode({**claims, "sub": 12345}, key, algorithm="HS256"),
    }[forgery]
    before = guarded.log("rasa").count("Identity token refused")
    conversation = guarded.web_conversation(token)
    sender = sender_of(guarded, conversation)
    assert sender.startswith("web-") and "12345" not in sender
    reply = texts(web_post(guarded, "webhook", {"message": "xin chào"}, conversation).json())
    assert "Ngọc" not in reply and ASKS_NAME in reply
    assert guarded.log("rasa").count("Identity token refused") > before


def test_a_shared_computer_after_sign_out_starts_afresh(guarded: Assistant) -> None:
    customer = f"kh-{uuid.uuid4().hex[:6]}"
    signed_in = guarded.web_conversation(identity(guarded, customer, "Nguyễn Văn An"))
    web_post(guarded, "webhook", {"message": "xin chào"}, signed_in)
    # the page still holds her token, but the shop no longer vouches (signed out): a new visitor
    answer = web_post(guarded, "session", {}, signed_in).json()
    assert answer["signed_in"] is False and sender_of(guarded, answer["token"]) != f"web-customer-{customer}"
    # an anonymous visitor keeps their own conversation across reloads
    mine = guarded.web_conversation()
    again = web_post(guarded, "session", {}, mine).json()["token"]
    assert sender_of(guarded, again) == sender_of(guarded, mine)


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic abc", "Bearer "])
def test_the_rest_channel_needs_the_shops_token(guarded: Assistant, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    body = {"sender": "khach-rest", "message": "xin chào"}
    assert (
        requests.post(
            f"{guarded.url}/webhooks/rest/webhook", json=body, headers=headers, timeout=30
        ).status_code
        == 401
    )
    updates = requests.get(
        f"{guarded.url}/webhooks/rest/updates", params={"sender": "khach-rest"}, headers=headers, timeout=30
    )
    assert updates.status_code == 401
