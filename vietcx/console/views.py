"""The queue, an escalation's page (its transcript view is every conversation's), what staff do with
an escalation (take, reply, resolve; each also written to the audit trail), and the audit trail
itself for admins."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import NoReturn
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.engine import Engine
from werkzeug.wrappers import Response

from vietcx.console import labels
from vietcx.console.auth import record
from vietcx.console.forms import ReplyForm
from vietcx.console.permissions import can_read_audit, can_take, can_work
from vietcx.console.queries import conversation_events, conversation_surveys, last_customer_messages
from vietcx.console.rasa import RasaUnavailable, hand_back
from vietcx.console.transcript import faq_topics, lines, mood_now, topic_titles, version
from vietcx.store import audit, escalations, outbox, staff
from vietcx.store.db import as_utc
from vietcx.store.period import Period

logger = logging.getLogger(__name__)
blueprint = Blueprint("console", __name__)
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")  # where staff work: dates in filters are their days
QUEUE_LIMIT = 500
AUDIT_PAGE = 100


def _db() -> Engine:
    return current_app.extensions["vietcx.db"]


def _staff_names(usernames: set[str | None]) -> dict[str, str]:
    found = {name: staff.get(name, _db()) for name in usernames if name}
    return {name: account["display_name"] for name, account in found.items() if account}


def local_day(value: str, label: str) -> datetime | None:
    """A YYYY-MM-DD day of Vietnam as the UTC moment it starts (the database keeps UTC)."""
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        flash(f"“{label}” chưa đúng dạng ngày (ví dụ 2026-11-30), nên chưa được áp dụng.", "error")
        return None
    return day.replace(tzinfo=LOCAL).astimezone(timezone.utc)


def queue_view(args: Mapping[str, str]) -> dict:
    """The queue as filtered by `args` (the page's URL): its rows, counts per status, when each
    unresolved conversation's customer last wrote and how long a taken one has waited for its staff
    member (the live queue watches these), and the signed-in staff member's overdue ones."""
    status = args.get("status") if args.get("status") in labels.STATUSES else None
    reason = args.get("reason") if args.get("reason") in labels.REASONS else None
    channel = args.get("channel") if args.get("channel") in labels.CHANNELS else None
    start, end = local_day(args.get("from", ""), "Từ ngày"), local_day(args.get("to", ""), "Đến ngày")
    where = Period(start, end, channel)
    found = escalations.search(where, status=status, reason=reason, limit=QUEUE_LIMIT, db=_db())
    unresolved = {row["sender_id"] for row in found if row["status"] != "resolved"}
    written = last_customer_messages(unresolved, current_app.config["VIETCX_TRACKER_URL"])
    replied = outbox.last_staff_replies({r["sender_id"] for r in found if r["status"] == "assigned"}, _db())
    for row in found:
        at = written.get(row["sender_id"]) if row["status"] != "resolved" else None
        row["customer_wrote_at"] = datetime.fromtimestamp(at, tz=timezone.utc) if at else None
        row["unanswered_minutes"] = _unanswered_minutes(row, replied.get(row["sender_id"]))
    quiet = current_app.config["VIETCX_QUIET_MINUTES"]
    mine = [
        r for r in found if r["staff"] == current_user.username and (r["unanswered_minutes"] or 0) >= quiet
    ]
    return {
        "quiet_minutes": quiet,
        "reminders": mine,
        "rows": found,
        "counts": escalations.counts(where, reason=reason, db=_db()),
        "staff_names": _staff_names({row["staff"] for row in found}),
        "chosen": {
            "status": status,
            "reason": reason,
            "channel": channel,
            **{k: args.get(k, "") for k in ("from", "to")},
        },
        "limited": len(found) >= QUEUE_LIMIT,
    }


def _unanswered_minutes(row: dict, last_reply: datetime | None) -> int | None:
    """How long the customer of a taken conversation has been waiting for its staff member: since
    their last message if no reply came after it, else since it was taken if nobody replied yet;
    None when staff answered last (or the conversation is not taken)."""
    if row["status"] != "assigned":
        return None
    wrote = row["customer_wrote_at"]
    if last_reply is not None and (wrote is None or wrote <= last_reply):
        return None
    since = max(filter(None, [wrote, as_utc(row["assigned_at"])]))
    return int((datetime.now(timezone.utc) - since).total_seconds() // 60)


@blueprint.get("/")
def queue() -> str:
    return render_template("queue.html", **queue_view(request.args))


def _escalation(escalation_id: int) -> dict:
    found = escalations.get(escalation_id, _db())
    if found is None:
        abort(404, "Không tìm thấy yêu cầu này. Có thể đường dẫn chưa đúng.")
    return found


def conversation(sender_id: str, customer_name: str | None) -> dict:
    """What the transcript part of a page shows, an escalation's or any conversation's (also served
    alone, for the page to refresh it)."""
    events = conversation_events(sender_id, current_app.config["VIETCX_TRACKER_URL"])
    queued = outbox.messages(sender_id, _db())
    shown = lines(events, queued, _staff_names({m["staff"] for m in queued}))
    return {"customer_name": customer_name, "lines": shown, "version": version(shown), "events": events}


def conversation_cards(sender_id: str, events: list[dict]) -> dict:
    """The side cards every transcript page shows: FAQ topics tried, mood now, surveys."""
    return {
        "topics": faq_topics(events),
        "titles": topic_titles(),
        "mood_now": mood_now(sender_id, events),
        "surveys": conversation_surveys(sender_id, _db()),
    }


def _transcript(escalation: dict) -> dict:
    return {"escalation": escalation, **conversation(escalation["sender_id"], escalation["customer_name"])}


@blueprint.get("/escalations/<int:escalation_id>")
def escalation(escalation_id: int) -> str:
    found = _escalation(escalation_id)
    shown = _transcript(found)
    return render_template(
        "escalation.html",
        **shown,
        **conversation_cards(found["sender_id"], shown["events"]),
        mood_then=json.loads(found["sentiment"]) if found["sentiment"] else None,
        holder=_staff_names({found["staff"]}).get(found["staff"] or "", found["staff"]),
        may_take=can_take(current_user, found) and found["staff"] != current_user.username,
        may_work=can_work(current_user, found),
        form=ReplyForm(),
    )


@blueprint.get("/escalations/<int:escalation_id>/transcript")
def transcript(escalation_id: int) -> tuple[str, dict[str, str]]:
    """The transcript alone, for the page's refresh; its version in a header."""
    shown = _transcript(_escalation(escalation_id))
    return render_template("_transcript.html", **shown), {"X-Transcript-Version": shown["version"]}


def _back(escalation_id: int) -> Response:
    return redirect(url_for("console.escalation", escalation_id=escalation_id), code=303)


def _refuse(escalation: dict) -> NoReturn:
    """403 with the reason, in words staff understand."""
    holder = _staff_names({escalation["staff"]}).get(escalation["staff"] or "", escalation["staff"])
    logger.warning(
        "%s was refused an action on escalation %s held by %s",
        current_user.username,
        escalation["id"],
        holder,
    )
    if escalation["staff"] and escalation["staff"] != current_user.username:
        abort(
            403,
            f"Yêu cầu này đang do {holder} xử lý. Chỉ người đang xử lý mới thao tác được; "
            "quản trị viên có thể nhận lại yêu cầu trước.",
        )
    abort(403, "Bạn cần bấm “Nhận xử lý” trước khi trả lời hoặc đóng yêu cầu này.")


@blueprint.post("/escalations/<int:escalation_id>/take")
def take(escalation_id: int) -> Response:
    found = _escalation(escalation_id)
    if found["status"] == "resolved":
        flash("Yêu cầu này đã được giải quyết trước đó.", "info")
        return _back(escalation_id)
    if found["staff"] == current_user.username:
        flash("Bạn đang xử lý yêu cầu này rồi.", "info")
        return _back(escalation_id)
    if not can_take(current_user, found):
        _refuse(found)
    try:
        escalations.assign(escalation_id, current_user.username, _db(), held_by=found["staff"])
    except escalations.EscalationError:
        flash("Yêu cầu này vừa được người khác nhận hoặc đã được giải quyết. Vui lòng xem lại.", "info")
        return _back(escalation_id)
    logger.info("%s took escalation %s (held by %s)", current_user.username, escalation_id, found["staff"])
    taken_from = f"nhận lại từ {found['staff']}" if found["staff"] else None
    record("take", current_user.username, escalation_id, taken_from)
    flash(f"Bạn đã nhận xử lý yêu cầu #{escalation_id}.", "success")
    return _back(escalation_id)


@blueprint.post("/escalations/<int:escalation_id>/reply")
def reply(escalation_id: int) -> Response:
    found = _escalation(escalation_id)
    if found["status"] == "resolved":
        flash("Yêu cầu này đã được giải quyết, không gửi thêm trả lời được nữa.", "info")
        return _back(escalation_id)
    if not can_work(current_user, found):
        _refuse(found)
    form = ReplyForm()
    if not form.validate_on_submit():
        for message in form.text.errors:
            flash(str(message), "error")
        return _back(escalation_id)
    outbox.send(
        found["sender_id"],
        form.text.data,
        "staff",
        staff=current_user.username,
        escalation_id=escalation_id,
        db=_db(),
    )
    logger.info("%s replied on escalation %s", current_user.username, escalation_id)
    record("reply", current_user.username, escalation_id, f"{len(form.text.data)} ký tự")  # never the text
    flash("Đã gửi trả lời. Khách sẽ nhận được trong cuộc trò chuyện.", "success")
    return _back(escalation_id)


@blueprint.post("/escalations/<int:escalation_id>/resolve")
def resolve(escalation_id: int) -> Response:
    """Rasa first (it hands the conversation back and asks the survey), the database after: if Rasa
    cannot be reached, the escalation stays with its staff member, unchanged."""
    found = _escalation(escalation_id)
    if found["status"] == "resolved":
        flash("Yêu cầu này đã được giải quyết trước đó.", "info")
        return _back(escalation_id)
    if not can_work(current_user, found):
        _refuse(found)
    config = current_app.config
    try:
        messages = hand_back(config["VIETCX_RASA_URL"], found["sender_id"], config["VIETCX_RASA_JWT_SECRET"])
    except RasaUnavailable as error:
        logger.error("Escalation %s not resolved: %s", escalation_id, error)
        flash(
            "Chưa liên lạc được với trợ lý ảo nên yêu cầu chưa được đóng và vẫn do bạn xử lý. "
            "Vui lòng thử lại sau ít phút.",
            "error",
        )
        return _back(escalation_id)
    for message in messages:
        outbox.send(
            found["sender_id"],
            message.get("text"),
            "bot",
            escalation_id=escalation_id,
            buttons=message.get("buttons"),
            db=_db(),
        )
    try:
        escalations.resolve(escalation_id, current_user.username, _db())
    except escalations.EscalationError:
        flash("Yêu cầu này vừa được giải quyết trước đó.", "info")
        return _back(escalation_id)
    logger.info("%s resolved escalation %s", current_user.username, escalation_id)
    record("resolve", current_user.username, escalation_id)
    flash(
        f"Đã giải quyết yêu cầu #{escalation_id}. Trợ lý ảo tiếp tục trò chuyện và mời khách đánh giá.",
        "success",
    )
    return _back(escalation_id)


@blueprint.get("/audit")
def audit_trail() -> str:
    """Who did what, newest first, by actor and action; pages go back by row id ("Cũ hơn")."""
    if not can_read_audit(current_user):
        abort(403, "Chỉ quản trị viên mới xem được nhật ký thao tác.")
    args = request.args
    actor = args.get("actor", "").strip()
    action = args.get("action") if args.get("action") in labels.AUDIT_ACTIONS else None
    before = args.get("before", type=int)
    rows = audit.recent(AUDIT_PAGE, actor=actor or None, action=action, before=before, db=_db())
    return render_template(
        "audit.html",
        rows=rows,
        chosen={"actor": actor, "action": action},
        older=rows[-1]["id"] if len(rows) == AUDIT_PAGE else None,
        paged=before is not None,
    )
