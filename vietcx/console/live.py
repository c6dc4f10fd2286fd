"""The live queue: the queue page learns of new escalations and new customer messages without
reloading, by server-sent events (/queue/events) or, where those fail, by polling /queue/state;
either way it then fetches the table again (/queue/rows)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import datetime

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context

from vietcx.console.views import queue_view

blueprint = Blueprint("live", __name__)
# one stream lasts this long, then the browser reconnects (EventSource does by itself): a waitress
# thread is never held for good, and a signed-out session stops getting news within this time
STREAM_SECONDS = 25.0
CHECK_SECONDS = 1.0
RECONNECT_MS = 1000


def _args() -> dict[str, str]:
    """The page's filters, minus days that are not days (the page already said so once)."""
    args = request.args.to_dict()
    for key in ("from", "to"):
        try:
            datetime.strptime(args.get(key, ""), "%Y-%m-%d")
        except ValueError:
            args.pop(key, None)
    return args


def _state(args: dict[str, str]) -> dict:
    """What the page watches: counts per status, the newest escalation, when each waiting customer
    last wrote, the signed-in staff member's reminders, and a version that changes whenever the
    table would (a customer left unanswered too long included)."""
    shown = queue_view(args)
    rows = shown["rows"]
    wrote = {str(r["id"]): r["customer_wrote_at"].timestamp() for r in rows if r["customer_wrote_at"]}
    table = [(r["id"], r["status"], r["staff"], wrote.get(str(r["id"]))) for r in rows]
    quiet = [r["id"] for r in rows if (r["unanswered_minutes"] or 0) >= shown["quiet_minutes"]]
    return {
        "counts": shown["counts"],
        "reminders": [r["id"] for r in shown["reminders"]],
        "newest": max((r["id"] for r in rows), default=0),
        "wrote": wrote,
        "version": hashlib.sha256(repr((table, quiet, shown["counts"])).encode()).hexdigest()[:16],
    }


@blueprint.get("/queue/state")
def state() -> Response:
    """The state once, for browsers without server-sent events (or behind a proxy that buffers them)."""
    return current_app.json.response(_state(_args()))


@blueprint.get("/queue/rows")
def rows() -> str:
    return render_template("_queue_rows.html", **queue_view(_args()))


@blueprint.get("/queue/events")
def events() -> Response:
    """A stream of the state, sent at once and then whenever it changes, for STREAM_SECONDS."""
    args = _args()

    def stream() -> Iterator[str]:
        yield f"retry: {RECONNECT_MS}\n\n"
        sent, ends = None, time.monotonic() + STREAM_SECONDS
        while time.monotonic() < ends:
            now = _state(args)
            if now["version"] != sent:
                sent = now["version"]
                yield f"event: queue\ndata: {json.dumps(now)}\n\n"
            else:
                yield ": still here\n\n"  # a comment: shows a dead connection, keeps proxies from closing
            time.sleep(CHECK_SECONDS)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return Response(stream_with_context(stream()), mimetype="text/event-stream", headers=headers)
