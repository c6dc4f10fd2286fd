"""Bounded requests: body and metadata sizes, nesting, and rate limits per conversation and address."""

from __future__ import annotations

import json
import uuid

import requests
from attacker import from_address, web_post, web_updates

from harness import Assistant
from harness import reply_text as texts


def rest(guarded: Assistant, body: bytes | dict, **headers: str) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        f"{guarded.url}/webhooks/rest/webhook",
        data=data,
        headers={**guarded.rest_headers, "Content-Type": "application/json", **headers},
        timeout=60,
    )


def test_oversized_bodies_are_refused_before_anything_reads_them(guarded: Assistant) -> None:
    huge = {"sender": "khach", "message": "a" * 70_000}
    assert rest(guarded, huge).status_code == 413
    assert rest(guarded, b'{"sender": "khach", "message": "' + b"x" * 5_000_000 + b'"}').status_code == 413
    token = guarded.web_conversation()
    assert web_post(guarded, "webhook", {"message": "ă" * 40_000}, token).status_code == 413


def test_deep_or_large_metadata_and_deep_json_are_a_clear_400(guarded: Assistant) -> None:
    deep: dict = {}
    node = deep
    for _ in range(10):
        node["a"] = {}
        node = node["a"]
    assert rest(guarded, {"sender": "khach", "message": "hi", "metadata": deep}).status_code == 400
    large = {"customer": {"name": "Ngọc" * 2000}}
    assert rest(guarded, {"sender": "khach", "message": "hi", "metadata": large}).status_code == 400
    nested = b'{"sender": "khach", "message": "hi", "metadata": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    answer = rest(guarded, nested)
    assert answer.status_code in (400, 413) and "error" in answer.json()


def test_a_customer_typing_too_fast_is_asked_politely_to_slow_down(guarded: Assistant) -> None:
    sender = f"sec-fast-{uuid.uuid4().hex[:6]}"
    guarded.chat(sender, "xin chào", {"customer": {"name": "Trần Thị Ngọc"}})
    answers = [texts(guarded.chat(sender, f"alo {i}")) for i in range(10)]
    slowed = [a for a in answers if "nhắn hơi nhanh" in a]
    assert slowed and all("chị" in a and "Dạ" in a for a in slowed)
    # the messages asked to be resent were not read by the assistant
    users = [e["text"] for e in guarded.tracker(sender)["events"] if e["event"] == "user"]
    assert len(users) == 1 + 10 - len(slowed)


def test_a_flood_of_one_conversation_gets_429(guarded: Assistant) -> None:
    sender = f"sec-flood-{uuid.uuid4().hex[:6]}"
    statuses = [rest(guarded, {"sender": sender, "message": f"spam {i}"}).status_code for i in range(45)]
    assert statuses.count(429) >= 5 and set(statuses) <= {200, 429}
    assert rest(guarded, {"sender": sender, "message": "spam"}).headers.get("Retry-After")


def test_a_flood_of_new_web_conversations_from_one_address_gets_429(guarded: Assistant) -> None:
    client = from_address("127.0.0.21")
    statuses = [web_post(guarded, "session", {}, client=client).status_code for _ in range(40)]
    assert statuses[0] == 200 and statuses.count(429) >= 5
    assert web_post(guarded, "session", {}, client=from_address("127.0.0.22")).status_code == 200


def test_polling_too_often_gets_429(guarded: Assistant) -> None:
    client = from_address("127.0.0.23")
    token = web_post(guarded, "session", {}, client=client).json()["token"]
    statuses = [web_updates(guarded, token, client=client).status_code for _ in range(45)]
    assert statuses.count(429) >= 5


def test_one_address_flooding_many_conversations_gets_429(guarded: Assistant) -> None:
    client = from_address("127.0.0.24")
    tokens = [web_post(guarded, "session", {}, client=client).json()["token"] for _ in range(9)]
    statuses = [web_updates(guarded, token, client=client).status_code for token in tokens for _ in range(35)]
    assert statuses.count(429) >= 5  # 9 × 35 polls, each conversation under its own limit
    assert web_updates(guarded, tokens[0], client=from_address("127.0.0.25")).status_code == 200


def test_guessing_the_rest_token_from_one_address_gets_429(guarded: Assistant) -> None:
    client = from_address("127.0.0.26")
    url = f"{guarded.url}/webhooks/rest/webhook"
    body = {"sender": "khach", "message": "xin chào"}
    statuses = [
        client.post(url, json=body, headers={"Authorization": f"Bearer guess-{i}"}, timeout=30).status_code
        for i in range(320)
    ]
    assert set(statuses) == {401, 429} and statuses.count(429) >= 10
    # the shop's own program, with the token, is not locked out by the guesser
    assert client.post(url, json=body, headers=guarded.rest_headers, timeout=60).status_code == 200
