"""The staff console in a real headless Chromium, against the real Rasa, action server and console:
sign in, the queue, an escalation's transcript, take, reply, resolve."""

from __future__ import annotations

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from harness import Assistant
from vietcx.store import escalations, outbox, staff
from vietcx.store.db import engine

PASSWORD = "mật khẩu của Lan 2026"
SENDER = "console-browser-01"
SCRIPT = "<script>alert(1)</script>"


def wait_for_text(browser: webdriver.Chrome, text: str, timeout: float = 60) -> None:
    """Until the page shows `text`. The transcript refreshes itself and a form post loads a new
    page, so an element read a moment ago may be gone: Chromium then answers "stale element" or
    "node does not belong to the document" (a plain WebDriverException), and the wait tries again."""
    WebDriverWait(browser, timeout, ignored_exceptions=[WebDriverException]).until(
        lambda b: text in b.find_element(By.TAG_NAME, "main").text
    )


def read(browser: webdriver.Chrome, css: str) -> list[str]:
    """The texts of the elements matching `css`, read again if the transcript was just replaced."""
    return WebDriverWait(browser, 10, ignored_exceptions=[WebDriverException]).until(
        lambda b: ([e.text for e in b.find_elements(By.CSS_SELECTOR, css)],)
    )[0]


def click(browser: webdriver.Chrome, form_id: str) -> None:
    browser.find_element(By.CSS_SELECTOR, f"#{form_id} button[type=submit]").click()


def test_staff_sign_in_take_reply_and_resolve(browser: webdriver.Chrome, console: Assistant) -> None:
    db = engine(console.database_url)
    staff.add("lan", "Nguyễn Thị Lan", PASSWORD, "agent", db=db)
    customer = {"customer": {"id": SENDER, "name": "Trần Thị Ngọc"}}
    console.chat(SENDER, "xin chào", metadata=customer)
    console.chat(SENDER, f"{SCRIPT} máy giặt nhà mình bị hỏng rồi", metadata=customer)
    escalation, _ = escalations.open_escalation(SENDER, "rest", SENDER, "chị Ngọc", "customer_request", db=db)

    browser.get(console.console_url)  # no session yet: the sign-in page
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    assert "/login" in browser.current_url
    browser.find_element(By.ID, "username").send_keys("lan")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    click(browser, "login")

    wait_for_text(browser, "Hàng đợi yêu cầu hỗ trợ")
    row = browser.find_element(By.LINK_TEXT, f"#{escalation['id']}").find_element(By.XPATH, "../..")
    assert "chị Ngọc" in row.text and "Khách yêu cầu gặp nhân viên" in row.text and "Đang chờ" in row.text
    browser.find_element(By.LINK_TEXT, f"#{escalation['id']}").click()

    wait_for_text(browser, f"{SCRIPT} máy giặt nhà mình bị hỏng rồi")  # the markup is text on the page
    try:
        alert = browser.switch_to.alert.text
    except NoAlertPresentException:
        alert = None
    assert alert is None
    assert not browser.find_elements(By.XPATH, "//li[contains(@class, 'msg')]//script")
    customer_lines = read(browser, ".msg--customer .text")
    assert customer_lines == ["xin chào", f"{SCRIPT} máy giặt nhà mình bị hỏng rồi"]
    assert browser.find_elements(By.CSS_SELECTOR, ".msg--customer [class*='sentiment--']")
    assert browser.find_elements(By.CSS_SELECTOR, ".msg--bot")  # the bot's answers are there too

    click(browser, "take")
    wait_for_text(browser, f"Bạn đã nhận xử lý yêu cầu #{escalation['id']}.")
    assert read(browser, "#status") == ["Đang xử lý"]
    console.chat(SENDER, "còn ai ở đó không ạ", metadata=customer)
    wait_for_text(browser, "còn ai ở đó không ạ", timeout=30)  # the transcript refreshes by itself

    reply = "Dạ, em là Lan bên Điện Máy Sao Mai, em hỗ trợ chị đổi máy giặt ngay ạ."
    browser.find_element(By.ID, "reply-text").send_keys(reply)
    click(browser, "reply")
    wait_for_text(browser, "Đã gửi trả lời.")
    [sent] = outbox.messages(SENDER, db)
    assert (sent["author"], sent["staff"], sent["text"]) == ("staff", "lan", reply)
    wait_for_text(browser, "Nhân viên Nguyễn Thị Lan")

    click(browser, "resolve")
    wait_for_text(browser, f"Đã giải quyết yêu cầu #{escalation['id']}.", timeout=90)
    row = escalations.get(escalation["id"], db)
    assert (row["status"], row["resolved_by"]) == ("resolved", "lan")
    queued = outbox.messages(SENDER, db)
    assert [m["author"] for m in queued][:1] == ["staff"] and "bot" in [m["author"] for m in queued[1:]]
    assert read(browser, "#status") == ["Đã giải quyết"]
    bot_lines = read(browser, ".msg--bot .text")
    for message in queued[1:]:  # Rasa stored them too: each is shown once, as queued for the customer
        assert bot_lines.count(message["text"]) == 1, message["text"]
    assert not browser.find_elements(By.ID, "reply")  # nothing more to do here
