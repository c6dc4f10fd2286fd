"""The chat widget on a shop's own page (another origin), in a real headless Chromium against the
real servers; and the stream of staff replies over HTTP.

Set VIETCX_SCREENSHOTS=docs/screenshots to save the README's screenshots while the tests run.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from harness import Assistant, reply_text
from vietcx.store import escalations, outbox, staff
from vietcx.store.db import engine

if TYPE_CHECKING:
    from conftest import Shop

SHOP_PAGE = """<!doctype html>
<html lang="vi">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Điện Máy Sao Mai</title>
  <style>
    body {{ margin: 0; font-family: Georgia, serif; background: #fffbe6; color: #333; }}
    header {{ background: #1d3557; color: #fff; padding: 18px 32px; }}
    h1 {{ margin: 0; color: rgb(200, 30, 30); font-size: 28px; }}
    main {{ padding: 24px 32px; }}
    .products {{ display: flex; gap: 16px; flex-wrap: wrap; }}
    .product {{ background: #fff; border: 1px solid #ddd; border-radius: 8px; padding: 16px; width: 200px; }}
    button {{ background: rgb(0, 128, 0); color: #fff; border: 0; padding: 8px 14px; }}
    .launcher, .panel, iframe {{ display: none !important; }}  /* names the widget uses inside */
  </style>
</head>
<body>
  <header><h1 id="title">Điện Máy Sao Mai</h1></header>
  <main>
    <p id="status">Đang tải…</p>
    <div class="products">
      <div class="product"><h3>Máy giặt 9 kg</h3><p>7.490.000 ₫</p><button id="buy">Mua ngay</button></div>
      <div class="product"><h3>Tủ lạnh 320 lít</h3><p>9.990.000 ₫</p><button>Mua ngay</button></div>
      <div class="product"><h3>Điều hoà 1 HP</h3><p>6.290.000 ₫</p><button>Mua ngay</button></div>
    </div>
  </main>
  <script>
    document.getElementById("status").textContent = "Trang của shop đã chạy";
    document.getElementById("buy").addEventListener("click", function () {{
      document.getElementById("status").textContent = "Đã thêm vào giỏ";
    }});
  </script>
  <script src="{assistant}/webhooks/web/widget.js"{identity} async></script>
</body>
</html>
"""


def shop_page(shop: Shop, assistant: Assistant, identity: str | None = None) -> str:
    """A new page of the shop's site with the widget's one script tag; returns its path."""
    path = f"/{uuid.uuid4().hex[:8]}.html"
    attribute = f' data-identity="{identity}"' if identity else ""
    shop.pages[path] = SHOP_PAGE.format(assistant=assistant.url, identity=attribute)
    return path


def signed_identity(assistant: Assistant, customer_id: str, name: str) -> str:
    """What the shop's backend signs for its signed-in customer (README: "Signed-in customers")."""
    claims = {"sub": customer_id, "name": name, "exp": int(time.time()) + 600}
    return jwt.encode(claims, assistant.env["VIETCX_WEB_IDENTITY_SECRET"], algorithm="HS256")


@pytest.fixture
def page(fresh_browser: webdriver.Chrome) -> webdriver.Chrome:
    """Each test a new visitor: its own browser profile (the frame's storage is kept per shop site)."""
    return fresh_browser


def open_shop(browser: webdriver.Chrome, url: str) -> None:
    browser.get(url)


def widget(browser: webdriver.Chrome) -> tuple[WebElement, WebElement]:
    """The launcher (once the frame said it is ready) and the panel, inside the widget's shadow root."""
    root = WebDriverWait(browser, 30).until(
        lambda b: b.find_element(By.CSS_SELECTOR, "[data-vietcx-widget]").shadow_root
    )
    launcher = root.find_element(By.CSS_SELECTOR, ".launcher")
    WebDriverWait(browser, 30).until(lambda _: launcher.is_displayed())
    return launcher, root.find_element(By.CSS_SELECTOR, ".panel")


def into_chat(browser: webdriver.Chrome) -> None:
    """Opens the panel if it is closed and moves into its frame."""
    launcher, panel = widget(browser)
    if not panel.is_displayed():
        launcher.click()
    WebDriverWait(browser, 10).until(lambda _: panel.is_displayed())
    browser.switch_to.frame(panel.find_element(By.CSS_SELECTOR, "iframe"))


def texts(browser: webdriver.Chrome, kind: str) -> list[str]:
    """The messages of one kind (bot, user, staff) on the screen, read again if just re-drawn."""
    return WebDriverWait(browser, 10, ignored_exceptions=[WebDriverException]).until(
        lambda b: ([e.text for e in b.find_elements(By.CSS_SELECTOR, f".msg--{kind}")],)
    )[0]


def greetings(browser: webdriver.Chrome) -> list[str]:
    return [t for t in texts(browser, "bot") if "chào" in t]


def send(browser: webdriver.Chrome, text: str) -> None:
    browser.find_element(By.ID, "text").send_keys(text)
    browser.find_element(By.CSS_SELECTOR, "#composer button").click()


def conversation_of(browser: webdriver.Chrome, assistant: Assistant) -> str:
    """The conversation the server gave the frame (read from the token it keeps)."""
    token = WebDriverWait(browser, 30).until(
        lambda b: b.execute_script("return localStorage.getItem('vietcx-conversation')")
    )
    return jwt.decode(token, assistant.env["VIETCX_WEB_SESSION_SECRET"], algorithms=["HS256"])["sub"]


def screenshot(browser: webdriver.Chrome, name: str) -> None:
    """Saved for the README when VIETCX_SCREENSHOTS names a folder."""
    folder = os.environ.get("VIETCX_SCREENSHOTS")
    if folder:
        time.sleep(0.5)  # the last message scrolled into view
        browser.get_screenshot_as_file(str(Path(folder) / name))


def test_the_launcher_appears_and_the_shop_page_keeps_its_styles_and_scripts(
    page: webdriver.Chrome, assistant: Assistant, shop: Shop
) -> None:
    open_shop(page, shop.origin + shop_page(shop, assistant))
    launcher, panel = widget(page)
    assert launcher.text == "Chat với chúng tôi" and not panel.is_displayed()
    # the shop's own rules (even one naming the widget's classes) neither break nor reach it
    assert launcher.value_of_css_property("background-color") == "rgba(10, 108, 255, 1)"
    title = page.find_element(By.ID, "title")
    assert title.value_of_css_property("color") == "rgba(200, 30, 30, 1)"
    assert "Georgia" in page.find_element(By.TAG_NAME, "body").value_of_css_property("font-family")
    assert page.find_element(By.ID, "status").text == "Trang của shop đã chạy"
    page.find_element(By.ID, "buy").click()
    assert page.find_element(By.ID, "status").text == "Đã thêm vào giỏ"
    assert page.find_element(By.ID, "buy").value_of_css_property("background-color") == "rgba(0, 128, 0, 1)"
    assert page.execute_script("return Object.keys(window).filter(k => /vietcx/i.test(k))") == []


def test_it_greets_answers_with_a_typing_indicator_and_keeps_the_conversation_on_reload(
    page: webdriver.Chrome, assistant: Assistant, shop: Shop
) -> None:
    open_shop(page, shop.origin + shop_page(shop, assistant))
    into_chat(page)
    WebDriverWait(page, 60).until(lambda b: greetings(b))
    assert "Điện Máy Sao Mai" in greetings(page)[0]
    sender = conversation_of(page, assistant)
    page.execute_script(
        "window.typingSeen = '';"
        "const line = document.getElementById('typing');"
        "new MutationObserver(() => { if (!line.hidden) window.typingSeen = line.textContent; })"
        ".observe(line, {attributes: true});"
    )
    send(page, "sản phẩm bảo hành bao lâu vậy shop")
    WebDriverWait(page, 60).until(lambda b: any("bảo hành" in t for t in texts(b, "bot")))
    assert "Trợ lý đang soạn tin…" in page.execute_script("return window.typingSeen")
    assert not page.find_element(By.ID, "typing").is_displayed()
    shown = texts(page, "bot")
    page.switch_to.default_content()
    screenshot(page, "widget.png")

    page.refresh()  # the panel opens again on the next page, with the same conversation
    into_chat(page)
    WebDriverWait(page, 30).until(lambda b: texts(b, "user"))
    assert texts(page, "user") == ["sản phẩm bảo hành bao lâu vậy shop"]
    time.sleep(3)  # no greeting comes again
    assert texts(page, "bot") == shown and len(greetings(page)) == 1
    assert conversation_of(page, assistant) == sender


def test_a_staff_reply_is_pushed_without_polling(
    page: webdriver.Chrome, assistant: Assistant, shop: Shop
) -> None:
    open_shop(page, shop.origin + shop_page(shop, assistant))
    into_chat(page)
    WebDriverWait(page, 60).until(lambda b: greetings(b))
    send(page, "cho tôi gặp nhân viên")
    WebDriverWait(page, 60).until(lambda b: any("nhân viên" in t for t in texts(b, "bot")))
    sender = conversation_of(page, assistant)
    db = engine(assistant.database_url)
    escalation = escalations.current(sender, db)
    assert escalation and escalation["channel"] == "web"
    lan = f"lan-{uuid.uuid4().hex[:6]}"
    staff.add(lan, "Nguyễn Thị Lan", "mat-khau-rat-dai", db=db)
    message = outbox.send(
        sender, "Dạ em là Lan, em hỗ trợ anh/chị ngay ạ", "staff", lan, escalation["id"], db=db
    )
    WebDriverWait(page, 30).until(lambda b: texts(b, "staff"))
    [shown] = texts(page, "staff")
    assert "Nhân viên Lan" in shown and "em hỗ trợ anh/chị ngay" in shown
    WebDriverWait(page, 30).until(lambda _: outbox.messages(sender, db)[0]["delivered_at"] is not None)
    # it came by the stream: the page asked /updates nothing before it had the message on the
    # screen, only acknowledged it there afterwards (a poll that fetched it would ask after < its id)
    asked = page.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(name => name.includes('/webhooks/web/updates'))"
    )
    assert asked and all(int(parse_qs(urlsplit(url).query)["after"][0]) >= message for url in asked)

    page.switch_to.default_content()
    page.refresh()
    into_chat(page)
    WebDriverWait(page, 30).until(lambda b: texts(b, "staff"))
    time.sleep(3)
    assert len(texts(page, "staff")) == 1  # on the screen once, after a reload too


def test_a_signed_in_customer_is_greeted_by_the_name_the_shop_signed(
    page: webdriver.Chrome, assistant: Assistant, shop: Shop
) -> None:
    customer = f"shop-{uuid.uuid4().hex[:6]}"
    token = signed_identity(assistant, customer, "Trần Thị Ngọc")
    open_shop(page, shop.origin + shop_page(shop, assistant, identity=token))
    into_chat(page)
    WebDriverWait(page, 60).until(lambda b: greetings(b))
    assert "chị Ngọc" in greetings(page)[0]
    assert conversation_of(page, assistant) == f"web-customer-{customer}"
    # the identity went by postMessage: in no address the frame loaded or asked
    addresses = page.execute_script(
        "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name))"
    )
    assert not [a for a in addresses if token in a or "identity" in a]


def test_a_site_that_is_not_listed_gets_no_widget_and_no_answers(
    page: webdriver.Chrome, assistant: Assistant, shop: Shop
) -> None:
    path = shop_page(shop, assistant)
    fetch_session = (
        "const done = arguments[arguments.length - 1];"
        f"fetch('{assistant.url}/webhooks/web/session', {{method: 'POST',"
        " headers: {'Content-Type': 'application/json'}, body: '{}'})"
        ".then(r => r.json()).then(a => done(a.token ? 'read' : 'no token'), () => done('refused'))"
    )
    open_shop(page, shop.other_origin + path)
    time.sleep(6)
    root = page.find_element(By.CSS_SELECTOR, "[data-vietcx-widget]").shadow_root
    assert not root.find_element(By.CSS_SELECTOR, ".launcher").is_displayed()  # the frame never said ready
    assert page.execute_async_script(fetch_session) == "refused"

    open_shop(page, shop.origin + path)  # the listed site, for comparison
    widget(page)
    assert page.execute_async_script(fetch_session) == "read"


def test_the_chat_page_may_be_framed_and_called_only_by_the_listed_sites(
    assistant: Assistant, shop: Shop
) -> None:
    policy = requests.get(f"{assistant.url}/webhooks/web/chat", timeout=30).headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {shop.origin}" in policy and shop.other_origin not in policy
    url = f"{assistant.url}/webhooks/web/session"
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    listed = requests.options(url, headers={"Origin": shop.origin, **preflight}, timeout=30)
    assert listed.headers["Access-Control-Allow-Origin"] == shop.origin
    assert "authorization" in listed.headers["Access-Control-Allow-Headers"].lower()
    other = requests.options(url, headers={"Origin": shop.other_origin, **preflight}, timeout=30)
    assert "Access-Control-Allow-Origin" not in other.headers
    answer = requests.post(url, json={}, headers={"Origin": shop.other_origin}, timeout=30)
    assert "Access-Control-Allow-Origin" not in answer.headers
    answer = requests.post(url, json={}, headers={"Origin": shop.origin}, timeout=30)
    assert answer.headers["Access-Control-Allow-Origin"] == shop.origin


def test_on_a_phone_the_panel_fills_the_screen(
    page: webdriver.Chrome, assistant: Assistant, shop: Shop
) -> None:
    metrics = {"width": 375, "height": 667, "deviceScaleFactor": 2, "mobile": True}
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    open_shop(page, shop.origin + shop_page(shop, assistant))
    launcher, panel = widget(page)
    launcher.click()
    WebDriverWait(page, 10).until(lambda _: panel.is_displayed())
    assert (panel.rect["width"], panel.rect["height"]) == (375, 667)
    assert not launcher.is_displayed()  # the panel's own button closes it
    page.switch_to.frame(panel.find_element(By.TAG_NAME, "iframe"))
    WebDriverWait(page, 60).until(lambda b: greetings(b))
    send(page, "chính sách đổi trả thế nào ạ")
    WebDriverWait(page, 60).until(lambda b: len(texts(b, "bot")) >= 3)
    assert page.find_element(By.ID, "text").rect["width"] < 375
    screenshot(page, "widget-phone.png")
    page.find_element(By.ID, "close").click()
    page.switch_to.default_content()
    WebDriverWait(page, 10).until(lambda _: launcher.is_displayed() and not panel.is_displayed())


def test_the_stand_alone_page_is_the_same_chat_full_screen(
    page: webdriver.Chrome, assistant: Assistant
) -> None:
    url = f"{assistant.url}/webhooks/web/chat"
    open_shop(page, url)
    WebDriverWait(page, 60).until(lambda b: greetings(b))
    assert not page.find_element(By.ID, "close").is_displayed()  # nothing to close: it is the page
    send(page, "máy giặt bảo hành mấy năm")
    WebDriverWait(page, 60).until(lambda b: any("bảo hành" in t for t in texts(b, "bot")))
    screenshot(page, "chat-page.png")
    page.refresh()
    WebDriverWait(page, 30).until(lambda b: texts(b, "user"))
    assert texts(page, "user") == ["máy giặt bảo hành mấy năm"] and len(greetings(page)) == 1


# ---- the stream of queued messages, over HTTP --------------------------------------------------


def stream(assistant: Assistant, token: str | None, after: int | str = 0) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(
        f"{assistant.url}/webhooks/web/stream",
        params={"after": after},
        headers=headers,
        stream=True,
        timeout=(10, 4),  # nothing for 4 s: the reader stops waiting
    )


def events(answer: requests.Response, wanted: int = 1, seconds: float = 15) -> list[dict]:
    """The messages of a stream, until `wanted` came, nothing came for a while, or `seconds` passed."""
    found: list[dict] = []
    deadline = time.monotonic() + seconds
    try:
        for line in answer.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                found.append(json.loads(line[5:]))
            if len(found) >= wanted or time.monotonic() > deadline:
                break
    except requests.ConnectionError:  # the read timed out: nothing more for now
        pass
    finally:
        answer.close()
    return found


def handed_over(assistant: Assistant) -> tuple[str, str, int]:
    """A web customer talking to staff: (their token, their conversation, the escalation)."""
    token = assistant.web_conversation()
    assert "nhân viên" in reply_text(assistant.web_chat(token, "cho tôi gặp nhân viên"))
    sender = jwt.decode(token, assistant.env["VIETCX_WEB_SESSION_SECRET"], algorithms=["HS256"])["sub"]
    escalation = escalations.current(sender, engine(assistant.database_url))
    return token, sender, escalation["id"]


def test_the_stream_needs_the_conversation_token(assistant: Assistant) -> None:
    assert stream(assistant, None).status_code == 401
    forged = jwt.encode({"sub": "web-victim", "exp": int(time.time()) + 600}, "a-guess-of-thirty-two-bytes-or-more", algorithm="HS256")
    assert stream(assistant, forged).status_code == 401
    assert stream(assistant, assistant.web_conversation(), after="abc").status_code == 400


def test_staff_replies_come_down_the_stream_of_their_conversation_only(assistant: Assistant) -> None:
    db = engine(assistant.database_url)
    token, sender, escalation = handed_over(assistant)
    mine = stream(assistant, token)
    assert mine.status_code == 200 and mine.headers["Content-Type"].startswith("text/event-stream")
    other = stream(assistant, assistant.web_conversation())
    first = outbox.send(sender, "Dạ em là Lan ạ", "staff", "lan", escalation, db=db)
    second = outbox.send(sender, "Anh/chị chờ em một chút nhé", "staff", "lan", escalation, db=db)

    got = events(mine, wanted=2)
    assert [m["custom"]["outbox_id"] for m in got] == [first, second]
    assert got[0]["text"] == "Dạ em là Lan ạ" and got[0]["custom"]["staff"] is True
    assert events(other, seconds=5) == []  # another visitor's stream: nothing of theirs
    # handed out is not delivered: a new stream gives them again until the cursor acknowledges them
    assert all(m["delivered_at"] is None for m in outbox.messages(sender, db))
    assert [m["custom"]["outbox_id"] for m in events(stream(assistant, token), wanted=2)] == [first, second]
    assert events(stream(assistant, token, after=first))[0]["custom"]["outbox_id"] == second
    assert [m["delivered_at"] is not None for m in outbox.messages(sender, db)] == [True, False]
