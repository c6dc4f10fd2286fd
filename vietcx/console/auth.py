"""Signing staff in and out: accounts from the `staff` table, sessions that expire, a lock on a
user name after repeated wrong passwords."""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from vietcx.console.forms import LoginForm
from vietcx.store import staff

logger = logging.getLogger(__name__)
blueprint = Blueprint("auth", __name__)
SIGNED_IN_AT = "signed_in_at"


class StaffUser(UserMixin):
    """The signed-in staff member, loaded from the database on every request (a disabled account
    or a changed role takes effect at once)."""

    def __init__(self, account: dict) -> None:
        self.username: str = account["username"]
        self.display_name: str = account["display_name"]
        self.role: str = account["role"]

    def get_id(self) -> str:
        return self.username

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class LoginThrottle:
    """Locks a user name for `lock_seconds` after `attempts` wrong passwords within `window_seconds`.
    Names that do not exist are locked the same way, so the lock tells nothing about accounts."""

    def __init__(self, attempts: int = 5, window_seconds: float = 900, lock_seconds: float = 300) -> None:
        self.attempts, self.window, self.lock = attempts, window_seconds, lock_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._guard = threading.Lock()  # waitress serves requests in several threads

    def locked(self, username: str) -> bool:
        with self._guard:
            failures = self._failures.get(username.casefold())
            return (
                bool(failures)
                and len(failures) >= self.attempts
                and time.monotonic() - failures[-1] < self.lock
            )

    def failed(self, username: str) -> None:
        now = time.monotonic()
        with self._guard:
            for name in [n for n, f in self._failures.items() if now - f[-1] > self.window]:
                del self._failures[name]  # forget old failures: the table stays small
            failures = self._failures[username.casefold()]
            failures.append(now)
            while len(failures) > self.attempts or now - failures[0] > self.window:
                failures.popleft()

    def succeeded(self, username: str) -> None:
        with self._guard:
            self._failures.pop(username.casefold(), None)


def session_expired() -> bool:
    """True once the sign-in is older than the session lifetime, however active the session was."""
    signed_in = session.get(SIGNED_IN_AT)
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    return not isinstance(signed_in, (int, float)) or time.time() - signed_in > lifetime


def _safe_next(target: str | None) -> str:
    """Only a path of this site: a link to the login page must not send staff elsewhere afterwards."""
    if target:
        parts = urlsplit(target)
        if target.startswith("/") and not target.startswith("//") and "\\" not in target and not parts.netloc:
            return target
    return url_for("console.queue")


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("login.html", form=form), 400 if request.method == "POST" else 200
    username, throttle = form.username.data, current_app.extensions["vietcx.login_throttle"]
    if throttle.locked(username):
        logger.warning(
            "Sign-in refused for %r from %s: locked after repeated failures", username, request.remote_addr
        )
        flash(
            "Tên đăng nhập này tạm thời bị khóa do nhập sai mật khẩu nhiều lần. "
            "Vui lòng thử lại sau ít phút.",
            "error",
        )
        return render_template("login.html", form=form), 429
    account = staff.authenticate(username, form.password.data, current_app.extensions["vietcx.db"])
    if account is None:
        throttle.failed(username)
        logger.warning("Failed sign-in for %r from %s", username, request.remote_addr)
        flash("Tên đăng nhập hoặc mật khẩu chưa đúng. Vui lòng thử lại.", "error")
        return render_template("login.html", form=form), 401
    throttle.succeeded(username)
    session.clear()  # nothing from before the sign-in is carried into the staff member's session
    login_user(StaffUser(account))
    session.permanent = True
    session[SIGNED_IN_AT] = time.time()
    logger.info("%s signed in from %s", account["username"], request.remote_addr)
    return redirect(_safe_next(request.args.get("next")))


@blueprint.post("/logout")
def logout() -> Response:
    logger.info("%s signed out", current_user.username)
    logout_user()
    session.clear()
    flash("Bạn đã đăng xuất. Hẹn gặp lại!", "info")
    return redirect(url_for("auth.login"))
