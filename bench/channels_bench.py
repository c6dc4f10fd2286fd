"""Zalo and Messenger webhooks at a steady rate against the running assistant.

    python bench/channels_bench.py [--rate 10] [--seconds 60] [--customers 60] [--resend 0.1]

Starts the real Rasa and action servers (tests/harness.py) with local fakes of Zalo's OA API and
Meta's Send API (tests/e2e/), then posts signed webhooks, half Zalo, half Messenger, at `--rate`
events a second. Customers behave as people do: each writes its next message only after the answer
to the previous one came. A share (`--resend`) of the events is posted a second time, as the
platforms do when an answer is slow. Prints, and keeps in bench/results/channels_bench.json (one run
per rate):
- acknowledgement time (webhook posted → 200) p50/p95/max;
- end to end (webhook posted → first message of the answer at the fake send API) p50/p95/max;
- events lost (no answer, or no turn in the tracker) and duplicated (a turn twice): must be 0.
Targets on the 2-core machine: ack p95 < 200 ms at 10 events/s; end to end p95 < 1.5 s.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "e2e")]

from fake_graph import FakeGraph, fake_graph  # noqa: E402
from fake_zalo import FakeZalo, fake_zalo  # noqa: E402

from harness import Assistant, running_assistant  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "channels_bench.json"
ANSWER_TIMEOUT = 30.0
MESSAGES = [
    "chào shop",
    "shop ơi phí ship về Đà Nẵng bao nhiêu vậy",
    "toi muon doi tra san pham",
    "sp này bảo hành bao lâu ạ",
    "giao hàng mất mấy ngày vậy shop",
    "có trả góp không shop",
    "ko biết đơn hàng của mình tới đâu rồi",
    "cảm ơn shop nhé",
    "mình muốn hủy đơn được ko",
    "shop có mở cửa chủ nhật không",
]


@dataclass
class Customer:
    platform: str  # zalo | messenger
    user_id: str
    sent: int = 0  # events posted (resends not counted)
    busy: bool = False
    answers_before: int = 0
    posted_at: float = 0.0


@dataclass
class Figures:
    acks: list[float] = field(default_factory=list)
    e2e: list[float] = field(default_factory=list)
    no_answer: int = 0
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def zalo_post(assistant: Assistant, user: str, text: str, msg_id: str) -> requests.Response:
    event = {
        "app_id": assistant.env["VIETCX_ZALO_APP_ID"],
        "event_name": "user_send_text",
        "timestamp": str(int(time.time() * 1000)),
        "sender": {"id": user},
        "recipient": {"id": "579745863508352884"},
        "message": {"msg_id": msg_id, "text": text},
    }
    raw = json.dumps(event, ensure_ascii=False).encode()
    secret = assistant.env["VIETCX_ZALO_OA_SECRET"]
    mac = hashlib.sha256(event["app_id"].encode() + raw + event["timestamp"].encode() + secret.encode())
    headers = {"Content-Type": "application/json", "X-ZEvent-Signature": "mac=" + mac.hexdigest()}
    return requests.post(f"{assistant.url}/webhooks/zalo/webhook", data=raw, headers=headers, timeout=10)


def messenger_post(assistant: Assistant, psid: str, text: str, mid: str) -> requests.Response:
    event = {
        "sender": {"id": psid},
        "recipient": {"id": "PAGE"},
        "timestamp": int(time.time() * 1000),
        "message": {"mid": mid, "text": text},
    }
    raw = json.dumps({"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": [event]}]}).encode()
    key = assistant.env["VIETCX_MESSENGER_APP_SECRET"].encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": "sha256=" + hmac.new(key, raw, hashlib.sha256).hexdigest(),
    }
    return requests.post(f"{assistant.url}/webhooks/messenger/webhook", data=raw, headers=headers, timeout=10)


def answers(fakes: dict[str, FakeZalo | FakeGraph], customer: Customer) -> list[float]:
    """Arrival times of the messages the fake send API got for the customer."""
    fake = fakes[customer.platform]
    with fake.lock:
        return list(fake.arrivals.get(customer.user_id, []))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def run(args: argparse.Namespace) -> dict:
    with running_assistant(extra_env={"SANIC_WORKERS": str(args.workers)}) as assistant:
        zalo_port = urlsplit(assistant.env["VIETCX_ZALO_API_URL"]).port
        graph_port = urlsplit(assistant.env["VIETCX_GRAPH_URL"]).port
        with (
            fake_zalo(zalo_port, assistant.env) as zalo,
            fake_graph(graph_port, assistant.env["VIETCX_MESSENGER_PAGE_TOKEN"]) as graph,
        ):
            fakes: dict[str, FakeZalo | FakeGraph] = {"zalo": zalo, "messenger": graph}
            customers = [
                Customer("zalo" if n % 2 == 0 else "messenger", str(uuid.uuid4().int)[:16])
                for n in range(args.customers)
            ]
            for customer in customers[:2]:  # warm up both paths (first turn loads caches)
                start(customer, fakes)
                post(assistant, customer, "xin chào", Figures(), fakes, record=False)
            time.sleep(15)
            for customer in customers[:2]:
                customer.busy = False
            return measure(assistant, customers, fakes, args)


def post(
    assistant: Assistant,
    customer: Customer,
    text: str,
    figures: Figures,
    fakes: dict[str, FakeZalo | FakeGraph],
    record: bool = True,
    resend: bool = False,
) -> None:
    """Posts the customer's next message (twice when `resend`) and records the acknowledgement."""
    event_id = uuid.uuid4().hex
    send = zalo_post if customer.platform == "zalo" else messenger_post
    for attempt in range(2 if resend else 1):
        started = time.monotonic()
        answer = send(assistant, customer.user_id, text, event_id)
        elapsed = time.monotonic() - started
        with figures.lock:
            if answer.status_code != 200:
                figures.refused += 1
            elif record and attempt == 0:
                figures.acks.append(elapsed)


