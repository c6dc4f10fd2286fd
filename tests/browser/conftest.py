"""The headless Chromium shared by the browser tests (the chat page and the staff console)."""

from __future__ import annotations

import http.server
import shutil
import threading
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from harness import Assistant, running_assistant

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=800,900",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options
    )
    yield driver
    driver.quit()


class Shop:
    """A shop's own web site on another origin than the assistant: `pages` maps a path to its HTML.
    Served on 127.0.0.1; `origin` (http://localhost:PORT) is the address the shop is listed under,
    `other_origin` (http://127.0.0.1:PORT, the same pages) is a site that is not listed."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        shop = self

        class Pages(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                page = shop.pages.get(self.path.split("?")[0])
                body = (page or "not found").encode("utf-8")
                self.send_response(200 if page else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pages)
        self.port = self.server.server_address[1]
        self.origin = f"http://localhost:{self.port}"
        self.other_origin = f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="session")
def shop() -> Iterator[Shop]:
    """The shop's site, running for the browser tests."""
    site = Shop()
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture(scope="session")
def assistant(shop: Shop) -> Iterator[Assistant]:
    """The real servers (as tests/conftest.py starts them), with the shop's site listed in
    VIETCX_WEB_ORIGINS: it may embed the chat widget."""
    with running_assistant(extra_env={"VIETCX_WEB_ORIGINS": shop.origin}) as running:
        yield running


@pytest.fixture
def fresh_browser() -> Iterator[webdriver.Chrome]:
    """A Chromium of its own for one test: a new profile, so no page keeps anything (a conversation
    token, a transcript) from another test, whatever origin or frame it was stored under."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options
    )
    yield driver
    driver.quit()
