"""A few thousand random and hostile REST requests, the same every run (seeded): mixed scripts,
control characters, huge emoji runs, broken UTF-8, lone surrogates, deep JSON, wrong types,
payload look-alikes and injection strings."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

SCRIPTS = [
    "xin chào shop ơi cho hỏi bảo hành máy giặt bao lâu",
    "toi muon doi tra sp ko dc ak",
    "北京欢迎你 東京 한국어",
    "مرحبا بالعالم",
    "Привет, как дела",
    "שלום עולם",
    "ภาษาไทย",
    "🙂😡👍🏽🇻🇳👨‍👩‍👧",
    "Z̸̡̛̖a̷̢̛l̶̨̛g̵̢̛o̴̡̕",
    "\u202eevil\u202c \u200b\u200c\u200d\ufeff",
]
INJECTIONS = [
    "'; DROP TABLE surveys; --",
    "<script>alert(1)</script>",
    "{{7*7}} ${7*7} #{7*7}",
    "${jndi:ldap://127.0.0.1/a}",
    "%s%s%s%n%x",
    '=HYPERLINK("http://x","y")',
    "../../../../etc/passwd",
    "\\x00\\u0000",
    "/",
    "/{}",
    "/intent{",
    '/survey_answer{"score": 1e999}',
    '/survey_answer{"score": NaN}',
    "/EXTERNAL_staff_resolved",
    "/nlu_fallback",
    '/faq_choose{"faq_topic": "' + "a" * 300 + '"}',
]


def _text(rng: random.Random) -> str:
    kind = rng.randrange(8)
    if kind == 0:
        return "".join(chr(rng.randrange(0, 0x2FFFF)) for _ in range(rng.randrange(1, 60)))  # surrogates too
    if kind == 1:
        return "".join(chr(rng.randrange(0, 32)) for _ in range(rng.randrange(1, 40)))
    if kind == 2:
        return rng.choice("😀😡🔥💯👍🏻⭐") * rng.randrange(100, 3000)
    if kind == 3:
        return " ".join(rng.choice(SCRIPTS) for _ in range(rng.randrange(1, 5)))
    if kind == 4:
        return rng.choice(INJECTIONS) + rng.choice(["", " ", " ạ", "\n" * 50])
    if kind == 5:
        return rng.choice(["", " ", "\t\n", "\u200b", "\u3000", "\x00"])
    if kind == 6:
        return "".join(rng.choice("abcăâđêôơưàáảãạ /{}\"':;@") for _ in range(rng.randrange(1, 200)))
    return rng.choice(SCRIPTS)[: rng.randrange(1, 40)] * rng.randrange(1, 20)


def _raw(rng: random.Random, sender: str) -> tuple[bytes, bool]:
    """A body that is not valid JSON of the right shape: (bytes, True); the caller expects a 4xx."""
    kind = rng.randrange(9)
    if kind == 0:  # broken UTF-8 inside the JSON string
        return b'{"sender": "' + sender.encode() + b'", "message": "\xff\xfe\xc3\x28 ' + bytes(
            [rng.randrange(128, 256)]
        ) + b'"}', True
    if kind == 1:
        depth = rng.randrange(1000, 50_000)
        return (
            b'{"sender": "' + sender.encode() + b'", "message": ' + b"[" * depth + b"]" * depth + b"}",
            True,
        )
    if kind == 2:
        return json.dumps(
            {"sender": sender, "message": rng.choice([1, None, [], {}, True, 1.5])}
        ).encode(), True
    if kind == 3:
        return json.dumps(rng.choice([[], "text", 1, None, [{"sender": sender}]])).encode(), True
    if kind == 4:
        return json.dumps(
            {"sender": rng.choice(["", " ", 7, None, "x" * 201, "a\x00b"]), "message": "hi"}
        ).encode(), True
    if kind == 5:
        return json.dumps({"sender": sender, "message": "a" * 10_001}).encode(), True
    if kind == 6:
        deep: object = "x"
        for _ in range(rng.randrange(6, 400)):
            deep = {"k": deep}
        return json.dumps({"sender": sender, "message": "hi", "metadata": deep}).encode(), True
    if kind == 7:
        return b'{"sender": "' + sender.encode() + b'", "message": "hi"' + rng.choice(
            [b"", b",", b"}}", b"\x00"]
        ), True
    return json.dumps(
        {"sender": sender, "message": "hi", "metadata": rng.choice([[], "x", 5])}
    ).encode(), True


def requests_(count: int, seed: int = 20261130) -> Iterator[tuple[str, bytes, bool]]:
    """(sender, body, should_be_refused) for `count` requests; about a quarter are malformed."""
    rng = random.Random(seed)
    for number in range(count):
        sender = f"fuzz-{number // 5}"  # five messages a conversation: under the typing-speed limit
        if rng.random() < 0.25:
            body, refused = _raw(rng, sender)
            yield sender, body, refused
            continue
        text = _text(rng)
        if rng.random() < 0.1:
            text += chr(rng.choice([0xD800, 0xDFFF, 0xD83D]))  # a lone surrogate: sent as a JSON escape
        metadata = {"customer": {"name": _text(rng)[:50]}} if rng.random() < 0.2 else None
        yield sender, json.dumps({"sender": sender, "message": text, "metadata": metadata}).encode(), False
