"""Fine-tuning the e5 encoder for sentiment, measured against the shipped classifier.

    python bench/sentiment_finetune.py [--layers 2] [--epochs 4] [--max-length 128]

The shipped classifier (vietcx/nlu/sentiment.py) is a logistic regression over the frozen e5
sentence vector and character n-grams. Here the top `--layers` transformer layers of
multilingual-e5-small and a small head (mean pooling, dropout, linear) are trained on the same
training files (data/sentiment/*.tsv); the lower layers stay frozen, so their output is computed
once and each epoch costs only the top layers. `--layers 12` fine-tunes the whole encoder (the
embedding matrix stays frozen). Scored on both held-out sets (short messages; long, mixed customer
reviews), with training time and the time per message of the whole encoder as served; results in
bench/results/sentiment_finetune.json.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from transformers import AutoModel, AutoTokenizer
from transformers.masking_utils import create_bidirectional_mask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vietcx.embeddings import DEFAULT_MODEL_DIR, QUERY_PREFIX  # noqa: E402
from vietcx.nlu.sentiment import LABELS, SentimentModel  # noqa: E402

TRAINING = sorted((ROOT / "data" / "sentiment").glob("*.tsv"))
HELD_OUT = {
    "messages": ROOT / "bench" / "data" / "sentiment_heldout.tsv",
    "reviews": ROOT / "bench" / "data" / "sentiment_reviews_heldout.tsv",
}
RESULTS = ROOT / "bench" / "results" / "sentiment_finetune.json"


def read(path: Path) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [(r["label"].strip(), r["text"].strip()) for r in rows if r.get("label") and r.get("text")]


class Head(torch.nn.Module):
    """The encoder's top layers, mean pooling over the tokens, dropout and a linear layer."""

    def __init__(self, layers: torch.nn.ModuleList, config: object, width: int) -> None:
        super().__init__()
        self.layers, self.config = layers, config
        self.dropout = torch.nn.Dropout(0.1)
        self.out = torch.nn.Linear(width, len(LABELS))

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        attention = create_bidirectional_mask(config=self.config, inputs_embeds=hidden, attention_mask=mask)
        for layer in self.layers:
            hidden = layer(hidden, attention)
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
        return self.out(self.dropout(pooled))


