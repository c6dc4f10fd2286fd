"""The web chat page in a real headless Chromium, against the real servers."""

from __future__ import annotations

import time
import uuid

import jwt
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from harness import Assistant
from vietcx.store import escalations, outbox, staff
from vietcx.store.db import engine


def open_page(browser: webdriver.Chrome, assistant: Assistant, query: str = "") -> None:
    """The chat page as a new visitor: each test is its own customer (the page otherwise keeps its
    conversation in localStorage, and after a hand-over that conversation belongs to staff)."""
    browser.get(f"{assistant.url}/webhooks/web/chat")
    browser.execute_script("localStorage.clear()")
    browser.get(f"{assistant.url}/webhooks/web/chat{query}")


def conversation_of(browser: webdriver.Chrome, assistant: Assistant) -> str:
    """The conversation id the server gave the page (read from the token it keeps)."""
    token = WebDriverWait(browser, 30).until(
        lambda b: b.execute_script("return localStorage.getItem('vietcx-conversation')")
    )
    return jwt.decode(token, assistant.env["VIETCX_WEB_SESSION_SECRET"], algorithms=["HS256"])["sub"]


def send(browser: webdriver.Chrome, text: str) -> None:
    box = browser.find_element(By.ID, "text")
    box.send_keys(text)
    browser.find_element(By.CSS_SELECTOR, "#composer button").click()


def bot_texts(browser: webdriver.Chrome) -> list[str]:
    return [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".msg--bot")]


def test_hello_gets_an_answer_in_vietnamese(browser: webdriver.Chrome, assistant: Assistant) -> None:
    open_page(browser, assistant)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    send(browser, "xin chào")
    WebDriverWait(browser, 60).until(lambda b: bot_texts(b))
    assert "xin chào" in bot_texts(browser)[0].lower()
    assert "Điện Máy Sao Mai" in bot_texts(browser)[0]  # Vietnamese text arrives intact


def test_buttons_are_buttons_and_clicking_one_answers(
    browser: webdriver.Chrome, assistant: Assistant
) -> None:
    open_page(browser, assistant)
    send(browser, "hàng giao chậm quá, tôi rất bực")
    button = WebDriverWait(browser, 60).until(
        ec.element_to_be_clickable((By.XPATH, "//li[@class='buttons']/button[text()='Gặp nhân viên']"))
    )
    before = len(bot_texts(browser))
    button.click()
    WebDriverWait(browser, 60).until(lambda b: len(bot_texts(b)) > before)
    assert "nhân viên" in bot_texts(browser)[-1]
    assert button.get_attribute("disabled") is not None  # a choice is made once


def test_markup_from_the_customer_is_shown_as_text(browser: webdriver.Chrome, assistant: Assistant) -> None:
    open_page(browser, assistant)
    send(browser, "<b id='injected'>xin chào</b>")
    WebDriverWait(browser, 60).until(lambda b: bot_texts(b))
    assert not browser.find_elements(By.ID, "injected")
    users = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".msg--user")]
    assert "<b id='injected'>xin chào</b>" in users


def test_a_staff_reply_appears_on_the_page_marked_as_staff(
    browser: webdriver.Chrome, assistant: Assistant
) -> None:
    open_page(browser, assistant)
    send(browser, "cho tôi gặp nhân viên")
    WebDriverWait(browser, 60).until(lambda b: any("nhân viên" in t for t in bot_texts(b)))
    sender = conversation_of(browser, assistant)
    db = engine(assistant.database_url)
    staff.add("lan-chat-page", "Nguyễn Thị Lan", "mat-khau-rat-dai", db=db)
    escalation = escalations.current(sender, db)
    assert escalation and escalation["channel"] == "web"
    outbox.send(
        sender, "Dạ em là Lan, em hỗ trợ chị ngay ạ", "staff", "lan-chat-page", escalation["id"], db=db
    )
    shown = WebDriverWait(browser, 30).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, ".msg--staff")  # pushed by the stream
    )
    assert "Nhân viên Lan" in shown[0].text and "em hỗ trợ chị ngay" in shown[0].text
    # the page acknowledges what it showed: only then is it "delivered"; after a reload the page
    # shows its conversation again, and the reply in it once
    WebDriverWait(browser, 30).until(lambda _: outbox.messages(sender, db)[0]["delivered_at"] is not None)
    browser.refresh()
    time.sleep(4)  # longer than one poll
    assert len(browser.find_elements(By.CSS_SELECTOR, ".msg--staff")) == 1


def identity(assistant: Assistant, customer_id: str, name: str, key: str | None = None) -> str:
    """What a shop's backend signs for its signed-in customer (README: "Signed-in customers")."""
    claims = {"sub": customer_id, "name": name, "exp": int(time.time()) + 600}
    return jwt.encode(claims, key or assistant.env["VIETCX_WEB_IDENTITY_SECRET"], algorithm="HS256")


def test_a_signed_in_customer_is_greeted_by_the_name_the_shop_signed(
    browser: webdriver.Chrome, assistant: Assistant
) -> None:
    customer = f"shop-{uuid.uuid4().hex[:6]}"
    open_page(browser, assistant, "?identity=" + identity(assistant, customer, "Trần Thị Ngọc"))
    send(browser, "xin chào")
    WebDriverWait(browser, 60).until(lambda b: bot_texts(b))
    assert "chị Ngọc" in bot_texts(browser)[0]
    assert "identity" not in browser.current_url  # the token does not stay in the address bar
    assert conversation_of(browser, assistant) == f"web-customer-{customer}"


def test_a_forged_identity_is_an_anonymous_visitor(browser: webdriver.Chrome, assistant: Assistant) -> None:
    forged = identity(assistant, "12345", "Trần Thị Ngọc", key="not-the-shops-secret")
    open_page(browser, assistant, "?identity=" + forged)
    send(browser, "xin chào")
    WebDriverWait(browser, 60).until(lambda b: bot_texts(b))
    assert "Ngọc" not in " ".join(bot_texts(browser))
    sender = conversation_of(browser, assistant)
    assert sender.startswith("web-") and "12345" not in sender
