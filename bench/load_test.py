"""Closed-loop load: N customers at once, each playing realistic conversations over REST.

    python bench/load_test.py [--customers 16] [--seconds 60] [--workers 2]
    python bench/load_test.py --url http://127.0.0.1:5005 --token $VIETCX_REST_TOKEN   # a running `make run`
    python bench/load_test.py --target cluster [--fault kill-rasa|kill-actions|restart-postgres|same-instant]

Each simulated customer plays one conversation after another (greeting and name, FAQ questions
with and without diacritics, a resolved answer and the survey typed, a complaint, a hand-over),
each under a new sender id, sending its next message as soon as the previous one is answered.
Without `--url` the real servers are started here (tests/harness.py) and the first message after
start-up ("xin chào") and the first FAQ question are timed before the load begins, since a server
that is up is not necessarily warm. Prints messages/s, reply latency p50/p95/p99 and errors, and
writes them to bench/results/load_test.json (keyed by the number of customers).

`--target cluster` starts the scaled-out deployment of `make cluster` instead (PostgreSQL, Redis,
nginx, two Rasa and two action servers; vietcx/cluster/) and sends the customers through nginx.
`--fault` injects one fault a third of the way through: kill -9 a Rasa server (started again
20 s later), kill -9 both action servers (started again 5 s later), restart PostgreSQL, or every
customer sending two messages at the same instant to the two Rasa servers. After the load the
databases are checked (unless `--url`): every message that got a reply is stored once in the
tracker store, every survey answer that got a reply is stored once, every customer message's
sentiment is stored once. Prints, per run: messages sent, answered, errors seen by customers,
data lost and duplicated (both must be 0); writes them to bench/results/load_test_faults.json.
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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from harness import running_assistant, running_cluster  # noqa: E402
from vietcx.cluster.launcher import Cluster  # noqa: E402
from vietcx.rasa_server import SYSTEM_BUSY  # noqa: E402
from vietcx.store.db import message_sentiment, sentiment_queue, surveys  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "load_test.json"
FAULT_RESULTS = ROOT / "bench" / "results" / "load_test_faults.json"
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
# which message of a conversation answers the CSAT question, and which the CES question
SURVEY_ANSWERS = {0: (4, 5), 1: (4, 5), 5: (4, 5), 6: (3, 4), 7: (2, 3)}


@dataclass(frozen=True)
class Sent:
    """One message a customer sent, and whether its replies came back."""

    sender: str
    script: int
    index: int
    text: str
    answered: bool


@dataclass
class Tally:
    """Latencies and errors of the measured window, shared by the customer threads."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
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
    busy = SYSTEM_BUSY.split("{")[0]
    if any(str(r.get("text")).startswith(busy) for r in reply.json()):  # "please send it again"
        raise requests.HTTPError("the assistant said it is busy", response=reply)
    return time.perf_counter() - started


def customer(number: int, url: str, token: str, until: float, tally: Tally) -> None:
    """Plays conversations one after another until `until` (monotonic)."""
    session = requests.Session()
    order = list(range(len(CONVERSATIONS)))
    for script in itertools.cycle(order[number % len(order) :] + order):
        sender = f"load-{number}-{uuid.uuid4().hex[:8]}"
        for index, message in enumerate(CONVERSATIONS[script]):
            for attempt in range(2):  # a customer who sees an error sends the message again, once
                if time.monotonic() >= until:
                    return
                try:
                    seconds = send(session, url, token, sender, message)
                except requests.RequestException as error:
                    with tally.lock:
                        tally.errors.append(f"{type(error).__name__}: {error}"[:200])
                        tally.sent.append(Sent(sender, script, index, message, False))
                    time.sleep(1 + attempt)
                    continue
                with tally.lock:
                    tally.latencies.append(seconds)
                    tally.sent.append(Sent(sender, script, index, message, True))
                break