def lower_states(model: torch.nn.Module, tokenizer: object, texts: list[str], frozen: int, max_length: int):
    """The input of layer `frozen` for every text (computed once), with the attention masks."""
    states = []
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(texts), 32):
            batch = tokenizer(
                [QUERY_PREFIX + t for t in texts[start : start + 32]],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            output = model(**batch, output_hidden_states=True)
            hidden = output.hidden_states[frozen]
            for i in range(hidden.shape[0]):
                length = int(batch["attention_mask"][i].sum())
                states.append(hidden[i, :length].clone())
    return states


def batches(states: list[torch.Tensor], order: list[int], size: int):
    for start in range(0, len(order), size):
        chosen = order[start : start + size]
        longest = max(states[i].shape[0] for i in chosen)
        width = states[chosen[0]].shape[1]
        hidden = torch.zeros(len(chosen), longest, width)
        mask = torch.zeros(len(chosen), longest, dtype=torch.long)
        for row, i in enumerate(chosen):
            hidden[row, : states[i].shape[0]] = states[i]
            mask[row, : states[i].shape[0]] = 1
        yield chosen, hidden, mask


def predict(head: Head, states: list[torch.Tensor]) -> list[str]:
    head.eval()
    labels: list[str] = [""] * len(states)
    with torch.inference_mode():
        order = sorted(range(len(states)), key=lambda i: states[i].shape[0])
        for chosen, hidden, mask in batches(states, order, 64):
            for i, k in zip(chosen, head(hidden, mask).argmax(-1).tolist(), strict=True):
                labels[i] = LABELS[k]
    return labels


def logistic_regression(training: list[tuple[str, str]]) -> None:
    """The shipped classifier (frozen e5 vector + character n-grams) fitted on the same files."""
    started = time.perf_counter()
    model = SentimentModel(str(ROOT / DEFAULT_MODEL_DIR)).fit(training)
    result: dict[str, object] = {
        "training_messages": len(training),
        "training_seconds": round(time.perf_counter() - started),
    }
    for name, path in HELD_OUT.items():
        rows = read(path)
        predicted = [p["label"] for p in model.predict([t for _, t in rows])]
        gold = [label for label, _ in rows]
        result[name] = {
            "n": len(rows),
            "accuracy": round(accuracy_score(gold, predicted), 4),
            "macro_f1": round(f1_score(gold, predicted, labels=list(LABELS), average="macro"), 4),
        }
        print(name, result[name])
    save("logreg", result)


def save(key: str, result: dict[str, object]) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    previous = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    previous[key] = {**result, "measured_at": time.strftime("%Y-%m-%d %H:%M")}
    RESULTS.write_text(json.dumps(previous, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--layers", type=int, default=2, help="top transformer layers to train")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument(
        "--method", choices=["finetune", "logreg"], default="finetune", help="logreg: the shipped classifier"
    )
    args = parser.parse_args()
    torch.manual_seed(7)
    torch.set_num_threads(2)

    training = [row for path in TRAINING for row in read(path)]
    if args.method == "logreg":
        return logistic_regression(training)
    tokenizer = AutoTokenizer.from_pretrained(str(ROOT / DEFAULT_MODEL_DIR))
    model = AutoModel.from_pretrained(str(ROOT / DEFAULT_MODEL_DIR))
    frozen = model.config.num_hidden_layers - args.layers
    started = time.perf_counter()
    train_states = lower_states(model, tokenizer, [t for _, t in training], frozen, args.max_length)
    gold = torch.tensor([LABELS.index(label) for label, _ in training])
    top = torch.nn.ModuleList(copy.deepcopy(model.encoder.layer[frozen:]))
    head = Head(top, model.config, model.config.hidden_size)
    counts = torch.bincount(gold, minlength=len(LABELS)).float()
    loss_of = torch.nn.CrossEntropyLoss(weight=counts.sum() / (len(LABELS) * counts))
    optimiser = torch.optim.AdamW(
        [
            {"params": head.layers.parameters(), "lr": args.lr},
            {"params": head.out.parameters(), "lr": 1e-3},
        ],
        weight_decay=0.01,
    )
    generator = np.random.default_rng(7)
    for epoch in range(args.epochs):
        head.train()
        order = generator.permutation(len(training)).tolist()
        total = 0.0
        for chosen, hidden, mask in batches(train_states, order, 16):
            optimiser.zero_grad()
            loss = loss_of(head(hidden, mask), gold[chosen])
            loss.backward()
            optimiser.step()
            total += loss.item() * len(chosen)
        print(f"epoch {epoch + 1}: loss {total / len(training):.4f} ({time.perf_counter() - started:.0f} s)")
    training_seconds = time.perf_counter() - started

    result: dict[str, object] = {
        "layers_trained": args.layers,
        "epochs": args.epochs,
        "training_messages": len(training),
        "training_seconds": round(training_seconds),
    }
    for name, path in HELD_OUT.items():
        rows = read(path)
        states = lower_states(model, tokenizer, [t for _, t in rows], frozen, args.max_length)
        predicted = predict(head, states)
        gold_rows = [label for label, _ in rows]
        result[name] = {
            "n": len(rows),
            "accuracy": round(accuracy_score(gold_rows, predicted), 4),
            "macro_f1": round(f1_score(gold_rows, predicted, labels=list(LABELS), average="macro"), 4),
        }
        print(name, result[name])
    save(f"top{args.layers}_epochs{args.epochs}", result)
    print(f"macro-F1 reviews {result['reviews']['macro_f1']:.4f}")  # type: ignore[index]


if __name__ == "__main__":
    main()
