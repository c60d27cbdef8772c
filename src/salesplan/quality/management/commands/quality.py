"""`salesplan quality`: the quality-control lists, the duplicate scan and the daily scores
from the command line (for cron or a one-off look).

    salesplan quality scan [--as USERNAME] [--check KEY] [--limit N]
    salesplan quality duplicates [--type account|contact|lead ...]
    salesplan quality snapshot [--date YYYY-MM-DD]
    salesplan quality counts     (the company-wide counts the overview shows)
"""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesplan.org.models import Role, User
from salesplan.quality import checks as qc
from salesplan.quality import selectors
from salesplan.quality.models import DUPLICATE_TYPES
from salesplan.quality.scanning import run_scan
from salesplan.quality.scoring import take_snapshot


class Command(BaseCommand):
    help = "Quality control: list issues, scan for duplicates, take the daily scores."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        scan = sub.add_parser("scan", help="Count (or list) what each check finds.")
        scan.add_argument("--as", dest="username",
                          help="Whose view (default: the first active admin).")
        scan.add_argument("--check", choices=sorted(qc.CHECKS), help="List this check's items.")
        scan.add_argument("--limit", type=int, default=50)
        dup = sub.add_parser("duplicates", help="Scan for likely duplicates and store them.")
        dup.add_argument("--type", dest="types", action="append", choices=DUPLICATE_TYPES)
        snap = sub.add_parser("snapshot", help="Store the data-quality scores of the day.")
        snap.add_argument("--date", type=date.fromisoformat)
        sub.add_parser("counts", help="Count every check over every record for the overview.")

    def handle(self, *args, **options) -> None:
        action = options["action"]
        if action == "scan":
            self._scan(options)
        elif action == "duplicates":
            for record_type in options["types"] or list(DUPLICATE_TYPES):
                started = time.perf_counter()
                scan = run_scan(record_type)
                self.stdout.write(
                    f"{record_type}: {scan.records:,} records, {scan.pairs_compared:,} pairs "
                    f"compared, {scan.candidates:,} likely duplicates "
                    f"({time.perf_counter() - started:.1f} s)")
        elif action == "counts":
            from salesplan.quality.counting import refresh_issue_counts

            run = refresh_issue_counts()
            self.stdout.write(f"Counted {sum(run.counts.values_list('count', flat=True)):,} "
                              f"issues in {run.seconds} s.")
        else:
            result = take_snapshot(options.get("date"))
            self.stdout.write(f"Scores stored for {result['people']} people "
                              f"({result['snapshots']} snapshots with teams and company).")

    def _scan(self, options) -> None:
        user = self._user(options.get("username"))
        ctx = qc.Context.current()
        if options.get("check"):
            check = qc.CHECKS[options["check"]]
            _page, items = selectors.check_page(user, check, limit=options["limit"], ctx=ctx)
            for item in items:
                self.stdout.write(f"{item.record_id}\t{item.owner}\t{item.name}\t{item.detail}")
            return
        for found in selectors.check_counts(user, ctx):
            more = "+" if found.capped else ""
            self.stdout.write(f"{found.check.key:28} {found.count:>6}{more:1} "
                              f"{found.check.label}")

    def _user(self, username: str | None) -> User:
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(f"No active user {username!r}.")
            return user
        user = (User.objects.filter(is_active=True, role=Role.ADMIN).order_by("pk").first()
                or User.objects.filter(is_active=True, is_superuser=True).order_by("pk").first())
        if user is None:
            raise CommandError("No active admin; name a user with --as.")
        return user
