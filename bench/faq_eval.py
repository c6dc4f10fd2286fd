"""FAQ answering measured through the REST channel, on questions the knowledge base never saw.

    python bench/faq_eval.py                 # held-out set, results in bench/results/faq_eval.json
    python bench/faq_eval.py --data my.tsv   # your own TSV (header: topic<TAB>question; topic
                                             # `out_of_scope` for questions that must be refused);
                                             # the last line printed is the top-1 accuracy
    python bench/faq_eval.py --tune          # choose the search thresholds on the knowledge base's
                                             # own examples (leave-one-out), never the held-out set

Every question is sent as a new customer's message to the real servers. The topic answered is
read from the conversation (slot `faq_topic`; `faq_candidates` when the assistant offered a
choice, whose first button is then its top-1). "Refused" means no answer was given.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the servers harness

from bench.nlu_eval import read_tsv  # noqa: E402
from harness import PROJECT, Assistant, running_assistant  # noqa: E402
from vietcx.embeddings import DEFAULT_MODEL_DIR  # noqa: E402
from vietcx.kb.loader import load, load_for_staff  # noqa: E402
from vietcx.kb.search import Embeddings, Index, Thresholds, out_of_scope_examples  # noqa: E402
from vietcx.normalize import strip_diacritics  # noqa: E402

HELD_OUT = PROJECT / "bench" / "data" / "faq_heldout.tsv"
RESULTS = PROJECT / "bench" / "results" / "faq_eval.json"
OUT_OF_SCOPE = "out_of_scope"


def ask(assistant: Assistant, question: str) -> tuple[str | None, str | None, float]:
    """(topic answered, first topic offered, seconds) for one question from a new customer."""
    sender = f"bench-{uuid.uuid4().hex[:10]}"
    started = time.perf_counter()
    assistant.chat(sender, question)
    elapsed = time.perf_counter() - started
    events = assistant.tracker(sender)["events"]
    last_user = max(i for i, e in enumerate(events) if e["event"] == "user")
    slots = {e["name"]: e["value"] for e in events[last_user:] if e["event"] == "slot"}
    answered = slots.get("faq_topic") if slots.get("faq_state") == "answered" else None
    offered = (slots.get("faq_candidates") or [None])[0] if slots.get("faq_state") == "choose" else None
    return answered, offered, elapsed


def evaluate(rows: list[tuple[str, str]]) -> dict:
    """Accuracy, refusals and latency over (topic, question) rows."""
    outcomes = []
    with running_assistant() as assistant:
        ask(assistant, "ship mất bao lâu vậy shop")  # warm-up: models loaded, knowledge base indexed
        for topic, question in rows:
            answered, offered, elapsed = ask(assistant, question)
            outcomes.append((topic, question, answered, offered, elapsed))

    def top1(subset: list) -> float | None:
        hits = [(answered or offered) == topic for topic, _, answered, offered, _ in subset]
        return round(sum(hits) / len(hits), 4) if hits else None

    in_scope = [o for o in outcomes if o[0] != OUT_OF_SCOPE]
    out_scope = [o for o in outcomes if o[0] == OUT_OF_SCOPE]
    accented = [o for o in in_scope if strip_diacritics(o[1]) != o[1]]
    unaccented = [o for o in in_scope if strip_diacritics(o[1]) == o[1]]
    latencies = [o[4] * 1000 for o in outcomes]
    return {
        "questions": len(outcomes),
        "top1": top1(in_scope),
        "top1_with_diacritics": top1(accented),
        "top1_without_diacritics": top1(unaccented),
        "answered_directly_and_right": round(sum(o[2] == o[0] for o in in_scope) / max(len(in_scope), 1), 4),
        "out_of_scope_refused": round(
            sum(o[2] is None and o[3] is None for o in out_scope) / len(out_scope), 4
        )
        if out_scope
        else None,
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 1),
            "p95": round(float(np.percentile(latencies, 95)), 1),
        },
        "errors": [
            {"topic": t, "question": q, "answered": a, "offered": f}
            for t, q, a, f, _ in outcomes
            if (a or f) != (None if t == OUT_OF_SCOPE else t)
        ],
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def tune(folds: int = 5) -> dict:
    """Cross-validation over the knowledge base's examples and what it must not answer (the NLU's
    out-of-scope examples, the questions only staff can answer)."""
    topics, negatives = load(), out_of_scope_examples() + load_for_staff()
    embeddings = Embeddings(str(DEFAULT_MODEL_DIR))
    probes = []  # (gold topic id, or None for out of scope; ranking by an index that never saw it)
    for k in range(folds):
        train = [
            replace(t, examples=tuple(e for i, e in enumerate(t.examples) if i % folds != k)) for t in topics
        ]
        index = Index(train, embeddings, [q for i, q in enumerate(negatives) if i % folds != k])
        for topic in topics:
            probes += [(topic.id, index.rank(q)) for i, q in enumerate(topic.examples) if i % folds == k]
        probes += [(None, index.rank(q)) for i, q in enumerate(negatives) if i % folds == k]

    def outcome(thresholds: Thresholds) -> tuple[int, int]:
        right = direct = 0
        for gold, ranking in probes:
            decision = thresholds.decide(ranking)
            top = decision.matches[0].topic.id if decision.kind != "unknown" else None
            right += top == gold
            direct += gold is not None and decision.kind == "answer" and top == gold
        return right, direct

    grid = itertools.product(
        [0.2, 0.25, 0.3, 0.4, 0.5], [0.0, 0.02, 0.05, 0.1, 0.2], [0.1, 0.15, 0.2, 0.25, 0.3]
    )
    candidates = [Thresholds(a, m, s) for a, m, s in grid if s <= a]
    best = max(candidates, key=outcome)
    right, direct = outcome(best)
    positives = sum(gold is not None for gold, _ in probes)
    return {
        "knowledge_base_examples": positives,
        "out_of_scope_examples": len(probes) - positives,
        "top1_ranking": round(sum(r[0].topic.id == g for g, r in probes if g) / positives, 4),
        "right_with_best_thresholds": round(right / len(probes), 4),
        "answered_directly_and_right": round(direct / positives, 4),
        "best_thresholds": best.__dict__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, help="TSV with header topic<TAB>question (default: the held-out set)"
    )
    parser.add_argument(
        "--tune", action="store_true", help="choose thresholds on the knowledge base's examples"
    )
    args = parser.parse_args()
    if args.tune:
        print(json.dumps(tune(), indent=2))
        return
    result = evaluate(read_tsv(args.data or HELD_OUT, "topic", "question"))
    if not args.data:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    for key, value in result.items():
        if key != "errors":
            print(f"{key:30} {value}")
    for error in result["errors"][:40]:
        got = error["answered"] or error["offered"] or "-"
        print(f"  miss: {error['topic']:>20} -> {got:<20} {error['question']}")
    print(f"top-1 accuracy {result['top1']:.4f}")


if __name__ == "__main__":
    main()
