"""Command line of the product: `python -m vietcx COMMAND ...` (see --help)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from vietcx.store import profiles
from vietcx.store.tracker import delete_conversations


def forget_customer(args: argparse.Namespace) -> int:
    """Deletes a customer's stored profile and their conversations (personal data removal)."""
    had_profile = profiles.forget(args.channel, args.id)
    deleted_events = delete_conversations(args.id)
    print(
        f"profile {'deleted' if had_profile else 'not found'}; {deleted_events} conversation events deleted"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the command line and runs one command."""
    parser = argparse.ArgumentParser(prog="python -m vietcx", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    forget = commands.add_parser("forget-customer", help="delete a customer's profile and conversations")
    forget.add_argument("--channel", required=True, help="rest, web, zalo or messenger")
    forget.add_argument("--id", required=True, help="the customer's id on that channel (the sender id)")
    forget.set_defaults(run=forget_customer)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
