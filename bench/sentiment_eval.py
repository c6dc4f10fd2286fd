"""Sentiment of held-out customer messages: accuracy, macro-F1, confusion matrix, time per message.

    python bench/sentiment_eval.py                 # both held-out sets (short messages, and
                                                   # long mixed reviews), results in bench/results/
    python bench/sentiment_eval.py --data my.tsv   # your own TSV (header: label<TAB>text);
                                                   # the last line printed is the macro-F1

Scores the classifier inside the trained model (`make train`), one message at a time as the
Rasa server runs it: the tokenizer and the sentence-embedding featurizer first (the pipeline needs
them for the intents anyway), then the classifier, which reuses the featurizer's sentence vector.
The time per message is what the classifier adds to that.
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
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the servers harness

from rasa.shared.nlu.constants import TEXT  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402

from bench.nlu_eval import read_tsv  # noqa: E402
from harness import DEFAULT_MODEL, PROJECT  # noqa: E402
from vietcx.embeddings import DEFAULT_MODEL_DIR  # noqa: E402
from vietcx.nlu.embedding_featurizer import SentenceEmbeddingFeaturizer  # noqa: E402
from vietcx.nlu.sentiment import LABELS, SENTIMENT, SentimentClassifier, SentimentModel  # noqa: E402
from vietcx.nlu.tokenizer import VietnameseTokenizer  # noqa: E402
from vietcx.normalize import strip_diacritics  # noqa: E402

HELD_OUT = PROJECT / "bench" / "data" / "sentiment_heldout.tsv"
REVIEWS = PROJECT / "bench" / "data" / "sentiment_reviews_heldout.tsv"
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
    return classifier.attach(str(DEFAULT_MODEL_DIR))


def featurized(texts: list[str]) -> list[Message]:
    """Messages as the pipeline hands them to the classifier: tokenized and featurized."""
    tokenizer = VietnameseTokenizer(VietnameseTokenizer.get_default_config())
    config = {**SentenceEmbeddingFeaturizer.get_default_config(), "model": str(DEFAULT_MODEL_DIR)}
    featurizer = SentenceEmbeddingFeaturizer(config, "featurizer")
    messages = [Message(data={TEXT: text}) for text in texts]
    for message in messages:
        featurizer.process(tokenizer.process([message]))
    return messages


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
    component = SentimentClassifier({}, None, None, trained_classifier(args.model))  # type: ignore[arg-type]
    component.process(featurized(["xin chào"]))  # warm-up

    result = score(component, rows, str(args.data or HELD_OUT.relative_to(PROJECT)))
    if not args.data:  # the held-out reviews too: long, mixed, teencode (column `mixed`: yes/no)
        reviews = read_tsv(REVIEWS, "label")
        result["reviews"] = score(component, reviews, str(REVIEWS.relative_to(PROJECT)))
        mixed = [
            row
            for row, flag in zip(reviews, read_tsv(REVIEWS, "label", "mixed"), strict=True)
            if flag[1] == "yes"
        ]
        result["reviews"]["macro_f1_mixed"] = score(component, mixed, "mixed")["macro_f1"]
    if not args.data:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    for key, value in result.items():
        print(f"{key:28} {value}")
    print(f"macro-F1 {result['macro_f1']:.4f}")


def score(component: SentimentClassifier, rows: list[tuple[str, str]], data: str) -> dict:
    """Accuracy, macro-F1 (with / without diacritics), negative recall, confusion, ms/message."""
    predicted, times = [], []
    for message in featurized([text for _, text in rows]):
        started = time.perf_counter()
        component.process([message])
        times.append((time.perf_counter() - started) * 1000)
        predicted.append(message.get(SENTIMENT)["label"])
    gold = [label for label, _ in rows]
    unaccented = [strip_diacritics(t) == t for _, t in rows]

    def f1(flag: bool | None = None) -> float:
        chosen = [i for i in range(len(rows)) if flag is None or unaccented[i] == flag]
        g, p = [gold[i] for i in chosen], [predicted[i] for i in chosen]
        return round(f1_score(g, p, labels=list(LABELS), average="macro", zero_division=0), 4)

    return {
        "data": data,
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


if __name__ == "__main__":
    main()
