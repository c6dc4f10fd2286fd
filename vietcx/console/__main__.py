"""`python -m vietcx.console [--host 127.0.0.1] [--port 5080]`: the staff console, served by waitress."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

import waitress

from vietcx import logs
from vietcx.console import settings
from vietcx.console.app import create_app

logger = logging.getLogger("vietcx.console")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vietcx.console", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    parser.add_argument(
        "--port", type=int, default=settings.port(), help="default VIETCX_CONSOLE_PORT, else 5080"
    )
    args = parser.parse_args(argv)
    logs.configure("console")
    app = create_app()
    logger.info("Staff console on http://%s:%d", args.host, args.port)
    # each open queue page holds a thread for its event stream (25 s at a time): more than waitress's 4
    waitress.serve(app, host=args.host, port=args.port, ident="vietcx-console", threads=settings.threads())


if __name__ == "__main__":
    main()
