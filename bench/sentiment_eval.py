"""Sentiment of held-out customer messages: accuracy, macro-F1, confusion matrix, time per message.

    python bench/sentiment_eval.py                 # held-out set, results in bench/results/
    python bench/sentiment_eval.py --data my.tsv   # your own TSV (header: label<TAB>text);
                                                   # the last line printed is the macro-F1

Scores the classifier inside the trained model (`make train`), one message at a time as the
Rasa server runs it, and times what it adds per message.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.nlu_eval import read_tsv  # noqa: E402
from vietcx.embeddings import DEFAULT_MODEL_DIR, load_model  # noqa: E402
from vietcx.nlu.sentiment import LABELS, SentimentModel  # noqa: E402
from vietcx.normalize import strip_diacritics  # noqa: E402
from vietcx.servers import DEFAULT_MODEL, PROJECT  # noqa: E402

HELD_OUT = PROJECT / "bench" / "data" / "sentiment_heldout.tsv"
RESULTS = PROJECT / "bench" / "results" / "sentiment_eval.json"


def trained_classifier(model: Path) -> SentimentModel:
    """The sentiment classifier stored in a trained Rasa model."""
    with tempfile.TemporaryDirectory() as folder:
        with tarfile.open(model) as archive:
            members = [m for m in archive.getmembers() if m.name.endswith("sentiment.joblib")]
            if not members:
                raise SystemExit(f"{model} has no sentiment classifier: train with the current config.yml")
            archive.extractall(folder, members=members)
        classifier: SentimentModel = joblib.load(next(Path(folder).rglob("sentiment.joblib")))
    classifier._embedder = load_model(str(DEFAULT_MODEL_DIR))
    return classifier


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, help="TSV with header label<TAB>text (default: the held-out set)"
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args()
    rows = read_tsv(args.data or HELD_OUT, "label")
    if not args.model.exists():
        subprocess.run(["make", "train"], cwd=PROJECT, check=True)
    classifier = trained_classifier(args.model)
    classifier.predict(["xin chào"])  # warm-up

    predicted, times = [], []
    for _, text in rows:
        started = time.perf_counter()
        predicted.append(classifier.predict([text])[0]["label"])
        times.append((time.perf_counter() - started) * 1000)
    gold = [label for label, _ in rows]
    unaccented = [strip_diacritics(t) == t for _, t in rows]

    def f1(flag: bool | None = None) -> float:
        chosen = [i for i in range(len(rows)) if flag is None or unaccented[i] == flag]
        g, p = [gold[i] for i in chosen], [predicted[i] for i in chosen]
        return round(f1_score(g, p, labels=list(LABELS), average="macro", zero_division=0), 4)

    result = {
        "data": str(args.data or HELD_OUT.relative_to(PROJECT)),
        "messages": len(rows),
        "accuracy": round(accuracy_score(gold, predicted), 4),
        "macro_f1": f1(),
        "macro_f1_with_diacritics": f1(False),
        "macro_f1_without_diacritics": f1(True),
        "negative_recall": round(recall_score(gold, predicted, labels=["negative"], average="macro"), 4),
        "confusion_matrix": {
            "labels": list(LABELS),
            "rows_gold_columns_predicted": confusion_matrix(gold, predicted, labels=list(LABELS)).tolist(),
        },
        "ms_per_message": {
            "p50": round(float(np.percentile(times, 50)), 1),
            "p95": round(float(np.percentile(times, 95)), 1),
        },
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    if not args.data:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    for key, value in result.items():
        print(f"{key:28} {value}")
    print(f"macro-F1 {result['macro_f1']:.4f}")


if __name__ == "__main__":
    main()
