"""Command line of the product: `python -m vietcx COMMAND ...` (see --help)."""

from __future__ import annotations

import argparse
import getpass
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from vietcx.kb.loader import KnowledgeBaseError, load
from vietcx.reports import escalations as escalation_report
from vietcx.reports import sentiment as sentiment_report
from vietcx.reports.files import FORMATS
from vietcx.reports.surveys import export, report, table
from vietcx.settings import PROJECT, kb_file
from vietcx.store import audit, backup, forget, retention, sentiment, staff
from vietcx.store.period import Period


def forget_customer(args: argparse.Namespace) -> int:
    """Removes a customer from every table and their conversations from the tracker store (personal
    data removal) and says what, table by table. Running it again removes nothing."""
    removals = forget.forget_customer(args.channel, args.id)
    total = _print_removals(removals)
    profile = next(removal.count for removal in removals if removal.table == "customers")
    print(f"profile {'deleted' if profile else 'not found'}; {total} rows removed or anonymised in all")
    return 0


def _print_removals(removals: list[forget.Removal]) -> int:
    width = max(len(removal.table) for removal in removals)
    for removal in removals:
        print(f"{removal.table:<{width}}  {removal.count:>7} {removal.action}")
    return sum(removal.count for removal in removals)


def expire_old_data(args: argparse.Namespace) -> int:
    """Removes or anonymises what is older than the retention period (VIETCX_RETENTION_DAYS)."""
    days = args.days or retention.retention_days()
    total = _print_removals(retention.expire(days))
    print(f"older than {days} days: {total} rows removed or anonymised in all")
    return 0


def backup_databases(args: argparse.Namespace) -> int:
    try:
        copies = backup.backup(args.folder)
    except (OSError, ValueError, subprocess.CalledProcessError) as error:
        print(f"backup failed: {error}", file=sys.stderr)
        return 1
    for copy in copies:
        print(f"{copy.name:<8} {copy.kind:<10} {args.folder / copy.file}")
    print(f"backup written to {args.folder} (manifest: {backup.MANIFEST})")
    return 0


def restore_databases(args: argparse.Namespace) -> int:
    try:
        copies = backup.restore(args.folder)
    except (OSError, ValueError, subprocess.CalledProcessError) as error:
        print(f"restore failed: {error}", file=sys.stderr)
        return 1
    for copy in copies:
        print(f"{copy.name:<8} {copy.kind:<10} restored from {args.folder / copy.file}")
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


def export_surveys(args: argparse.Namespace) -> int:
    """Writes survey responses to a CSV, XLSX or JSON file (personal data masked by default)."""
    written = export(_period(args), args.format, args.out, include_pii=args.include_pii)
    _say_written(written, "survey responses", args)
    return 0


def report_surveys(args: argparse.Namespace) -> int:
    """Prints CSAT/CES figures per channel and topic and saves the charts."""
    result = report(_period(args), args.out)
    print(table(result))
    print("\ncharts: " + ", ".join(result["charts"]))
    return 0


def _period(args: argparse.Namespace) -> Period:
    return Period(start=args.start, end=args.end, channel=args.channel)


def _say_written(count: int, what: str, args: argparse.Namespace) -> None:
    print(f"{count} {what} written to {args.out}" + ("" if args.include_pii else " (personal data masked)"))


def export_sentiment(args: argparse.Namespace) -> int:
    """Writes per-message or per-conversation sentiment (personal data masked by default)."""
    sentiment.sweep()
    written = sentiment_report.export(
        _period(args), args.level, args.format, args.out, include_pii=args.include_pii
    )
    _say_written(written, args.level, args)
    return 0


def report_sentiment(args: argparse.Namespace) -> int:
    """Prints the sentiment figures and saves the charts."""
    sentiment.sweep()
    result = sentiment_report.report(_period(args), args.out)
    print(sentiment_report.table(result))
    print("\ncharts: " + ", ".join(result["charts"]))
    return 0


def export_escalations(args: argparse.Namespace) -> int:
    """Writes escalations to a CSV, XLSX or JSON file (personal data masked by default)."""
    written = escalation_report.export(_period(args), args.format, args.out, include_pii=args.include_pii)
    _say_written(written, "escalations", args)
    return 0


def report_escalations(args: argparse.Namespace) -> int:
    """Prints escalations per reason and channel and the median time to resolve; saves the chart."""
    result = escalation_report.report(_period(args), args.out)
    print(escalation_report.table(result))
    print(f"\nchart: {result['chart']}")
    return 0


