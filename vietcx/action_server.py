"""The action server, bound to one interface (127.0.0.1 by default).

`rasa run actions` always listens on 0.0.0.0; a shop's action server should not be reachable from
the network unless the operator says so, hence this small starter around rasa-sdk's own app.
"""

from __future__ import annotations

import argparse
import logging

from rasa_sdk.endpoint import create_app


def main() -> None:
    """Parses --host/--port and serves the `actions` package."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default="actions", help="package holding the custom actions")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(args.actions)
    app.run(host=args.host, port=args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
