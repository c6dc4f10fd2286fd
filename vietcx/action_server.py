"""The action server, bound to one interface (127.0.0.1 by default).

`rasa run actions` always listens on 0.0.0.0; a shop's action server should not be reachable from
the network unless the operator says so, hence this small starter around rasa-sdk's own app.
A module of the actions package may define `warm_up()`: it runs before the server answers (its
health check included), so that costly first-time work is not paid by the first customer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import functools
import logging
import os
import sys
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import response

from vietcx import callbacks, health, logs, metrics, retrying
from vietcx.store import db, retention, sentiment

logger = logging.getLogger(__name__)


async def sweep_forever(seconds: float, job: Callable[[], Any], what: str) -> None:
    """Runs `job` off the event loop every `seconds`: copying the sentiment of new messages and
    conversations into the product database, offering call backs to customers who waited too long."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            await loop.run_in_executor(None, job)
        except Exception:  # a failed sweep is retried next time; the server must stay up
            logger.exception("%s failed", what)
        await asyncio.sleep(seconds)


async def expire_old_data_daily() -> None:
    """Personal data older than the retention period goes once a day (vietcx/store/retention.py);
    the first run a minute after start, off the event loop. Several action servers may each run
    it: what one removed, the next finds gone."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(60)
    while True:
        try:
            removals = await loop.run_in_executor(None, retention.expire)
            logger.info("Retention: %d rows removed or anonymised", sum(r.count for r in removals))
        except Exception:  # retried tomorrow; the server must stay up
            logger.exception("Retention job failed")
        await asyncio.sleep(24 * 3600)


def off_the_loop(run: Callable[..., Coroutine]) -> Callable[..., Coroutine]:
    """`ActionExecutor.run`, each call in a worker thread with its own event loop. The actions are
    coroutines that do blocking work (the database, the FAQ index, the model): on the server's
    loop, one slow call would hold up every other call, and /health with them."""
    threads = int(os.environ.get("VIETCX_ACTION_THREADS", "8"))
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="action")

    def call(context: contextvars.Context, self: ActionExecutor, action_call: dict[str, Any]) -> Any:  # noqa: ANN401
        """The action, run again for up to VIETCX_DB_RETRY_SECONDS (30) while the database cannot
        be reached (a restart): the actions' writes are idempotent, and a failed call would lose
        the customer's answer."""
        waits = retrying.pauses("VIETCX_DB_RETRY_SECONDS", 30)
        while True:
            try:
                return context.run(asyncio.run, run(self, action_call))
            except Exception as error:
                pause = next(waits, None) if db.connection_lost(error) else None
                if pause is None:
                    raise
                logger.warning("Database unreachable: running the action again in %.1f s", pause)
                time.sleep(pause)

    @functools.wraps(run)
    async def run_in_thread(self: ActionExecutor, action_call: dict[str, Any]) -> Any:  # noqa: ANN401
        context = contextvars.copy_context()  # the conversation id of the log lines goes along
        job = functools.partial(call, context, self, action_call)
        return await asyncio.get_running_loop().run_in_executor(pool, job)

    return run_in_thread


def warm_up(package: str) -> None:
    """Runs `warm_up()` of each module of the actions package (imported by `create_app`) that has one."""
    for name, module in sorted(sys.modules.items()):
        if name == package or name.startswith(package + "."):
            prepare = getattr(module, "warm_up", None)
            if callable(prepare):
                prepare()


def main() -> None:
    """Parses --host/--port and serves the `actions` package."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default="actions", help="package holding the custom actions")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # see vietcx/rasa_server.py: one thread a process
    logs.configure("actions")
    ActionExecutor.run = off_the_loop(ActionExecutor.run)
    app = create_app(args.actions)
    warm_up(args.actions)
    seconds = float(os.environ.get("VIETCX_SWEEP_SECONDS", "5"))

    @app.middleware("request")
    async def dependencies(request):  # noqa: ANN001, ANN202 (Sanic's middleware signature)
        """rasa-sdk's /health says "ok" whatever happens: first check the product database. An
        action call's lines in the log carry its conversation."""
        if request.path == "/webhook":
            try:
                tracker = request.json.get("tracker") or {}
                logs.conversation.set(str(tracker.get("sender_id") or "-")[:200])
            except Exception:  # not a tracker: rasa-sdk answers it as it always did
                logs.conversation.set("-")
        if request.path == "/health":
            checks = {"database": health.database(db.engine())}
            status, body = await asyncio.get_running_loop().run_in_executor(None, health.run, checks)
            if status != 200:
                return response.json(body, status=status)
        return None

    @app.get("/metrics")
    async def figures(_request):  # noqa: ANN001, ANN202 (Sanic's handler signature)
        """What the product database holds now (vietcx/metrics.py)."""
        loop = asyncio.get_running_loop()
        body = await loop.run_in_executor(None, metrics.database_exposition, db.engine())
        return response.raw(body, content_type=metrics.CONTENT_TYPE)

    @app.after_server_start
    async def start_sweeping(app, _loop) -> None:  # noqa: ANN001 (Sanic's listener signature)
        app.add_task(sweep_forever(seconds, sentiment.sweep, "Sentiment sweep"))
        app.add_task(sweep_forever(seconds, callbacks.offer_due, "Call-back offers"))
        app.add_task(expire_old_data_daily())

    app.run(host=args.host, port=args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