def _new_password(args: argparse.Namespace) -> str:
    """From stdin (one line, for scripts) or typed twice without echo; never an argument, which
    would stay in the shell's history and the process list."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        raise ValueError("the two passwords differ")
    return password


def staff_add(args: argparse.Namespace) -> int:
    """Creates a staff account of the console."""
    try:
        account = staff.add(args.username, args.name, _new_password(args), args.role)
    except ValueError as error:
        print(f"not added: {error}", file=sys.stderr)
        return 1
    audit.record("staff_add", audit.CLI, account["username"], f"vai trò {account['role']}")
    print(f"staff member {account['username']} ({account['display_name']}, {account['role']}) added")
    return 0


def staff_password(args: argparse.Namespace) -> int:
    """Sets a new password for a staff account; their open sessions end."""
    try:
        staff.set_password(args.username, _new_password(args))
    except ValueError as error:
        print(f"password not changed: {error}", file=sys.stderr)
        return 1
    audit.record("staff_password", audit.CLI, args.username, "mọi phiên đăng nhập đã kết thúc")
    print(f"password of {args.username} changed; their sessions have ended")
    return 0


def staff_active(args: argparse.Namespace) -> int:
    """Disables (ending their sessions) or enables a staff account."""
    try:
        staff.set_active(args.username, args.staff_command == "enable")
    except ValueError as error:
        print(f"not changed: {error}", file=sys.stderr)
        return 1
    audit.record(f"staff_{args.staff_command}", audit.CLI, args.username)
    print(f"staff member {args.username} {args.staff_command}d")
    return 0


def _day(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-11-30") from error


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", type=_day, help="first day, e.g. 2026-11-01 (UTC)")
    parser.add_argument("--to", dest="end", type=_day, help="last day, included")
    parser.add_argument("--channel", help="rest, web, zalo or messenger")


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the command line and runs one command."""
    parser = argparse.ArgumentParser(prog="python -m vietcx", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    forgetting = commands.add_parser(
        "forget-customer", help="remove a customer's profile, conversations and personal data everywhere"
    )
    forgetting.add_argument("--channel", required=True, help="rest, web, zalo or messenger")
    forgetting.add_argument(
        "--id",
        required=True,
        help="the customer's id on that channel (a sender id, or a signed-in web customer's)",
    )
    forgetting.set_defaults(run=forget_customer)

    expiring = commands.add_parser(
        "retention", help="remove or anonymise personal data older than VIETCX_RETENTION_DAYS (default 365)"
    )
    expiring.add_argument("--days", type=int, help="this many days instead of the setting")
    expiring.set_defaults(run=expire_old_data)

    backing_up = commands.add_parser("backup", help="copy both databases into a new folder")
    backing_up.add_argument("folder", type=Path)
    backing_up.set_defaults(run=backup_databases)
    restoring = commands.add_parser("restore", help="replace both databases with a backup (servers stopped)")
    restoring.add_argument("folder", type=Path)
    restoring.set_defaults(run=restore_databases)

    kb = commands.add_parser("kb", help="the FAQ knowledge base").add_subparsers(
        dest="kb_command", required=True
    )
    check = kb.add_parser("check", help="validate a knowledge base file (default: the one in use)")
    check.add_argument("file", nargs="?", type=Path, default=None)
    check.set_defaults(run=kb_check)

    exports = commands.add_parser("export", help="export data").add_subparsers(dest="what", required=True)
    survey_export = exports.add_parser("surveys", help="survey responses")
    _add_filters(survey_export)
    survey_export.add_argument("--format", choices=FORMATS, default="csv")
    survey_export.add_argument("--out", type=Path, required=True, help="the file to write")
    survey_export.add_argument(
        "--include-pii", action="store_true", help="keep names, phones, e-mails and ids"
    )
    survey_export.set_defaults(run=export_surveys)

    sentiment_export = exports.add_parser("sentiment", help="sentiment per message or per conversation")
    _add_filters(sentiment_export)
    sentiment_export.add_argument("--level", choices=("conversations", "messages"), default="conversations")
    sentiment_export.add_argument("--format", choices=FORMATS, default="csv")
    sentiment_export.add_argument("--out", type=Path, required=True, help="the file to write")
    sentiment_export.add_argument("--include-pii", action="store_true", help="keep texts and ids unmasked")
    sentiment_export.set_defaults(run=export_sentiment)

    escalation_export = exports.add_parser("escalations", help="escalations to staff")
    _add_filters(escalation_export)
    escalation_export.add_argument("--format", choices=FORMATS, default="csv")
    escalation_export.add_argument("--out", type=Path, required=True, help="the file to write")
    escalation_export.add_argument("--include-pii", action="store_true", help="keep names and ids unmasked")
    escalation_export.set_defaults(run=export_escalations)

    reports = commands.add_parser("report", help="print figures and save charts").add_subparsers(
        dest="what", required=True
    )
    survey_report = reports.add_parser("surveys", help="CSAT and CES per channel and topic")
    _add_filters(survey_report)
    survey_report.add_argument(
        "--out", type=Path, default=PROJECT / "var" / "reports", help="folder for the charts"
    )
    survey_report.set_defaults(run=report_surveys)

    sentiment_summary = reports.add_parser("sentiment", help="sentiment per day, channel and topic")
    _add_filters(sentiment_summary)
    sentiment_summary.add_argument(
        "--out", type=Path, default=PROJECT / "var" / "reports", help="folder for the charts"
    )
    sentiment_summary.set_defaults(run=report_sentiment)

    escalation_summary = reports.add_parser("escalations", help="escalations per reason and channel")
    _add_filters(escalation_summary)
    escalation_summary.add_argument(
        "--out", type=Path, default=PROJECT / "var" / "reports", help="folder for the chart"
    )
    escalation_summary.set_defaults(run=report_escalations)

    accounts = commands.add_parser("staff", help="staff accounts of the console").add_subparsers(
        dest="staff_command", required=True
    )
    new_account = accounts.add_parser("add", help="create an account (the password is asked for)")
    new_account.add_argument("username")
    new_account.add_argument(
        "--name", required=True, help='the name shown to colleagues, e.g. "Nguyễn Thị Lan"'
    )
    new_account.add_argument("--role", choices=staff.ROLES, default="agent")
    new_account.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    new_account.set_defaults(run=staff_add)
    reset = accounts.add_parser(
        "password", help="set a new password (asked for) and end the account's sessions"
    )
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    reset.set_defaults(run=staff_password)
    for action, what in (("disable", "sign a staff member out and keep them out"), ("enable", "allow again")):
        switch = accounts.add_parser(action, help=what)
        switch.add_argument("username")
        switch.set_defaults(run=staff_active)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
