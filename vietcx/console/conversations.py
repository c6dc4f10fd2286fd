"""Every conversation, not only escalations (/conversations): a list filtered by day, channel, mood,
FAQ topic, survey score and review flag, opening the transcript view escalations use, so staff can
review angry conversations that never asked for a person and low survey scores."""

from __future__ import annotations

from collections.abc import Collection

from flask import Blueprint, abort, current_app, render_template, request

from vietcx.console import labels
from vietcx.console.transcript import topic_titles
from vietcx.console.views import conversation, conversation_cards, local_day
from vietcx.store import conversations, escalations
from vietcx.store.period import Period
from vietcx.store.sentiment import flags_of

blueprint = Blueprint("conversations", __name__)
LIMIT = 500
SCORES = {
    "low": "CSAT 1–2 (không hài lòng)",
    "middle": "CSAT 3",
    "high": "CSAT 4–5 (hài lòng)",
    "none": "Chưa chấm điểm",
}


def _choice(name: str, allowed: Collection[str]) -> str | None:
    """A filter's value when it is one of `allowed`; a made-up value is refused (400)."""
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        abort(400, "Bộ lọc chưa hợp lệ. Vui lòng chọn lại.")
    return value


@blueprint.get("/conversations")
def search() -> str:
    args = request.args
    titles = topic_titles()
    channel = _choice("channel", labels.CHANNELS)
    start, end = local_day(args.get("from", ""), "Từ ngày"), local_day(args.get("to", ""), "Đến ngày")
    text = args.get("q", "").strip()[:200]
    found = conversations.search(
        Period(start, end, channel),
        mood=_choice("mood", conversations.MOODS),
        topic=args.get("topic", "")[:64] or None,
        score=_choice("score", SCORES),
        flagged=args.get("flagged") == "1",
        text=text or None,
        limit=LIMIT,
        db=current_app.extensions["vietcx.db"],
    )
    for row in found:
        row["mood"] = conversations.mood_of(row["mean_score"])
    return render_template(
        "conversations.html",
        rows=found,
        titles=titles,
        scores=SCORES,
        chosen={k: args.get(k, "") for k in ("from", "to", "channel", "mood", "topic", "score", "flagged")}
        | {"q": text},
        limited=len(found) >= LIMIT,
    )


def _sender() -> str:
    sender_id = request.args.get("sender", "")
    if not sender_id or not conversations.known(sender_id, current_app.extensions["vietcx.db"]):
        abort(404, "Không tìm thấy cuộc trò chuyện này. Có thể đường dẫn chưa đúng.")
    return sender_id


def _shown(sender_id: str) -> dict:
    """The transcript of the conversation, the customer named as on its escalations."""
    handed = escalations.search(Period(), db=current_app.extensions["vietcx.db"], sender_id=sender_id)
    name = next((e["customer_name"] for e in handed if e["customer_name"]), None)
    return {"escalations": handed, **conversation(sender_id, name)}


@blueprint.get("/conversations/view")
def view() -> str:
    sender_id = _sender()
    shown = _shown(sender_id)
    return render_template(
        "conversation.html",
        sender_id=sender_id,
        **shown,
        **conversation_cards(sender_id, shown["events"]),
        mood_then=None,
        flags=flags_of(sender_id, current_app.extensions["vietcx.db"]),
    )


@blueprint.get("/conversations/transcript")
def transcript() -> tuple[str, dict[str, str]]:
    """The transcript alone, for the page's refresh (as an escalation's)."""
    shown = _shown(_sender())
    return render_template("_transcript.html", **shown), {"X-Transcript-Version": shown["version"]}
