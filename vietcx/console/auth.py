"""Signing staff in and out: accounts from the `staff` table, sessions that expire and that end in
every browser at once, locks after repeated wrong passwords, every attempt in the audit trail."""

from __future__ import annotations

import logging
import time
from urllib.parse import quote, urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user
from limits import RateLimitItem, parse, storage, strategies
from sqlalchemy.engine import Engine
from werkzeug.wrappers import Response

from vietcx.console.forms import LoginForm
from vietcx.store import audit, staff

logger = logging.getLogger(__name__)
blueprint = Blueprint("auth", __name__)
SIGNED_IN_AT = "signed_in_at"
LOCKED_TEXT = {
    "name": "Tên đăng nhập này tạm thời bị khóa do nhập sai mật khẩu nhiều lần. "
    "Vui lòng thử lại sau ít phút.",
    "address": "Máy của bạn tạm thời bị khóa đăng nhập do nhập sai mật khẩu nhiều lần. "
    "Vui lòng thử lại sau ít phút.",
}
LOCKED_DETAIL = {"name": "tên đăng nhập đang bị khóa", "address": "địa chỉ đang bị khóa"}


class StaffUser(UserMixin):
    """The signed-in staff member, loaded from the database on every request (a disabled account
    or a changed role takes effect at once)."""

    def __init__(self, account: dict) -> None:
        self.username: str = account["username"]
        self.display_name: str = account["display_name"]
        self.role: str = account["role"]
        self.session_epoch: int = account["session_epoch"]

    def get_id(self) -> str:
        """Flask-Login's "alternative token": the epoch in the session's id makes a session end when
        the account's epoch moves on, whichever browser holds it."""
        return f"{self.username}:{self.session_epoch}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def load_user(user_id: str, db: Engine) -> StaffUser | None:
    """The staff member of a session id "username:epoch" while the account is active and the epoch
    is still its own; anything else (signed out elsewhere, new password, disabled, an id from before
    epochs) is no session."""
    username, _, epoch = user_id.rpartition(":")
    account = staff.get(username, db) if username else None
    if account is None or not account["active"] or str(account["session_epoch"]) != epoch:
        return None
    return StaffUser(account)


class LoginThrottle:
    """Wrong passwords counted per user name and per address in a `limits` storage (memory:// in one
    process, redis:// shared by several): 5 for one name within 15 minutes lock that name, 20 from
    one address lock that address (guessing across many names), each for 5 minutes; every further
    failure while the window is full locks again. Names that do not exist count the same way, so a
    lock tells nothing about accounts."""

    PER_NAME = parse("5 per 15 minutes")
    PER_ADDRESS = parse("20 per 15 minutes")
    LOCK = parse("1 per 5 minutes")

    def __init__(self, storage_uri: str) -> None:
        self._storage = storage.storage_from_string(storage_uri)  # the limiter keeps only a weak reference
        self._limiter = strategies.MovingWindowRateLimiter(self._storage)

    def _counted(self, username: str, address: str | None) -> list[tuple[RateLimitItem, str, str]]:
        """(limit, kind, key) for the address, then the name."""
        return [
            (self.PER_ADDRESS, "address", quote(address or "unknown", safe="")),
            (self.PER_NAME, "name", _name_key(username)),
        ]

    def locked(self, username: str, address: str | None) -> str | None:
        """Which of "address" and "name" is locked (the address first), or None."""
        for _limit, kind, key in self._counted(username, address):
            if not self._limiter.test(self.LOCK, "console-lock", kind, key):
                return kind
        return None

    def failed(self, username: str, address: str | None) -> None:
        for limit, kind, key in self._counted(username, address):
            self._limiter.hit(limit, "console-failures", kind, key)
            if not self._limiter.test(limit, "console-failures", kind, key):
                self._limiter.hit(self.LOCK, "console-lock", kind, key)

    def succeeded(self, username: str) -> None:
        """Forgets the name's failures; the address's stay, or signing in to one's own account
        between guesses would reset them."""
        self._limiter.clear(self.PER_NAME, "console-failures", "name", _name_key(username))


def _name_key(username: str) -> str:
    """Quoted: a "/" in a typed name cannot make another key (limits joins identifiers with "/")."""
    return quote(username.casefold(), safe="")


def record(action: str, actor: str, target: str | int | None = None, detail: str | None = None) -> None:
    """An audit row for what this request did, with the browser's address."""
    audit.record(action, actor, target, detail, request.remote_addr, current_app.extensions["vietcx.db"])


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
    lock = throttle.locked(username, request.remote_addr)
    if lock:
        logger.warning(
            "Sign-in refused for %r from %s: %s locked after repeated failures",
            username,
            request.remote_addr,
            lock,
        )
        record("sign_in_locked", username, detail=LOCKED_DETAIL[lock])
        flash(LOCKED_TEXT[lock], "error")
        return render_template("login.html", form=form), 429
    account = staff.authenticate(username, form.password.data, current_app.extensions["vietcx.db"])
    if account is None:
        throttle.failed(username, request.remote_addr)
        logger.warning("Failed sign-in for %r from %s", username, request.remote_addr)
        record("sign_in_failed", username)
        flash("Tên đăng nhập hoặc mật khẩu chưa đúng. Vui lòng thử lại.", "error")
        return render_template("login.html", form=form), 401
    throttle.succeeded(username)
    session.clear()  # nothing from before the sign-in is carried into the staff member's session
    login_user(StaffUser(account))
    session.permanent = True
    session[SIGNED_IN_AT] = time.time()
    logger.info("%s signed in from %s", account["username"], request.remote_addr)
    record("sign_in", account["username"])
    return redirect(_safe_next(request.args.get("next")))


@blueprint.post("/logout")
def logout() -> Response:
    """Ends every session of the account, not only this browser's: a cookie left in another browser
    or copied before is refused from now on."""
    username = current_user.username
    staff.end_sessions(username, current_app.extensions["vietcx.db"])
    logger.info("%s signed out (every session)", username)
    record("sign_out", username)
    logout_user()
    session.clear()
    flash("Bạn đã đăng xuất trên mọi trình duyệt. Hẹn gặp lại!", "info")
    return redirect(url_for("auth.login"))
