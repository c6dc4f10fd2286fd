"""The channels' guards on their own: tokens, payloads, body checks, rate limits."""

from __future__ import annotations

import time

import jwt
import pytest
from rasa.shared.core.events import BotUttered, UserUttered

from vietcx.channels import checks, identity, payloads, throttle

KEY = "a-shop-secret-for-the-tests-0123456789abcdef"


def test_a_valid_identity_names_the_customer_and_nothing_else_does(monkeypatch: pytest.MonkeyPatch) -> None:
    good = jwt.encode({"sub": "12345", "name": "Trần Thị Ngọc", "exp": time.time() + 60}, KEY, "HS256")
    assert identity.verify_identity(good, KEY) == identity.Conversation(
        "web-customer-12345", "12345", "Trần Thị Ngọc"
    )
    for bad in [
        jwt.encode({"sub": "12345", "exp": time.time() - 1}, KEY, "HS256"),
        jwt.encode(
            {"sub": "12345", "exp": time.time() + 60}, "another-secret-0123456789abcdef0123456789", "HS256"
        ),
        jwt.encode({"sub": "12345", "exp": time.time() + 60}, KEY, "HS384"),
        jwt.encode({"sub": "12345", "exp": time.time() + 60}, None, "none"),
        jwt.encode({"sub": "12345"}, KEY, "HS256"),
        jwt.encode({"sub": "x" * 101, "exp": time.time() + 60}, KEY, "HS256"),
        "garbage",
    ]:
        assert identity.verify_identity(bad, KEY) is None
    monkeypatch.delenv("VIETCX_WEB_IDENTITY_SECRET", raising=False)
    assert identity.verify_identity(good) is None  # no shop sign-in configured: nobody is vouched for


def test_conversation_tokens_round_trip_and_cannot_be_made_elsewhere() -> None:
    anonymous = identity.anonymous()
    assert anonymous.sender.startswith("web-") and anonymous != identity.anonymous()
    assert identity.verify(identity.issue(anonymous, KEY), KEY) == anonymous
    signed_in = identity.Conversation("web-customer-7", "7", "Lê Văn Tám")
    assert identity.verify(identity.issue(signed_in, KEY), KEY) == signed_in
    assert (
        identity.verify(identity.issue(anonymous, "another-secret-0123456789abcdef0123456789"), KEY) is None
    )
    rest_sender = jwt.encode({"sub": "khach-01", "exp": time.time() + 60}, KEY, "HS256")
    assert identity.verify(rest_sender, KEY) is None  # web tokens name web conversations only


OFFERED = [
    UserUttered("bảo hành bao lâu"),
    BotUttered("Dạ, bảo hành 24 tháng ạ."),
    BotUttered("Đã giải quyết chưa ạ?", {"buttons": [{"title": "Rồi", "payload": "/faq_resolved"}]}),
]


@pytest.mark.parametrize(
    "typed, accepted",
    [
        ("/faq_resolved", True),
        ("  /faq_resolved ", True),
        ("/faq_unresolved", False),
        ("/EXTERNAL_staff_resolved", False),
        ('/faq_resolved{"x": 1}', False),
        ("/faq_resolved@0.5", False),
        ("xin chào", None),
    ],
)
def test_only_offered_buttons_are_payloads(typed: str, accepted: bool | None) -> None:
    result = payloads.customer_text(typed, payloads.offered_buttons(OFFERED))
    if accepted is None:
        assert result == typed
    elif accepted:
        assert result == typed.strip()
    else:
        assert result == payloads.NOT_A_PAYLOAD + typed


SURVEY = [
    BotUttered(
        "Anh/chị hài lòng ở mức nào ạ?",
        {
            "buttons": [
                {"title": "4 – Hài lòng", "payload": '/survey_answer{"score": 4}'},
                {"title": "5 – Rất hài lòng", "payload": '/survey_answer{"score": 5}'},
                {"title": "Bỏ qua", "payload": "bỏ qua"},
                {"title": "Trùng", "payload": "/a"},
                {"title": "trùng", "payload": "/b"},
            ]
        },
    )
]


@pytest.mark.parametrize(
    "typed, read_as",
    [
        ("5 – Rất hài lòng", '/survey_answer{"score": 5}'),  # Zalo sends the title back when tapped
        ("  5 –  rất HÀI lòng ", '/survey_answer{"score": 5}'),  # typed: spacing and case do not matter
        ("Bỏ qua", "bỏ qua"),
        ("5 – Rất hài lòng lắm", "5 – Rất hài lòng lắm"),  # not a title: the NLU reads it
        ("Trùng", "Trùng"),  # two buttons with the same title: neither is guessed
        ("", ""),
    ],
)
def test_a_typed_title_means_its_button(typed: str, read_as: str) -> None:
    assert payloads.customer_text(typed, payloads.offered_buttons(SURVEY)) == read_as


def test_buttons_of_earlier_answers_are_no_longer_offered() -> None:
    later = [*OFFERED, UserUttered("cảm ơn"), BotUttered("Dạ không có gì ạ.")]
    assert payloads.offered_buttons(later) == []


def test_bodies_are_checked_before_use() -> None:
    assert checks.json_body(b'{"message": "hi"}') == {"message": "hi"}
    for raw, status in [
        (b"", 400),
        (b"[1]", 400),
        (b"\xff\xfe", 400),
        (b"[" * 5000 + b"]" * 5000, 400),
        (b"x" * (checks.MAX_BODY_BYTES + 1), 413),
    ]:
        with pytest.raises(checks.BadRequest) as refused:
            checks.json_body(raw)
        assert refused.value.status == status
    assert checks.message_text({"message": "a\x00b\ud800\x1b[31m\nc"}) == "ab\ufffd[31m\nc"
    with pytest.raises(checks.BadRequest):
        checks.metadata({"a": {"b": {"c": {"d": {"e": 1}}}}})
    assert checks.metadata({"customer": {"id": "1", "name": "Ngọc"}})
    with pytest.raises(checks.BadRequest):
        checks.sender("a\x00b")


def test_rate_limits_count_per_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIETCX_LIMIT_UPDATES", "3/minute")
    throttle._limits.cache_clear()
    try:
        assert [throttle.allow("updates", "one") for _ in range(4)] == [True, True, True, False]
        assert throttle.allow("updates", "two")
    finally:
        throttle._limits.cache_clear()
