"""Closed-loop load: N customers at once, each playing realistic conversations over REST.

    python bench/load_test.py [--customers 16] [--seconds 60] [--workers 2]
    python bench/load_test.py --url http://127.0.0.1:5005 --token $VIETCX_REST_TOKEN   # a running `make run`

Each simulated customer plays one conversation after another (greeting and name, FAQ questions
with and without diacritics, a resolved answer and the survey typed, a complaint, a hand-over),
each under a new sender id, sending its next message as soon as the previous one is answered.
Without `--url` the real servers are started here (tests/harness.py) and the first message after
start-up ("xin chào") and the first FAQ question are timed before the load begins, since a server
that is up is not necessarily warm. Prints messages/s, reply latency p50/p95/p99 and errors, and
writes them to bench/results/load_test.json (keyed by the number of customers).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from harness import running_assistant  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "load_test.json"
CONVERSATIONS = [
    [
        "xin chào",
        "Mình tên Nguyễn Thị Lan",
        "phí ship bao nhiêu vậy shop",
        "đã giải quyết",
        "5 sao",
        "rất dễ",
        "không",
    ],
    [
        "chao shop",
        "toi la Tran Van Hung",
        "dat hang hom nay bao lau thi nhan duoc",
        "xong roi",
        "4",
        "6",
        "ko co gi",
    ],
    ["sản phẩm được bảo hành bao lâu", "chưa ạ", "có", "alo", "mình chờ nhé"],
    ["giao hàng chậm quá, đặt 1 tuần chưa thấy đâu", "đơn SM123456", "cho mình gặp nhân viên"],
    ["shop có trả góp 0% không", "ok cảm ơn", "bỏ qua"],
    ["hi", "bí mật", "doi tra hang nhu the nao", "ok tks", "năm", "bảy", "nv tư vấn nhiệt tình"],
    ["showroom ở đâu vậy", "mấy giờ mở cửa", "rồi cảm ơn em", "4 sao", "hơi khó", "web hơi khó tìm"],
    ["xuat hoa don vat duoc khong", "thanks ad", "3", "4", "k"],
]


@dataclass
class Tally:
    """Latencies and errors of the measured window, shared by the customer threads."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def send(session: requests.Session, url: str, token: str, sender: str, text: str) -> float:
    """One message over REST; the seconds until its replies came back."""
    started = time.perf_counter()
    reply = session.post(
        f"{url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    reply.raise_for_status()
    return time.perf_counter() - started


def customer(number: int, url: str, token: str, until: float, tally: Tally) -> None:
    """Plays conversations one after another until `until` (monotonic)."""
    session = requests.Session()
    for script in itertools.cycle(CONVERSATIONS[number % len(CONVERSATIONS) :] + CONVERSATIONS):
        sender = f"load-{number}-{uuid.uuid4().hex[:8]}"
        for text in script:
            if time.monotonic() >= until:
                return
            try:
                seconds = send(session, url, token, sender, text)
            except requests.RequestException as error:
                with tally.lock:
                    tally.errors.append(f"{type(error).__name__}: {error}"[:200])
                continue
            with tally.lock:
                tally.latencies.append(seconds)


def run_load(url: str, token: str, customers: int, seconds: float) -> dict[str, object]:
    tally = Tally()
    started = time.monotonic()
    threads = [
        threading.Thread(target=customer, args=(n, url, token, started + seconds, tally), daemon=True)
        for n in range(customers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 90)
    elapsed = time.monotonic() - started
    latencies = np.array(tally.latencies) * 1000 if tally.latencies else np.array([0.0])
    return {
        "customers": customers,
        "seconds": round(elapsed, 1),
        "messages": len(tally.latencies),
        "messages_per_second": round(len(tally.latencies) / elapsed, 2),
        "latency_ms": {
            q: round(float(np.percentile(latencies, int(q[1:]))), 1) for q in ("p50", "p95", "p99")
        },
        "errors": len(tally.errors),
        "first_errors": tally.errors[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="Rasa processes (make run: one per core)"
    )
    parser.add_argument("--url", help="a running Rasa server (else both servers are started here)")
    parser.add_argument("--token", default=os.environ.get("VIETCX_REST_TOKEN", ""), help="the REST token")
    args = parser.parse_args()

    if args.url:
        result = run_load(args.url.rstrip("/"), args.token, args.customers, args.seconds)
    else:
        with running_assistant(extra_env={"SANIC_WORKERS": str(args.workers)}) as assistant:
            token = assistant.env["VIETCX_REST_TOKEN"]
            session = requests.Session()
            first = send(session, assistant.url, token, f"first-{uuid.uuid4().hex[:8]}", "xin chào")
            faq = send(session, assistant.url, token, f"first-{uuid.uuid4().hex[:8]}", "phí ship bao nhiêu")
            result = run_load(assistant.url, token, args.customers, args.seconds)
            result["first_message_after_start_ms"] = round(first * 1000, 1)
            result["first_faq_question_after_start_ms"] = round(faq * 1000, 1)
    result["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    result["cpus"] = os.cpu_count()
    result["rasa_workers"] = None if args.url else args.workers
    for key, value in result.items():
        print(f"{key:34} {value}")
    RESULTS.parent.mkdir(exist_ok=True)
    previous = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    previous[f"{args.customers} customers, {result['rasa_workers'] or 'running'} workers"] = result
    RESULTS.write_text(json.dumps(previous, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"messages/s {result['messages_per_second']}")


if __name__ == "__main__":
    main()
