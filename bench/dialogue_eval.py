"""Whole conversations through the real Rasa and action servers: conversation success and turn accuracy.

    python bench/dialogue_eval.py [--data bench/data/dialogues_heldout.yml] [--limit N] [--show N]

Each conversation of the YAML file (format: the header of bench/data/dialogues_heldout.yml) is
played turn by turn over the REST channel, a signed-in customer's name passed as the shop's
programs do (`metadata.customer`). After each turn what the assistant did is read from the tracker
(the responses it sent, the slots it set) and compared with the turn's `expect`; at the end the
product database is read for the survey row and the hand-over. A conversation succeeds when every
turn and the outcome are as expected. Prints the failures (up to `--show`), the turn accuracy and,
last, the conversation success rate; writes bench/results/dialogue_eval.json (another file's
results: bench/results/dialogue_eval_<its name>.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import select  # noqa: E402

from harness import DEFAULT_MODEL, Assistant, running_assistant  # noqa: E402
from vietcx.store import escalations  # noqa: E402
from vietcx.store.db import engine, surveys  # noqa: E402

DEFAULT_DATA = ROOT / "bench" / "data" / "dialogues_heldout.yml"
RESULTS = ROOT / "bench" / "results" / "dialogue_eval.json"
GREETINGS = {"utter_greet", "utter_greet_named", "utter_welcome_back", "utter_greet_short"}
QUESTIONS = {
    "name": {"utter_ask_customer_name"},
    "resolved": {"utter_ask_resolved"},
    "csat": {"utter_ask_csat_score"},
    "ces": {"utter_ask_ces_score"},
    "comment": {"utter_ask_survey_comment"},
    "choose": {"utter_faq_choose"},
}
APOLOGIES = {"utter_complain", "utter_complain_with_answer", "utter_sentiment_empathy"}
HANDOVERS = {"utter_handoff", "utter_handoff_after_hours"}
THANKS = {"utter_survey_thanks", "utter_thank", "utter_glad_resolved"}


def observe(events: list[dict[str, Any]]) -> dict[str, Any]:
    """What the assistant did in one turn (the events after the customer's message)."""
    utters, texts, slots, buttons = set(), [], {}, []
    for event in events:
        if event.get("event") == "bot":
            utters.add((event.get("metadata") or {}).get("utter_action"))
            texts.append(event.get("text") or "")
            buttons += [str(b.get("payload")) for b in (event.get("data") or {}).get("buttons") or []]
        elif event.get("event") == "slot":
            slots[event["name"]] = event.get("value")
    return {"utters": utters, "texts": texts, "slots": slots, "buttons": buttons}


def check_turn(expect: dict[str, Any], seen: dict[str, Any]) -> list[str]:
    """The expectations of a turn that the assistant did not meet."""
    missed = []
    text = " ".join(seen["texts"]).casefold()
    for key, wanted in (expect or {}).items():
        if key == "greets":
            ok = bool(seen["utters"] & GREETINGS) == bool(wanted)
        elif key == "addresses":
            ok = str(wanted).casefold() in text
        elif key == "asks":
            if wanted == "human":
                ok = "/request_human" in seen["buttons"]
            else:
                ok = bool(seen["utters"] & QUESTIONS.get(wanted, set()))
        elif key == "faq":
            ok = seen["slots"].get("faq_topic") == wanted
        elif key == "out_of_scope":
            ok = ("utter_out_of_scope" in seen["utters"]) == bool(wanted)
        elif key == "apologises":
            ok = bool(seen["utters"] & APOLOGIES or "xin lỗi" in text) == bool(wanted)
        elif key == "handover":
            ok = bool(seen["utters"] & HANDOVERS) == bool(wanted)
        elif key == "thanks":
            ok = bool(seen["utters"] & THANKS or "cảm ơn" in text) == bool(wanted)
        elif key == "name":
            ok = str(seen["slots"].get("customer_name") or "").casefold() == str(wanted).casefold()
        else:
            ok = False
        if not ok:
            missed.append(f"{key}={wanted!r}")
    return missed


def check_outcome(outcome: dict[str, Any], assistant: Assistant, sender: str) -> list[str]:
    missed = []
    db = engine(assistant.database_url)
    if "survey" in (outcome or {}):
        with db.connect() as connection:
            rows = connection.execute(select(surveys).where(surveys.c.sender_id == sender)).all()
        wanted = outcome["survey"]
        if wanted == "skipped":
            ok = any(r.status == "skipped" for r in rows)
        else:
            ok = any(r.csat == wanted.get("csat") and r.ces == wanted.get("ces") for r in rows)
        if not ok:
            got = [(r.status, r.csat, r.ces) for r in rows]
            missed.append(f"survey={wanted!r} (stored {got})")
    if "handover" in (outcome or {}):
        handed = escalations.current(sender, db) is not None
        if handed != bool(outcome["handover"]):
            missed.append(f"handover={outcome['handover']!r}")
    return missed


def play(assistant: Assistant, conversation: dict[str, Any]) -> dict[str, Any]:
    sender = f"dialogue-{uuid.uuid4().hex[:12]}"
    metadata = None
    if conversation.get("customer_name"):
        metadata = {"customer": {"id": sender, "name": conversation["customer_name"]}}
    turns = []
    seen_events = 0
    for turn in conversation["turns"]:
        assistant.chat(sender, turn["user"], metadata)
        events = assistant.tracker(sender)["events"]
        last_user = max(i for i, e in enumerate(events) if e.get("event") == "user")
        seen = observe(events[max(last_user, seen_events) :])
        seen_events = len(events)
        missed = check_turn(turn.get("expect") or {}, seen)
        turns.append({"user": turn["user"], "missed": missed, "said": seen["texts"]})
    outcome = check_outcome(conversation.get("outcome") or {}, assistant, sender)
    return {
        "id": conversation["id"],
        "turns": turns,
        "outcome_missed": outcome,
        "success": not outcome and all(not t["missed"] for t in turns),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=0, help="only the first N conversations")
    parser.add_argument("--show", type=int, default=15, help="failed conversations to print")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the trained model to play")
    parser.add_argument("--no-save", action="store_true", help="print only (an experiment's model)")
    args = parser.parse_args()
    conversations = yaml.safe_load(args.data.read_text(encoding="utf-8"))["conversations"]
    if args.limit:
        conversations = conversations[: args.limit]
    started = time.monotonic()
    with running_assistant(args.model) as assistant:
        played = [play(assistant, c) for c in conversations]
    failures = [p for p in played if not p["success"]]
    for failure in failures[: args.show]:
        print(f"✗ {failure['id']}")
        for turn in failure["turns"]:
            if turn["missed"]:
                said = " | ".join(turn["said"])[:160]
                print(f"    {turn['user']!r}: missed {', '.join(turn['missed'])}; said: {said}")
        for missed in failure["outcome_missed"]:
            print(f"    outcome: missed {missed}")
    turns = [t for p in played for t in p["turns"]]
    turn_accuracy = sum(not t["missed"] for t in turns) / len(turns)
    success = sum(p["success"] for p in played) / len(played)
    missed_kinds = Counter(m.split("=")[0] for t in turns for m in t["missed"])
    result = {
        "data": str(args.data.relative_to(ROOT) if args.data.is_relative_to(ROOT) else args.data),
        "conversations": len(played),
        "turns": len(turns),
        "turn_accuracy": round(turn_accuracy, 3),
        "conversation_success": round(success, 3),
        "missed_by_kind": dict(missed_kinds.most_common()),
        "failed": [p["id"] for p in failures],
        "seconds": round(time.monotonic() - started),
    }
    own = RESULTS.with_name(f"dialogue_eval_{args.data.stem}.json")
    results = RESULTS if args.data.resolve() == DEFAULT_DATA else own
    if not args.no_save:
        results.parent.mkdir(exist_ok=True)
        results.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"missed expectations by kind: {dict(missed_kinds.most_common())}")
    print(f"turn accuracy: {turn_accuracy:.3f} over {len(turns)} turns")
    print(f"conversation success: {success:.3f} ({len(played) - len(failures)} of {len(played)})")


if __name__ == "__main__":
    main()