def same_instant(cluster: Cluster, token: str, customers: int, tally: Tally) -> None:
    """Each customer sends two messages at the same instant, one to each Rasa server."""
    pairs = [("phí ship bao nhiêu vậy shop", "à mà có trả góp không"), ("chao shop", "toi la Tran Van Hung")]
    barrier = threading.Barrier(2 * customers)

    def one(sender: str, server: str, message: str) -> None:
        barrier.wait()
        try:
            send(requests.Session(), cluster.server_url(server), token, sender, message)
            ok = True
        except requests.RequestException as error:
            ok = False
            with tally.lock:
                tally.errors.append(f"{type(error).__name__}: {error}"[:200])
        with tally.lock:
            tally.sent.append(Sent(sender, -1, 0, message, ok))

    threads = []
    for number in range(customers):
        sender = f"load-both-{number}-{uuid.uuid4().hex[:8]}"
        first, second = pairs[number % len(pairs)]
        threads += [
            threading.Thread(target=one, args=(sender, "rasa-1", first)),
            threading.Thread(target=one, args=(sender, "rasa-2", second)),
        ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def inject(fault: str, cluster: Cluster, token: str, customers: int, tally: Tally) -> None:
    """One fault, while the customers go on."""
    if fault == "kill-rasa":
        cluster.kill("rasa-1")
        time.sleep(20)
        cluster.spawn("rasa-1")  # as the supervisor (or systemd) would
    elif fault == "kill-actions":
        cluster.kill("actions-1")
        cluster.kill("actions-2")
        time.sleep(5)
        cluster.spawn("actions-1")
        cluster.spawn("actions-2")
    elif fault == "restart-postgres":
        cluster.restart("postgres")
    elif fault == "same-instant":
        same_instant(cluster, token, customers, tally)


def integrity(tracker_url: str, product_url: str, tally: Tally) -> dict[str, int]:
    """What the databases hold of what the customers sent: lost and duplicated, per kind."""
    tracker, product = create_engine(tracker_url), create_engine(product_url)
    senders = sorted({s.sender for s in tally.sent})
    stored: Counter[str] = Counter()  # customer messages in the tracker store, per conversation
    scored: Counter[str] = Counter()
    with tracker.connect() as connection:
        for sender, data in connection.execute(
            text("SELECT sender_id, data FROM events WHERE type_name = 'user' AND sender_id LIKE 'load-%'")
        ):
            stored[sender] += 1
            scored[sender] += bool((json.loads(data).get("parse_data") or {}).get("sentiment"))
    answered = [s for s in tally.sent if s.answered]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # the sentiment sweep catches up
        with product.connect() as connection:
            if not connection.execute(select(func.count()).select_from(sentiment_queue)).scalar():
                break
        time.sleep(1)
    with product.connect() as connection:
        rows = connection.execute(
            select(surveys.c.sender_id, surveys.c.csat, surveys.c.ces).where(
                surveys.c.sender_id.like("load-%")
            )
        ).all()
        sentiment_rows = Counter(
            dict(
                connection.execute(
                    select(message_sentiment.c.sender_id, func.count())
                    .where(message_sentiment.c.sender_id.like("load-%"))
                    .group_by(message_sentiment.c.sender_id)
                ).all()
            )
        )
    by_sender = {sender: [r for r in rows if r.sender_id == sender] for sender in senders}
    survey_lost = 0
    unanswered = {(s.sender, s.index) for s in tally.sent if not s.answered} - {
        (s.sender, s.index) for s in answered
    }
    for s in answered:
        survey = SURVEY_ANSWERS.get(s.script)
        # an answer counts when every earlier message of its conversation was answered in the end
        if survey and s.index in survey and not any((s.sender, i) in unanswered for i in range(s.index)):
            row = by_sender[s.sender][0] if by_sender[s.sender] else None
            column = "csat" if s.index == survey[0] else "ces"
            survey_lost += row is None or getattr(row, column) is None
    # a typed button title is stored as the button's payload: messages are counted, not matched
    sent, replied = Counter(s.sender for s in tally.sent), Counter(s.sender for s in answered)
    return {
        "messages_lost": sum(max(replied[s] - stored[s], 0) for s in senders),
        "messages_duplicated": sum(max(stored[s] - sent[s], 0) for s in senders),
        "survey_answers_lost": survey_lost,
        "surveys_duplicated": sum(len(found) > 1 for found in by_sender.values()),
        "sentiment_lost": sum(max(scored[s] - sentiment_rows[s], 0) for s in senders),
        "sentiment_duplicated": sum(max(sentiment_rows[s] - scored[s], 0) for s in senders),
    }


def run_load(
    url: str, token: str, customers: int, seconds: float, fault: Callable[[Tally], None] | None = None
) -> tuple[dict[str, object], Tally]:
    tally = Tally()
    started = time.monotonic()
    threads = [
        threading.Thread(target=customer, args=(n, url, token, started + seconds, tally), daemon=True)
        for n in range(customers)
    ]
    for thread in threads:
        thread.start()
    if fault:
        time.sleep(seconds / 3)
        fault(tally)
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
    }, tally


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="Rasa processes (make run: one per core)"
    )
    parser.add_argument("--url", help="a running Rasa server (else the servers are started here)")
    parser.add_argument("--token", default=os.environ.get("VIETCX_REST_TOKEN", ""), help="the REST token")
    parser.add_argument("--target", choices=("run", "cluster"), default="run", help="what to start")
    parser.add_argument(
        "--fault",
        choices=("none", "kill-rasa", "kill-actions", "restart-postgres", "same-instant"),
        default="none",
    )
    args = parser.parse_args()

    checks: dict[str, int] = {}
    if args.url:
        result, _ = run_load(args.url.rstrip("/"), args.token, args.customers, args.seconds)
    elif args.target == "cluster":
        with running_cluster() as cluster:
            token = cluster.extra_env["VIETCX_REST_TOKEN"]
            fault = None
            if args.fault != "none":
                fault = lambda tally: inject(args.fault, cluster, token, args.customers, tally)  # noqa: E731
            result, tally = run_load(cluster.url, token, args.customers, args.seconds, fault)
            checks = integrity(cluster.postgres.url("rasa"), cluster.postgres.url("vietcx"), tally)
    else:
        with running_assistant(extra_env={"SANIC_WORKERS": str(args.workers)}) as assistant:
            token = assistant.env["VIETCX_REST_TOKEN"]
            session = requests.Session()
            first = send(session, assistant.url, token, f"first-{uuid.uuid4().hex[:8]}", "xin chào")
            faq = send(session, assistant.url, token, f"first-{uuid.uuid4().hex[:8]}", "phí ship bao nhiêu")
            result, tally = run_load(assistant.url, token, args.customers, args.seconds)
            result["first_message_after_start_ms"] = round(first * 1000, 1)
            result["first_faq_question_after_start_ms"] = round(faq * 1000, 1)
            checks = integrity(f"sqlite:///{assistant.workdir / 'tracker.db'}", assistant.database_url, tally)
    result["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    result["cpus"] = os.cpu_count()
    result["target"] = "running" if args.url else args.target
    result["rasa_workers"] = None if args.url else (2 if args.target == "cluster" else args.workers)
    if checks:
        sent = len(tally.sent)
        result |= {"sent": sent, "answered": sum(s.answered for s in tally.sent), **checks}
    for key, value in result.items():
        print(f"{key:34} {value}")
    RESULTS.parent.mkdir(exist_ok=True)
    if args.fault != "none":
        previous = json.loads(FAULT_RESULTS.read_text(encoding="utf-8")) if FAULT_RESULTS.exists() else {}
        previous[args.fault] = result
        FAULT_RESULTS.write_text(json.dumps(previous, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        previous = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
        where = "cluster" if args.target == "cluster" else f"{result['rasa_workers'] or 'running'} workers"
        previous[f"{args.customers} customers, {where}"] = result
        RESULTS.write_text(json.dumps(previous, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    lost = sum(v for k, v in checks.items() if k.endswith(("lost", "duplicated")) and isinstance(v, int))
    if checks:
        print(f"data lost or duplicated {lost}")
    print(f"messages/s {result['messages_per_second']}")


if __name__ == "__main__":
    main()