def start(customer: Customer, fakes: dict[str, FakeZalo | FakeGraph]) -> None:
    """The customer is about to write: what they have received so far, and the moment."""
    customer.answers_before = len(answers(fakes, customer))
    customer.posted_at = time.monotonic()
    customer.busy = True
    customer.sent += 1


def measure(
    assistant: Assistant,
    customers: list[Customer],
    fakes: dict[str, FakeZalo | FakeGraph],
    args: argparse.Namespace,
) -> dict:
    figures = Figures()
    rng = random.Random(7)
    events = int(args.rate * args.seconds)
    interval = 1 / args.rate
    waiting_for_idle = 0
    pool = ThreadPoolExecutor(max_workers=16)
    started = time.monotonic()
    for number in range(events):
        due = started + number * interval
        time.sleep(max(0.0, due - time.monotonic()))
        collect(customers, fakes, figures)
        idle = [c for c in customers if not c.busy]
        if not idle:
            waiting_for_idle += 1
            continue
        customer = rng.choice(idle)
        text = MESSAGES[customer.sent % len(MESSAGES)]
        start(customer, fakes)
        pool.submit(post, assistant, customer, text, figures, fakes, True, rng.random() < args.resend)
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while any(c.busy for c in customers) and time.monotonic() < deadline:
        collect(customers, fakes, figures)
        time.sleep(0.05)
    pool.shutdown(wait=True)
    figures.no_answer = sum(1 for c in customers if c.busy)
    time.sleep(3)  # a duplicate turn would show by now
    lost = duplicated = 0
    for customer in customers:
        turns = [
            e
            for e in assistant.tracker(f"{customer.platform}-{customer.user_id}")["events"]
            if e["event"] == "user"
        ]
        lost += max(0, customer.sent - len(turns))
        duplicated += max(0, len(turns) - customer.sent)
    return {
        "rate_per_second": args.rate,
        "seconds": args.seconds,
        "customers": args.customers,
        "events_posted": len(figures.acks),
        "resend_share": args.resend,
        "skipped_no_idle_customer": waiting_for_idle,
        "refused": figures.refused,
        "ack_ms": summary(figures.acks),
        "end_to_end_ms": summary(figures.e2e),
        "lost": lost + figures.no_answer,
        "duplicated": duplicated,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }


def collect(customers: list[Customer], fakes: dict[str, FakeZalo | FakeGraph], figures: Figures) -> None:
    """Customers whose answer has arrived: their end-to-end time, and they may write again."""
    for customer in customers:
        if not customer.busy or not customer.posted_at:
            continue
        arrived = answers(fakes, customer)[customer.answers_before :]
        if arrived:
            with figures.lock:
                figures.e2e.append(arrived[0] - customer.posted_at)
            customer.busy = False
        elif time.monotonic() - customer.posted_at > ANSWER_TIMEOUT:
            customer.busy = False
            with figures.lock:
                figures.no_answer += 1


def summary(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "p50": round(statistics.median(values) * 1000, 1),
        "p95": round(percentile(values, 0.95) * 1000, 1),
        "max": round(max(values) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=10.0, help="webhook events a second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--customers", type=int, default=60)
    parser.add_argument("--resend", type=float, default=0.1, help="share of events the platform posts twice")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="Rasa processes (make run: one per core)"
    )
    result = run(parser.parse_args())
    result["rasa_workers"] = parser.parse_args().workers
    RESULTS.parent.mkdir(exist_ok=True)
    runs = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    runs[f"{result['rate_per_second']:g}_per_second"] = result  # one run per rate is kept
    RESULTS.write_text(json.dumps(runs, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    ack, e2e = result["ack_ms"], result["end_to_end_ms"]
    print(f"{result['events_posted']} events at {result['rate_per_second']}/s over {result['seconds']} s")
    print(f"acknowledgement: p50 {ack.get('p50')} ms, p95 {ack.get('p95')} ms, max {ack.get('max')} ms")
    print(f"end to end:      p50 {e2e.get('p50')} ms, p95 {e2e.get('p95')} ms, max {e2e.get('max')} ms")
    print(f"lost {result['lost']}, duplicated {result['duplicated']}, refused {result['refused']}")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
