"""The console's /reports page in a real headless Chromium against the real servers: after real
conversations (answers, surveys, an escalation), its figures equal what the CLI reports print for
the same days, and the charts are drawn by the vendored Chart.js."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from datetime import datetime, timezone

from selenium import webdriver
from selenium.webdriver.common.by import By
from test_console_page import click, wait_for_text

from harness import PROJECT, Assistant
from harness import reply_text as texts
from vietcx.store import staff
from vietcx.store.db import engine

PASSWORD = "mật khẩu của Hoa 2026"


def _cli(console: Assistant, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "vietcx", "report", *args],
        cwd=PROJECT,
        env=console.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _survey(console: Assistant, csat: int, ces_text: str) -> None:
    sender = f"report-{uuid.uuid4().hex[:8]}"
    assert "bảo hành" in texts(console.chat(sender, "sản phẩm được bảo hành bao lâu vậy shop")).lower()
    console.chat(sender, "/faq_resolved")
    console.chat(sender, f'/survey_answer{{"score": {csat}}}')
    console.chat(sender, ces_text)


def test_the_report_page_shows_the_cli_figures_for_the_same_days(
    browser: webdriver.Chrome, console: Assistant, tmp_path
) -> None:
    staff.add("hoa", "Lê Thu Hoa", PASSWORD, "admin", db=engine(console.database_url))
    _survey(console, 5, "rất dễ dàng")
    _survey(console, 2, "khó khăn quá")
    angry = f"report-{uuid.uuid4().hex[:8]}"
    console.chat(angry, "cho tôi gặp nhân viên")
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    period = ["--from", today, "--to", today, "--out", str(tmp_path)]

    browser.get(f"{console.console_url}/reports?from={today}&to={today}")
    browser.find_element(By.ID, "username").send_keys("hoa")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    click(browser, "login")
    wait_for_text(browser, "Báo cáo chất lượng phục vụ")
    assert f"from={today}" in browser.current_url  # the period stays in the address

    surveys_out = _cli(console, "surveys", *period)
    # asked, answered, response rate, CSAT, CES, then NPS (none here: the survey file leaves it off)
    row = r"^\s*all\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)(?:\s+\S+)?\s*$"
    overall = re.search(row, surveys_out, re.M)
    assert overall, surveys_out
    asked, answered, rate, csat, ces = overall.groups()
    assert browser.find_element(By.ID, "csat").text == f"{float(csat):.1f}%"
    assert browser.find_element(By.ID, "ces").text == f"{float(ces):.2f}"
    assert browser.find_element(By.ID, "response-rate").text == f"{float(rate) * 100:.1f}%"
    assert f"{answered} / {asked} lần hỏi" in browser.find_element(By.ID, "summary").text
    escalated = re.match(r"(\d+) escalations, (\d+) resolved", _cli(console, "escalations", *period))
    assert escalated and browser.find_element(By.ID, "escalations").text == escalated.group(1)
    assert int(escalated.group(1)) >= 1
    moods = re.match(r"(\d+) messages in (\d+) conversations", _cli(console, "sentiment", *period))
    browser.refresh()  # the page swept the conversations again, as the CLI did
    wait_for_text(browser, "Báo cáo chất lượng phục vụ")
    assert (
        moods
        and f"{moods.group(1)} tin nhắn, {moods.group(2)} cuộc trò chuyện"
        in browser.find_element(By.ID, "summary").text
    )

    drawn = browser.execute_script(
        "return [window.Chart && window.Chart.version,"
        " [...document.querySelectorAll('.charts canvas')].filter(c => c.chart).length,"
        " document.querySelectorAll('.charts canvas').length]"
    )
    assert drawn[0] == "4.5.1" and drawn[1] == drawn[2] == 8
    row = browser.find_element(By.CSS_SELECTOR, '#topics tr[data-topic="warranty"]')
    assert "Bảo hành" in row.text and f"{float(csat):.1f}%" in row.text
