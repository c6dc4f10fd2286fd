"""`make cluster`: the scaled-out deployment on this machine, stopped by Ctrl-C."""

from __future__ import annotations

import logging
import signal
import sys

from vietcx.cluster.launcher import Cluster


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cluster = Cluster()

    def interrupted(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C, or a stop from a service manager; also when started in the background, where the
    # shell leaves SIGINT ignored
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    print("Starting PostgreSQL, Redis, nginx, 2 Rasa servers, 2 action servers and the console...")
    try:
        cluster.start()
        print(
            f"\n  Web chat:      {cluster.url}/webhooks/web/chat\n"
            f"  REST webhook:  POST {cluster.url}/webhooks/rest/webhook\n"
            "                 with the header: Authorization: Bearer $(cat var/rest-token)\n"
            f"  Staff console: {cluster.server_url('console')}\n"
            f"  PostgreSQL:    127.0.0.1:{cluster.ports.postgres} (user vietcx, password in "
            "var/cluster/postgres-password)\n"
            f"  Logs:          {cluster.logs}/\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        cluster.supervise()
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
    except Exception as error:  # noqa: BLE001 (said once, plainly, then everything stops)
        print(f"The cluster could not start: {error}", file=sys.stderr)
        cluster.stop()
        sys.exit(1)
    cluster.stop()


if __name__ == "__main__":
    main()
