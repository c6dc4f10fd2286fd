"""Intent accuracy, macro-F1 and parse latency of the trained assistant on held-out utterances.

    python bench/nlu_eval.py                 # the team's held-out set, results in bench/results/
    python bench/nlu_eval.py --data my.tsv   # your own TSV (header: intent<TAB>text);
                                             # the last line printed is the overall accuracy

The model is the one `make train` builds from data/ (trained first if missing). Every utterance
goes through the real Rasa server's /model/parse, so the latency is what a channel would see.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the servers harness

from harness import DEFAULT_MODEL, PROJECT, running_assistant  # noqa: E402
from vietcx.normalize import strip_diacritics  # noqa: E402

HELD_OUT = PROJECT / "bench" / "data" / "nlu_heldout.tsv"
RESULTS = PROJECT / "bench" / "results" / "nlu_eval.json"


def read_tsv(path: Path, label: str, text: str = "text") -> list[tuple[str, str]]:
    """Rows of (label, text) from a TSV whose header names the two columns."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        if not reader.fieldnames or {label, text} - set(reader.fieldnames):
            raise SystemExit(f"{path}: the header must be '{label}<TAB>{text}'")
        return [(row[label].strip(), row[text].strip()) for row in reader if row[label] and row[text]]


def scores(gold: list[str], predicted: list[str]) -> dict[str, float]:
    """Accuracy and macro-F1 over the gold labels."""
    if not gold:
        return {"n": 0}
    labels = sorted(set(gold))
    return {
        "n": len(gold),
        "accuracy": round(accuracy_score(gold, predicted), 4),
        "macro_f1": round(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, help="TSV with header intent<TAB>text (default: the held-out set)"
    )
    parser.add_argument(
        "--model", type=Path, default=DEFAULT_MODEL, help="trained model (default: make train's)"
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the figures")
    args = parser.parse_args()
    rows = read_tsv(args.data or HELD_OUT, "intent")
    if not args.model.exists():
        subprocess.run([sys.executable, "-m", "rasa", "train", "--fixed-model-name", "assistant"], check=True)

    predicted, latencies = [], []
    with running_assistant(args.model) as assistant:
        assistant.parse("xin chào")  # warm-up; the chat below waits until the action server is ready too
        assistant.chat("bench-warm-up", "ship mất bao lâu vậy shop")
        for _, text in rows:
            started = time.perf_counter()
            predicted.append(assistant.parse(text)["intent"]["name"])
            latencies.append((time.perf_counter() - started) * 1000)

    gold = [intent for intent, _ in rows]
    accented = [strip_diacritics(text) != text for _, text in rows]

    def subset(flag: bool) -> dict[str, float]:
        chosen = [i for i, is_accented in enumerate(accented) if is_accented == flag]
        return scores([gold[i] for i in chosen], [predicted[i] for i in chosen])

    result = {
        "data": str(args.data or HELD_OUT.relative_to(PROJECT)),
        "model": str(args.model),
        "overall": scores(gold, predicted),
        "with_diacritics": subset(True),
        "without_diacritics": subset(False),
        "parse_latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 1),
            "p95": round(float(np.percentile(latencies, 95)), 1),
        },
        "errors": [
            {"text": text, "gold": g, "predicted": p}
            for (g, text), p in zip(rows, predicted, strict=True)
            if g != p
        ],
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    if not args.data:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    for key in ("overall", "with_diacritics", "without_diacritics"):
        print(f"{key:20} {result[key]}")
    print(f"{'parse latency (ms)':20} {result['parse_latency_ms']}")
    for error in result["errors"][:30]:
        print(f"  miss: {error['gold']:>14} -> {error['predicted']:<14} {error['text']}")
    print(f"accuracy {result['overall']['accuracy']:.4f}")


if __name__ == "__main__":
    main()
