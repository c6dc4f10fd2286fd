"""The web chat page in a real headless Chromium, against the real servers."""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from vietcx.servers import Assistant
from vietcx.store import escalations, staff
from vietcx.store.db import engine

# each test is its own customer (`?id=`): the page otherwise keeps one sender in localStorage, and
# after "Gặp nhân viên" that conversation belongs to staff and the bot stays silent in it


def send(browser: webdriver.Chrome, text: str) -> None:
    box = browser.find_element(By.ID, "text")
    box.send_keys(text)
    browser.find_element(By.CSS_SELECTOR, "#composer button").click()


def bot_texts(browser: webdriver.Chrome) -> list[str]:
    return [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".msg--bot")]


def test_hello_gets_an_answer_in_vietnamese(browser: webdriver.Chrome, assistant: Assistant) -> None:
    browser.get(f"{assistant.url}/webhooks/web/chat?id=browser-hello")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    send(browser, "xin chào")
    WebDriverWait(browser, 60).until(lambda b: bot_texts(b))
    assert "xin chào" in bot_texts(browser)[0].lower()
    assert "Điện Máy Sao Mai" in bot_texts(browser)[0]  # Vietnamese text arrives intact


def test_buttons_are_buttons_and_clicking_one_answers(
    browser: webdriver.Chrome, assistant: Assistant
) -> None:
    browser.get(f"{assistant.url}/webhooks/web/chat?id=browser-buttons")
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
    browser.get(f"{assistant.url}/webhooks/web/chat?id=browser-markup")
    send(browser, "<b id='injected'>xin chào</b>")
    WebDriverWait(browser, 60).until(lambda b: bot_texts(b))
    assert not browser.find_elements(By.ID, "injected")
    users = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".msg--user")]
    assert "<b id='injected'>xin chào</b>" in users


def test_a_staff_reply_appears_on_the_page_marked_as_staff(
    browser: webdriver.Chrome, assistant: Assistant
) -> None:
    sender = "browser-staff-reply"
    browser.get(f"{assistant.url}/webhooks/web/chat?id={sender}")
    send(browser, "cho tôi gặp nhân viên")
    WebDriverWait(browser, 60).until(lambda b: any("nhân viên" in t for t in bot_texts(b)))
    db = engine(assistant.database_url)
    staff.add("lan-chat-page", "Nguyễn Thị Lan", "mat-khau-rat-dai", db=db)
    escalation = escalations.current(sender, db)
    assert escalation and escalation["channel"] == "web"
    escalations.send(
        sender, "Dạ em là Lan, em hỗ trợ chị ngay ạ", "staff", "lan-chat-page", escalation["id"], db=db
    )
    shown = WebDriverWait(browser, 30).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, ".msg--staff")  # the page polls every 3 s
    )
    assert "Nhân viên Lan" in shown[0].text and "em hỗ trợ chị ngay" in shown[0].text
