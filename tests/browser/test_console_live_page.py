"""The live queue in a real headless Chromium against the real servers: a new escalation and a new
message of its customer appear in an open queue page without reloading it, counted in the tab's
title."""

from __future__ import annotations

import uuid

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.engine import Engine
from test_console_page import click, wait_for_text

from harness import Assistant
from vietcx.store import escalations, staff
from vietcx.store.db import engine

PASSWORD = "mật khẩu của Minh 2026"


def _sign_in(browser: webdriver.Chrome, console: Assistant) -> Engine:
    """Signs the agent minh in (made on first use); returns the product database."""
    db = engine(console.database_url)
    if staff.get("minh", db) is None:
        staff.add("minh", "Trần Văn Minh", PASSWORD, "agent", db=db)
    browser.get(console.console_url)
    browser.find_element(By.ID, "username").send_keys("minh")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    click(browser, "login")
    return db


def test_a_new_escalation_and_its_new_messages_appear_without_reload(
    fresh_browser: webdriver.Chrome, console: Assistant
) -> None:
    browser = fresh_browser
    db = _sign_in(browser, console)
    wait_for_text(browser, "Hàng đợi yêu cầu hỗ trợ")
    waiting = escalations.counts(db=db)["open"]
    browser.execute_script("window.sameDocument = 'yes'")  # gone if the page were loaded again

    sender = f"live-{uuid.uuid4().hex[:8]}"
    console.chat(sender, "cho tôi gặp nhân viên", {"customer": {"id": sender, "name": "Phạm Thu Trang"}})
    found = escalations.current(sender, db)
    assert found, "no escalation was opened"
    row = f'tr[data-id="{found["id"]}"]'
    wait = WebDriverWait(browser, 30, ignored_exceptions=[WebDriverException])
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, row))
    assert browser.execute_script("return window.sameDocument") == "yes"
    assert "fresh" in browser.find_element(By.CSS_SELECTOR, row).get_attribute("class")
    assert browser.title.startswith(f"({waiting + 1}) Hàng đợi")
    assert browser.find_element(By.CSS_SELECTOR, '#counts [data-status="open"] strong').text == str(
        waiting + 1
    )
    first = browser.find_element(By.CSS_SELECTOR, f"{row} .wrote").get_attribute("data-at")
    assert first

    browser.execute_script("document.querySelector(arguments[0]).classList.remove('fresh')", row)
    console.chat(sender, "mình đợi lâu quá rồi", {"customer": {"id": sender, "name": "Phạm Thu Trang"}})
    wait.until(
        lambda b: (
            float(b.find_element(By.CSS_SELECTOR, f"{row} .wrote").get_attribute("data-at")) > float(first)
        )
    )
    assert "fresh" in browser.find_element(By.CSS_SELECTOR, row).get_attribute("class")
    assert browser.execute_script("return window.sameDocument") == "yes"


def test_without_server_sent_events_the_queue_polls(
    fresh_browser: webdriver.Chrome, console: Assistant
) -> None:
    """A browser (or a proxy) without event streams: the page asks for the state every 5 seconds."""
    browser = fresh_browser
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": "delete window.EventSource;"})
    db = _sign_in(browser, console)
    wait_for_text(browser, "Hàng đợi tự cập nhật mỗi 5 giây.")
    browser.execute_script("window.sameDocument = 'yes'")

    sender = f"poll-{uuid.uuid4().hex[:8]}"
    console.chat(sender, "cho tôi gặp nhân viên", {"customer": {"id": sender, "name": "Lý Văn Bình"}})
    found = escalations.current(sender, db)
    assert found, "no escalation was opened"
    wait = WebDriverWait(browser, 30, ignored_exceptions=[WebDriverException])
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, f'tr[data-id="{found["id"]}"]'))
    assert browser.execute_script("return window.sameDocument") == "yes"
