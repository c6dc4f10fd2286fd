"""Changing the knowledge base file from the staff console: its topics read as plain mappings, a
changed list written back as YAML, checked first by the loader exactly as `kb check` checks it,
and replaced in one step, so the assistant (which reloads the file when it changes) never reads
half a file."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import yaml

from vietcx.kb.loader import KnowledgeBaseError, load

# the loader's problems (English, for the command line) as staff read them in the console
_LABEL = re.compile(r"^topic #(\d+)(?: \(id '([^']*)'\))?: (.*)$")
_PROBLEMS = [
    (re.compile(r"^unknown field '(.*)'$"), "có trường lạ “{0}”"),
    (
        re.compile(r"^field 'id' must be lower_snake_case"),
        "mã chủ đề chỉ gồm chữ thường không dấu, số và dấu gạch dưới, bắt đầu bằng chữ (ví dụ shipping_time)",
    ),  # fmt: skip
    (re.compile(r"^field 'title' is empty$"), "tiêu đề đang trống"),
    (re.compile(r"^field 'answer' is empty$"), "câu trả lời đang trống"),
    (re.compile(r"^field 'examples' must list at least one question$"), "cần ít nhất một câu hỏi mẫu"),
    (re.compile(r"^field 'examples' has an empty question$"), "có câu hỏi mẫu đang trống"),
    (re.compile(r"^duplicate id, already used by topic #(\d+)$"), "mã chủ đề đã được dùng cho chủ đề #{0}"),
    (re.compile(r"^must be a mapping"), "không đúng dạng một chủ đề"),
]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def fingerprint(content: str) -> str:
    """Which version of the file a form was made from: a save over a newer one is refused."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def topics_of(content: str) -> list[dict]:
    """The file's topics as mappings (id, title, answer, examples), in file order; [] if unreadable."""
    try:
        raw = yaml.safe_load(content)
    except yaml.YAMLError:
        return []
    found = raw.get("topics") if isinstance(raw, dict) else None
    return [t for t in found if isinstance(t, dict)] if isinstance(found, list) else []


class _Dumper(yaml.SafeDumper):
    """Answers over several lines as `|` blocks, as staff write them by hand."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def render(topics: list[dict], previous: str) -> str:
    """The file with these topics, under the comment that heads the previous version."""
    header = []
    for line in previous.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    body = yaml.dump(
        {"topics": [{k: t[k] for k in ("id", "title", "answer", "examples") if k in t} for t in topics]},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=1_000_000,
    )
    return "\n".join(header) + ("\n" if header else "") + body


def problems(content: str, path: Path) -> list[str]:
    """What `kb check` would say about this content, in Vietnamese; [] when it can be saved."""
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", suffix=".yml", dir=path.parent, delete=False
    ) as f:
        f.write(content)
    try:
        load(Path(f.name))
    except KnowledgeBaseError as error:
        return [_explain(problem) for problem in error.problems]
    finally:
        os.unlink(f.name)
    return []


def _explain(problem: str) -> str:
    label, _, rest = "", "", problem
    found = _LABEL.match(problem)
    if found:
        number, topic_id, rest = found.groups()
        label = f"Chủ đề #{number}" + (f" ({topic_id})" if topic_id else "") + ": "
    for pattern, words in _PROBLEMS:
        matched = pattern.match(rest)
        if matched:
            return label + words.format(*matched.groups())
    if rest == "the file must have a non-empty list 'topics:'":
        return "Kho kiến thức cần ít nhất một chủ đề."
    return label + rest  # a problem the loader learns later: its own words rather than none


def save(path: Path, content: str) -> None:
    """Replaces the file in one step (the assistant reads either the old or the new version)."""
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp"
    ) as f:
        f.write(content)
    if path.exists():
        os.chmod(f.name, path.stat().st_mode & 0o777)
    os.replace(f.name, path)
