"""How mixed customer messages are labelled, through the real servers: a message that reports a
real problem is negative even with praise (the CX team must see it); one whose downside is trivial
is positive (data/sentiment/reviews_train.tsv follows the same rule; README "The sentiment…")."""

from __future__ import annotations

import uuid

import pytest

from harness import Assistant

MIXED = [
    ("tivi đẹp, hình nét nhưng giao trễ 5 ngày, gọi tổng đài không ai nghe máy", "negative"),
    ("may giat chay em, nhung tho lap dat lam nuoc chay ra san ma ko chiu don", "negative"),
    ("điều hòa mát nhanh, có điều lắp xong 2 hôm đã chảy nước, báo bảo hành chưa thấy ai tới", "negative"),
    ("noi chien ngon lam, chi tiec cai hop hoi mop ti xiu, van cho shop 5 sao", "positive"),
    ("máy hút bụi dùng thích lắm, giao hơi chậm 1 hôm nhưng shop báo trước rồi nên ok 👍", "positive"),
]


@pytest.mark.parametrize(("text", "label"), MIXED)
def test_mixed_messages_are_labelled_by_whether_they_need_attention(
    assistant: Assistant, text: str, label: str
) -> None:
    sender = f"mixed-{uuid.uuid4().hex[:8]}"
    assistant.chat(sender, text)
    said = [e for e in assistant.tracker(sender)["events"] if e["event"] == "user"][-1]
    assert said["parse_data"]["sentiment"]["label"] == label, said["parse_data"]["sentiment"]
