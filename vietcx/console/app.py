"""The console's Flask app: configuration, sign-in required on every page, CSRF on every form,
security headers, error pages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException, Unauthorized
from werkzeug.wrappers import Response

from vietcx import health, phones
from vietcx.console import auth, conversations, kb, labels, live, reports, settings, views
from vietcx.console.permissions import can_edit_kb
from vietcx.rasa_api import jwt_secret
from vietcx.settings import rate_limit_storage
from vietcx.store.db import as_utc, engine

PUBLIC = {"auth.login", "health", "static"}
# no inline script or style and nothing from elsewhere: markup that slipped through could not run
CONTENT_SECURITY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
ERROR_TEXT = {
    400: "Yêu cầu chưa hợp lệ. Vui lòng tải lại trang rồi thử lại.",
    401: "Vui lòng đăng nhập để tiếp tục.",
    403: "Bạn không có quyền thực hiện thao tác này.",
    404: "Không tìm thấy trang này.",
    405: "Thao tác này không được hỗ trợ.",
    413: "Nội dung gửi lên quá dài.",
}


def create_app(
    db: Engine | None = None,
    rasa_url: str | None = None,
    tracker_url: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> Flask:
    """The console on the product database `db` (default: VIETCX_DATABASE_URL), telling the Rasa
    server at `rasa_url` about hand-backs and reading transcripts from the tracker store at
    `tracker_url` (default: the one in endpoints.yml); `config` overrides Flask settings."""
    app = Flask(__name__)
    overrides = dict(config or {})
    app.config.update(
        SECRET_KEY=overrides.get("SECRET_KEY") or settings.secret_key(),
        SESSION_COOKIE_NAME="vietcx_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookie(),
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_minutes()),
        MAX_CONTENT_LENGTH=64 * 1024,
        VIETCX_RASA_URL=rasa_url or settings.rasa_url(),
        VIETCX_RASA_JWT_SECRET=jwt_secret(),
        VIETCX_RATE_LIMIT_STORAGE=rate_limit_storage(),
        VIETCX_TRACKER_URL=tracker_url,
        VIETCX_QUIET_MINUTES=settings.quiet_minutes(),
    )
    app.config.update(overrides)
    # a form stays valid as long as the session does (a reply typed slowly is not refused)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", int(app.permanent_session_lifetime.total_seconds()))
    app.extensions["vietcx.db"] = db or engine()
    app.extensions["vietcx.login_throttle"] = auth.LoginThrottle(app.config["VIETCX_RATE_LIMIT_STORAGE"])

    logins = LoginManager(app)

    @logins.user_loader
    def load_staff(user_id: str) -> auth.StaffUser | None:
        return auth.load_user(user_id, app.extensions["vietcx.db"])

    # before CSRFProtect's own hook: without a session the answer is "sign in", whatever the form
    app.before_request(_require_sign_in)
    CSRFProtect(app)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _error_page)
    app.add_url_rule("/health", "health", _health)
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(reports.blueprint)
    app.register_blueprint(conversations.blueprint)
    app.register_blueprint(live.blueprint)
    app.register_blueprint(kb.blueprint)
    app.jinja_env.filters["local_time"] = _local_time
    app.jinja_env.filters["phone"] = phones.display
    app.jinja_env.globals.update(
        reasons=labels.REASONS,
        statuses=labels.STATUSES,
        sentiments=labels.SENTIMENTS,
        channels=labels.CHANNELS,
        roles=labels.ROLES,
        survey_statuses=labels.SURVEY_STATUSES,
        audit_actions=labels.AUDIT_ACTIONS,
        may_edit_kb=can_edit_kb,
    )
    return app


def _health() -> tuple[Response, int]:
    """The product database reachable (vietcx/health.py); 503 otherwise."""
    status, body = health.run({"database": health.database(current_app.extensions["vietcx.db"])})
    return jsonify(body), status


def _require_sign_in() -> Response | tuple[str, int] | None:
    """Every page but sign-in, /health and static files needs a live session: pages send the
    browser to the sign-in page, anything else gets 401."""
    if request.endpoint in PUBLIC:
        return None
    if current_user.is_authenticated and not auth.session_expired():
        return None
    if current_user.is_authenticated:
        logout_user()
        session.clear()
        flash("Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.", "info")
    elif session.get("_user_id"):  # a session the account has ended (signed out elsewhere, disabled...)
        session.clear()
        flash("Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại.", "info")
    if request.method in ("GET", "HEAD"):
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return _error_page(Unauthorized())


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"  # pages hold customers' personal data
    return response


def _csrf_error(_error: CSRFError) -> tuple[str, int]:
    text = "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang rồi thử lại."
    return render_template("error.html", code=400, text=text), 400


def _error_page(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    # our own words from abort(403/404, "..."); Werkzeug's English defaults are replaced
    own = error.description if error.description != type(error).description else None
    return render_template(
        "error.html", code=code, text=own or ERROR_TEXT.get(code, "Đã có lỗi xảy ra.")
    ), code


def _local_time(moment: datetime | None, seconds: bool = False) -> str:
    """A stored UTC moment as staff read it, in Vietnam's time (to the second in the audit trail)."""
    shape = "%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M"
    return as_utc(moment).astimezone(views.LOCAL).strftime(shape) if moment else ""
