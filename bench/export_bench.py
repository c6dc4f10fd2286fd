"""Survey export and report over 100 000 generated responses: time and peak memory of each step.

    python bench/export_bench.py [--rows 100000]

Each step (CSV, XLSX, JSON export with masking, then the report with its charts) runs in its own
process on the same generated SQLite file. Its peak memory is the larger of its process's high-water
resident set (VmHWM) and its children's max RSS (the XLSX writer). Not its own `ru_maxrss`: on Linux
a process started from another inherits that figure from its parent, so every step used to report
the peak of this script after generating the data (263 MB for each step).
Targets: under 10 s and under 500 MB per step. Results go to bench/results/export_bench.json.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RESULTS = Path(__file__).resolve().parent / "results" / "export_bench.json"
CHANNELS = ["web", "rest", "zalo", "messenger"]
TOPICS = ["shipping_time", "shipping_fee", "warranty", "return_policy", "installment", "order_tracking"]
COMMENTS = [
    None,
    None,
    "Nhân viên nhiệt tình",
    "Giao hơi chậm, gọi mình 0912345678",
    "mail mình an@gmail.com nhé",
    "Rất hài lòng, cảm ơn shop",
    "Tên mình là Lê Thu Trang, hàng tốt",
]


def generate(url: str, count: int) -> None:
    """Fills a database with `count` plausible survey responses (and a profile per customer)."""
    from vietcx.store.db import customers, engine, surveys

    db = engine(url)
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows, people = [], {}
    for number in range(count):
        channel, customer = rng.choice(CHANNELS), f"cust-{rng.randrange(count // 3)}"
        when = start + timedelta(minutes=rng.randrange(60 * 24 * 330))
        status = rng.choices(["completed", "partial", "skipped", "asked"], [70, 10, 10, 10])[0]
        answered = status in ("completed", "partial")
        rows.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "sender_id": f"s-{number}",
                "channel": channel,
                "customer_id": customer,
                "topic": rng.choice(TOPICS),
                "resolved_by": "faq",
                "status": status,
                "csat": rng.randint(1, 5) if answered else None,
                "ces": rng.randint(1, 7) if status == "completed" else None,
                "comment": rng.choice(COMMENTS) if answered else None,
                "sentiment": None,
                "started_at": when,
                "answered_at": when + timedelta(minutes=1) if answered else None,
            }
        )
        people[(channel, customer)] = {
            "channel": channel,
            "channel_user_id": customer,
            "full_name": "Lê Thu Trang",
            "given_name": "Trang",
            "honorific": "chị",
            "name_declined": False,
            "first_seen": when,
            "last_seen": when,
            "conversations": 1,
        }
    with db.begin() as connection:
        connection.execute(surveys.insert(), rows)
        connection.execute(customers.insert(), list(people.values()))


def step(name: str, url: str, out_dir: Path) -> dict:
    """Runs one export or the report; returns its seconds and its own peak memory (this process's and
    its children's)."""
    from vietcx.reports.surveys import export, report
    from vietcx.store.db import engine
    from vietcx.store.period import Period

    db = engine(url)
    started = time.perf_counter()
    if name == "report":
        report(Period(), out_dir / "charts", db)
        rows = None
    else:
        rows = export(Period(), name, out_dir / f"surveys.{name}", db=db, progress=False)
    seconds = time.perf_counter() - started
    # the XLSX writer runs in a child process: its peak counts too (the larger of the two). A child's
    # max RSS starts from this process's peak when it was started, never from the parent script's.
    peak_mb = max(own_peak_kb(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return {"step": name, "rows": rows, "seconds": round(seconds, 2), "peak_memory_mb": round(peak_mb, 1)}


def own_peak_kb() -> int:
    """This process's own peak resident set in kB (VmHWM: the high-water mark of its memory since it
    was started). `getrusage(RUSAGE_SELF).ru_maxrss` would include the peak of the process that
    started it, which the kernel carries over when a program is executed."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status (this benchmark needs Linux)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(step(args.step, args.db, args.out)))
        return
    with tempfile.TemporaryDirectory(prefix="export-bench-") as folder:
        url = f"sqlite:///{folder}/surveys.db"
        started = time.perf_counter()
        generate(url, args.rows)
        print(f"generated {args.rows} responses in {time.perf_counter() - started:.1f} s")
        results = []
        for name in ("csv", "xlsx", "json", "report"):
            command = [sys.executable, __file__, "--step", name, "--db", url, "--out", folder]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"{name:8} {results[-1]['seconds']:6.2f} s  {results[-1]['peak_memory_mb']:7.1f} MB")
    summary = {"rows": args.rows, "steps": results, "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
