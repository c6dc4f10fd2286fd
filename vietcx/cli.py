"""Command line of the product: `python -m vietcx COMMAND ...` (see --help)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from vietcx.kb.loader import KnowledgeBaseError, load
from vietcx.settings import kb_file
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


def kb_check(args: argparse.Namespace) -> int:
    """Validates a knowledge base file and says what is wrong with it, entry by entry."""
    try:
        topics = load(args.file)
    except KnowledgeBaseError as error:
        print(f"{args.file or kb_file()}: {len(error.problems)} problem(s)")
        for problem in error.problems:
            print(f"  - {problem}")
        return 1
    examples = sum(len(t.examples) for t in topics)
    print(f"{args.file or kb_file()}: OK, {len(topics)} topics, {examples} example questions")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the command line and runs one command."""
    parser = argparse.ArgumentParser(prog="python -m vietcx", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    forget = commands.add_parser("forget-customer", help="delete a customer's profile and conversations")
    forget.add_argument("--channel", required=True, help="rest, web, zalo or messenger")
    forget.add_argument("--id", required=True, help="the customer's id on that channel (the sender id)")
    forget.set_defaults(run=forget_customer)

    kb = commands.add_parser("kb", help="the FAQ knowledge base").add_subparsers(
        dest="kb_command", required=True
    )
    check = kb.add_parser("check", help="validate a knowledge base file (default: the one in use)")
    check.add_argument("file", nargs="?", type=Path, default=None)
    check.set_defaults(run=kb_check)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
