"""Webhook signatures of Zalo OA and Messenger: each formula against a vector computed here with
hashlib/hmac on literal strings, then every way a request can fail to prove itself."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from sanic.request import RequestParameters

from vietcx.channels.signatures import (
    FUTURE_MARGIN_SECONDS,
    Verdict,
    messenger_challenge,
    messenger_signature,
    verify_messenger,
    verify_zalo,
    zalo_mac,
    zalo_max_age,
)

APP_ID = "1234567890123456789"
OA_SECRET_KEY = "oa-secret-key-for-the-tests"
TIMESTAMP = "1718000500000"  # milliseconds, as Zalo writes it: a string
SENT_AT = 1718000500.0  # the same moment in seconds
ZALO_BODY = (
    '{"app_id":"1234567890123456789","event_name":"user_send_text","timestamp":"1718000500000",'
    '"sender":{"id":"2468"},"recipient":{"id":"1357"},"message":{"text":"Cho em hỏi giá ạ","msg_id":"m1"}}'
).encode()
# sha256 of app_id + body + timestamp + OA secret key, computed independently of the module
ZALO_VECTOR = hashlib.sha256(
    (
        "1234567890123456789"
        '{"app_id":"1234567890123456789","event_name":"user_send_text","timestamp":"1718000500000",'
        '"sender":{"id":"2468"},"recipient":{"id":"1357"},"message":{"text":"Cho em hỏi giá ạ","msg_id":"m1"}}'
        "1718000500000"
        "oa-secret-key-for-the-tests"
    ).encode()
).hexdigest()

APP_SECRET = "messenger-app-secret-for-the-tests"
MESSENGER_BODY = (
    b'{"object":"page","entry":[{"id":"1357","time":1718000500000,"messaging":[{"sender":{"id":"2468"},'
    b'"message":{"mid":"m_1","text":"Cho em h\\u1ecfi gi\\u00e1 \\u1ea1"}}]}]}'
)
MESSENGER_VECTOR = hmac.new(
    b"messenger-app-secret-for-the-tests",
    b'{"object":"page","entry":[{"id":"1357","time":1718000500000,"messaging":[{"sender":{"id":"2468"},'
    b'"message":{"mid":"m_1","text":"Cho em h\\u1ecfi gi\\u00e1 \\u1ea1"}}]}]}',
    hashlib.sha256,
).hexdigest()


def zalo(
    body: bytes = ZALO_BODY,
    header: str | None = f"mac={ZALO_VECTOR}",
    now: float = SENT_AT + 2,
    max_age: float | None = None,
) -> Verdict:
    return verify_zalo(body, header, OA_SECRET_KEY, now=now, max_age=max_age)


def signed(fields: dict[str, object]) -> tuple[bytes, str]:
    """A body made of `fields` and its header, signed as Zalo would sign it."""
    body = json.dumps(fields).encode()
    app_id, timestamp = fields.get("app_id", ""), fields.get("timestamp", "")
    mac = hashlib.sha256(f"{app_id}".encode() + body + f"{timestamp}{OA_SECRET_KEY}".encode()).hexdigest()
    return body, f"mac={mac}"


def test_zalo_formula_matches_the_vector_and_an_authentic_event_is_accepted() -> None:
    assert zalo_mac(APP_ID, ZALO_BODY, TIMESTAMP, OA_SECRET_KEY) == ZALO_VECTOR
    assert zalo() is Verdict.OK and zalo().status == 200
    # hex case and spaces around do not matter
    assert zalo(header=f"  mac={ZALO_VECTOR.upper()} ") is Verdict.OK
    # a timestamp written as a JSON number is signed as its digits
    body, header = signed({"app_id": APP_ID, "timestamp": 1718000500000, "event_name": "follow"})
    assert zalo(body, header) is Verdict.OK


def test_zalo_refuses_another_key_and_a_body_changed_by_one_byte() -> None:
    wrong_key = hashlib.sha256(
        APP_ID.encode() + ZALO_BODY + (TIMESTAMP + "another-oa-key").encode()
    ).hexdigest()
    assert zalo(header=f"mac={wrong_key}") is Verdict.WRONG_SIGNATURE
    app_secret = hashlib.sha256(APP_ID.encode() + ZALO_BODY + (TIMESTAMP + APP_SECRET).encode()).hexdigest()
    assert zalo(header=f"mac={app_secret}") is Verdict.WRONG_SIGNATURE
    as_hmac = hmac.new(OA_SECRET_KEY.encode(), APP_ID.encode() + ZALO_BODY + TIMESTAMP.encode(), "sha256")
    assert zalo(header=f"mac={as_hmac.hexdigest()}") is Verdict.WRONG_SIGNATURE  # plain SHA-256, not HMAC
    tampered = ZALO_BODY.replace(b'"msg_id":"m1"', b'"msg_id":"m2"')
    assert len(tampered) == len(ZALO_BODY) and tampered != ZALO_BODY
    assert zalo(tampered) is Verdict.WRONG_SIGNATURE and zalo(tampered).status == 401
    # the signature covers the bytes as sent: the same JSON written otherwise is another body
    assert zalo(json.dumps(json.loads(ZALO_BODY)).encode()) is Verdict.WRONG_SIGNATURE


@pytest.mark.parametrize("header", [None, "", "   "])
def test_zalo_without_a_signature_header(header: str | None) -> None:
    assert zalo(header=header) is Verdict.NO_SIGNATURE and zalo(header=header).status == 401


@pytest.mark.parametrize(
    "header",
    [
        ZALO_VECTOR,  # "mac=" missing
        f"sha256={ZALO_VECTOR}",
        "mac=",
        f"mac= {ZALO_VECTOR}",
        f"mac={'g' * 64}",  # not hex
        f"mac={ZALO_VECTOR[:-1]}",  # 63 digits
        f"mac={ZALO_VECTOR}0",  # 65 digits
        f"mac={ZALO_VECTOR},mac={ZALO_VECTOR}",
    ],
)
def test_zalo_malformed_signature_header(header: str) -> None:
    assert zalo(header=header) is Verdict.MALFORMED_SIGNATURE and zalo(header=header).status == 401


def test_zalo_refuses_stale_and_future_events_by_the_bodys_milliseconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VIETCX_ZALO_MAX_AGE_SECONDS", raising=False)
    assert zalo_max_age() > 12 * 3600  # longer than Zalo's resends
    assert zalo(now=SENT_AT + zalo_max_age()) is Verdict.OK
    assert zalo(now=SENT_AT + zalo_max_age() + 1) is Verdict.STALE
    assert zalo(now=SENT_AT + 100, max_age=60) is Verdict.STALE
    assert zalo(now=SENT_AT + 100, max_age=60).status == 403
    monkeypatch.setenv("VIETCX_ZALO_MAX_AGE_SECONDS", "60")
    assert zalo(now=SENT_AT + 59) is Verdict.OK and zalo(now=SENT_AT + 61) is Verdict.STALE
    # a little ahead of our clock is a clock difference; further ahead is not an event of Zalo's
    assert zalo(now=SENT_AT - FUTURE_MARGIN_SECONDS + 1) is Verdict.OK
    assert zalo(now=SENT_AT - FUTURE_MARGIN_SECONDS - 1) is Verdict.FUTURE
    assert zalo(now=SENT_AT - FUTURE_MARGIN_SECONDS - 1).status == 403
    for wrong in ["0", "-5", "soon"]:
        monkeypatch.setenv("VIETCX_ZALO_MAX_AGE_SECONDS", wrong)
        with pytest.raises(ValueError):
            zalo_max_age()


@pytest.mark.parametrize(
    "timestamp",
    [None, "", "soon", "1718000500000.5", "-1718000500000", " 1718000500000", "17e11", 1.7185e12, True, [1]],
)
def test_zalo_timestamp_missing_or_not_a_number(timestamp: object) -> None:
    fields: dict[str, object] = {"app_id": APP_ID, "event_name": "user_send_text"}
    if timestamp is not None:
        fields["timestamp"] = timestamp
    body, header = signed(fields)
    assert zalo(body, header) is Verdict.BAD_TIMESTAMP and zalo(body, header).status == 401


@pytest.mark.parametrize("app_id", [None, "", 12.5, False, {"id": APP_ID}])
def test_zalo_app_id_missing(app_id: object) -> None:
    fields: dict[str, object] = {"timestamp": TIMESTAMP}
    if app_id is not None:
        fields["app_id"] = app_id
    body, header = signed(fields)
    assert zalo(body, header) is Verdict.NO_APP_ID


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[1, 2]", b'"text"', b"null", b"[" * 100_000, b"\xff\xfe{"]
)
def test_zalo_body_not_a_json_object(body: bytes) -> None:
    assert zalo(body) is Verdict.NOT_JSON and zalo(body).status == 401


def test_zalo_and_messenger_need_their_secrets() -> None:
    with pytest.raises(ValueError):
        verify_zalo(ZALO_BODY, f"mac={ZALO_VECTOR}", "")
    with pytest.raises(ValueError):
        verify_messenger(MESSENGER_BODY, f"sha256={MESSENGER_VECTOR}", "")
    with pytest.raises(ValueError):
        messenger_challenge({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}, "")


def test_no_verdict_names_a_secret_or_a_digest() -> None:
    for verdict in Verdict:
        assert OA_SECRET_KEY not in verdict.value and ZALO_VECTOR not in verdict.value


def test_messenger_formula_matches_the_vector_and_an_authentic_event_is_accepted() -> None:
    assert messenger_signature(MESSENGER_BODY, APP_SECRET) == MESSENGER_VECTOR
    assert verify_messenger(MESSENGER_BODY, f"sha256={MESSENGER_VECTOR}", APP_SECRET) is Verdict.OK
    assert verify_messenger(MESSENGER_BODY, f"sha256={MESSENGER_VECTOR.upper()}", APP_SECRET) is Verdict.OK


def test_messenger_refuses_another_secret_and_a_body_changed_by_one_byte() -> None:
    other = hmac.new(b"another-app-secret", MESSENGER_BODY, hashlib.sha256).hexdigest()
    assert verify_messenger(MESSENGER_BODY, f"sha256={other}", APP_SECRET) is Verdict.WRONG_SIGNATURE
    plain = hashlib.sha256(MESSENGER_BODY + APP_SECRET.encode()).hexdigest()
    assert verify_messenger(MESSENGER_BODY, f"sha256={plain}", APP_SECRET) is Verdict.WRONG_SIGNATURE
    tampered = MESSENGER_BODY.replace(b'"mid":"m_1"', b'"mid":"m_2"')
    assert len(tampered) == len(MESSENGER_BODY) and tampered != MESSENGER_BODY
    verdict = verify_messenger(tampered, f"sha256={MESSENGER_VECTOR}", APP_SECRET)
    assert verdict is Verdict.WRONG_SIGNATURE and verdict.status == 401


@pytest.mark.parametrize(
    ("header", "verdict"),
    [
        (None, Verdict.NO_SIGNATURE),
        ("", Verdict.NO_SIGNATURE),
        (MESSENGER_VECTOR, Verdict.MALFORMED_SIGNATURE),  # "sha256=" missing
        (f"sha1={MESSENGER_VECTOR[:40]}", Verdict.MALFORMED_SIGNATURE),  # the old X-Hub-Signature
        (f"mac={MESSENGER_VECTOR}", Verdict.MALFORMED_SIGNATURE),
        ("sha256=", Verdict.MALFORMED_SIGNATURE),
        (f"sha256={'x' * 64}", Verdict.MALFORMED_SIGNATURE),
        (f"sha256={MESSENGER_VECTOR[:-2]}", Verdict.MALFORMED_SIGNATURE),
        (f"sha256={MESSENGER_VECTOR}00", Verdict.MALFORMED_SIGNATURE),
    ],
)
def test_messenger_missing_or_malformed_signature_header(header: str | None, verdict: Verdict) -> None:
    assert verify_messenger(MESSENGER_BODY, header, APP_SECRET) is verdict
    assert verdict.status == 401


def test_messenger_subscription_handshake() -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "our-verify-token", "hub.challenge": "1158201444"}
    assert messenger_challenge(query, "our-verify-token") == "1158201444"
    sanic_args = RequestParameters({name: [value] for name, value in query.items()})
    assert messenger_challenge(sanic_args, "our-verify-token") == "1158201444"
    assert messenger_challenge({**query, "hub.verify_token": "a-guessed-token"}, "our-verify-token") is None
    assert messenger_challenge({**query, "hub.verify_token": "our-verify-toke"}, "our-verify-token") is None
    assert messenger_challenge({**query, "hub.mode": "unsubscribe"}, "our-verify-token") is None
    for missing in query:
        partial = {name: value for name, value in query.items() if name != missing}
        assert messenger_challenge(partial, "our-verify-token") is None
    # the challenge is sent back as the answer: nothing but a short plain token is echoed
    assert messenger_challenge({**query, "hub.challenge": "<script>x</script>"}, "our-verify-token") is None
    assert messenger_challenge({**query, "hub.challenge": "1" * 129}, "our-verify-token") is None
