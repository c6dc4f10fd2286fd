"""Loading and validating the knowledge base files that shop staff edit (data/kb/faq.yml, and
for_staff.yml beside it: the questions only staff can answer).

Staff are not developers: every problem is reported with the topic and field at fault, in one
message listing all of them, so a file can be fixed in one go.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from vietcx.settings import for_staff_file, kb_file

FIELDS = {"id", "title", "answer", "examples"}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Topic:
    """One FAQ topic: the answer and the ways customers ask for it."""

    id: str
    title: str
    answer: str
    examples: tuple[str, ...]


class KnowledgeBaseError(ValueError):
    """The file cannot be used; `problems` lists every reason."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def load(path: Path | None = None) -> list[Topic]:
    """Reads and validates the file; raises KnowledgeBaseError naming each entry and field at fault."""
    path = path or kb_file()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise KnowledgeBaseError(path, [f"cannot read the file ({error.strerror})"]) from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise KnowledgeBaseError(
            path, [f"{where}not valid YAML ({getattr(error, 'problem', error)})"]
        ) from error
    if not isinstance(raw, dict) or not isinstance(raw.get("topics"), list) or not raw["topics"]:
        raise KnowledgeBaseError(path, ["the file must have a non-empty list 'topics:'"])

    problems: list[str] = []
    topics: list[Topic] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(raw["topics"], start=1):
        topic, entry_problems = _topic(entry, number)
        problems += entry_problems
        if topic is None:
            continue
        if topic.id in seen:
            problems.append(
                f"topic #{number} (id '{topic.id}'): duplicate id, already used by topic #{seen[topic.id]}"
            )
            continue
        seen[topic.id] = number
        topics.append(topic)
    if problems:
        raise KnowledgeBaseError(path, problems)
    return topics


def load_for_staff(path: Path | None = None) -> list[str]:
    """The questions only staff can answer (a product's stock, price, specs); none if no file.

    They teach the FAQ search what a shop question it has no topic for looks like, so that
    "tủ lạnh RT38 còn hàng không" is offered a person instead of the nearest topic's answer.
    """
    path = path or for_staff_file()
    if not path.exists():
        return []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise KnowledgeBaseError(path, [f"not readable as YAML ({error})"]) from error
    questions = raw.get("questions") if isinstance(raw, dict) else None
    if not isinstance(questions, list) or any(not _text(q) for q in questions):
        raise KnowledgeBaseError(path, ["the file must have a list 'questions:' of non-empty questions"])
    return [_text(q) for q in questions]


def _topic(entry: object, number: int) -> tuple[Topic | None, list[str]]:
    if not isinstance(entry, dict):
        return None, [f"topic #{number}: must be a mapping with the fields {', '.join(sorted(FIELDS))}"]
    label = f"topic #{number} (id '{entry.get('id')}')" if entry.get("id") else f"topic #{number}"
    problems = [f"{label}: unknown field '{field}'" for field in sorted(set(map(str, entry)) - FIELDS)]
    topic_id = str(entry.get("id") or "").strip()
    if not _ID.match(topic_id):
        problems.append(f"{label}: field 'id' must be lower_snake_case, e.g. shipping_time")
    title, answer = _text(entry.get("title")), _text(entry.get("answer"))
    if not title:
        problems.append(f"{label}: field 'title' is empty")
    if not answer:
        problems.append(f"{label}: field 'answer' is empty")
    examples = entry.get("examples")
    if not isinstance(examples, list) or not any(_text(e) for e in examples):
        problems.append(f"{label}: field 'examples' must list at least one question")
        examples = []
    elif any(not _text(e) for e in examples):
        problems.append(f"{label}: field 'examples' has an empty question")
    if problems:
        return None, problems
    return Topic(topic_id, title, answer, tuple(_text(e) for e in examples)), []


def _text(value: object) -> str:
    return unicodedata.normalize("NFC", str(value)).strip() if isinstance(value, (str, int, float)) else ""
