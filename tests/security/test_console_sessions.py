"""The staff console over real HTTP: replayed cookies after sign-out or `staff disable`, and a sign-in
lock that also counts per address."""

from __future__ import annotations

import subprocess
import sys
import uuid

import requests
from attacker import from_address

from harness import PROJECT, Assistant, form_token
from vietcx.store import staff
from vietcx.store.db import engine

PASSWORD = "mật khẩu đủ dài 2026"


def sign_in(console: Assistant, username: str, client: requests.Session | None = None) -> requests.Session:
    return console.staff_session(username, PASSWORD, client)


def signed_in_page(console: Assistant, cookies: dict) -> int:
    """The status of the queue page for a browser holding `cookies` (200: signed in; 302: sent to sign in)."""
    return requests.get(
        f"{console.console_url}/", cookies=cookies, allow_redirects=False, timeout=30
    ).status_code


def new_account(console: Assistant) -> str:
    username = f"lan{uuid.uuid4().hex[:6]}"
    staff.add(username, "Nguyễn Thị Lan", PASSWORD, "agent", db=engine(console.database_url))
    return username


def test_a_cookie_replayed_after_sign_out_is_refused_in_every_browser(guarded: Assistant) -> None:
    guarded.start_console()
    username = new_account(guarded)
    office, phone = sign_in(guarded, username), sign_in(guarded, username)
    stolen = office.cookies.get_dict()
    assert signed_in_page(guarded, stolen) == 200
    office.post(
        f"{guarded.console_url}/logout",
        data={"csrf_token": form_token(office, f"{guarded.console_url}/")},
        timeout=30,
    )
    assert signed_in_page(guarded, stolen) == 302  # the copied cookie
    assert signed_in_page(guarded, phone.cookies.get_dict()) == 302  # the other browser
    assert phone.post(
        f"{guarded.console_url}/escalations/1/take", timeout=30, allow_redirects=False
    ).status_code in (
        302,
        400,
        401,
    )


def test_staff_disable_ends_the_sessions_at_once(guarded: Assistant) -> None:
    guarded.start_console()
    username = new_account(guarded)
    cookies = sign_in(guarded, username).cookies.get_dict()
    command = [sys.executable, "-m", "vietcx", "staff", "disable", username]
    done = subprocess.run(command, cwd=PROJECT, env=guarded.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert signed_in_page(guarded, cookies) == 302


def test_guessing_many_names_from_one_address_locks_that_address(guarded: Assistant) -> None:
    guarded.start_console()
    username = new_account(guarded)
    attacker = from_address("127.0.0.31")
    login = f"{guarded.console_url}/login"
    for number in range(20):
        data = {
            "csrf_token": form_token(attacker, login),
            "username": f"guess{number}",
            "password": "sai mật khẩu",
        }
        assert attacker.post(login, data=data, timeout=30).status_code == 401
    data = {"csrf_token": form_token(attacker, login), "username": username, "password": PASSWORD}
    assert attacker.post(login, data=data, allow_redirects=False, timeout=30).status_code == 429
    assert sign_in(guarded, username, from_address("127.0.0.32"))  # the real staff member elsewhere
