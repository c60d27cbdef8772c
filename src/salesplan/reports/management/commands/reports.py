"""`salesplan reports`: performance reports from the command line, through the same
catalogue, visibility rule and exports as the pages and the API.

    salesplan reports list
    salesplan reports run REPORT --user USERNAME [--format text|csv|xlsx|pdf] [--output FILE]
        [--period FY2026-Q2] [--by owner] [--team ID] [--owner ID] [--territory ID]
        [--pipeline ID] [--currency USD]
    salesplan reports send-due          email the scheduled reports that are due (cron, worker)
    salesplan reports rebuild           recompute the rollups (salesplan.metrics) that reports,
                                        forecasts and plan vs actual read
    salesplan reports refresh           bring the rollups up to date (reports do this too)
"""

import sys
import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesplan.core.errors import NotFound
from salesplan.metrics import rollup
from salesplan.org.models import User
from salesplan.reports import services
from salesplan.reports.catalog import REPORTS, run_report
from salesplan.reports.exporting import build_export, display_value
from salesplan.reports.scope import parse_filters


class Command(BaseCommand):
    help = "Performance reports: list, run (text, CSV, XLSX, PDF), send due deliveries."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="The reports.")
        run = sub.add_parser("run", help="Run a report as a user.")
        run.add_argument("report", choices=sorted(REPORTS))
        run.add_argument("--user", required=True, help="Run as this username (visibility).")
        run.add_argument("--format", choices=["text", "csv", "xlsx", "pdf"], default="text")
        run.add_argument("--output", help="File to write (default: standard output).")
        run.add_argument("--period", help="FY2026, FY2026-Q2 or FY2026-M05.")
        run.add_argument("--by", default="", help="Grouping (owner, team, stage, …).")
        for name in ("team", "owner", "territory", "pipeline"):
            run.add_argument(f"--{name}", type=int)
        run.add_argument("--currency")
        sub.add_parser("send-due", help="Email the scheduled reports that are due.")
        rebuild = sub.add_parser("rebuild", help="Recompute the rollups from the source tables.")
        rebuild.add_argument("--background", metavar="ADMIN_USERNAME",
                             help="Run as a background job started by this admin.")
        sub.add_parser("refresh", help="Bring the rollups up to date.")

    def handle(self, *args, **options) -> None:
        action = options["action"]
        try:
            if action == "list":
                for d in REPORTS.values():
                    groups = f" (by {', '.join(d.groupings)})" if d.groupings else ""
                    self.stdout.write(f"{d.key:18} {d.title}{groups}")
            elif action == "run":
                self._run(options)
            elif action == "send-due":
                jobs = services.send_due()
                for job in jobs:
                    job.refresh_from_db()
                    self.stdout.write(f"job {job.pk}: {job.status} {job.message}")
                self.stdout.write(f"{len(jobs)} scheduled report(s) due.")
            elif action == "rebuild" and options.get("background"):
                admin = User.objects.filter(username=options["background"]).first()
                if admin is None:
                    raise CommandError(f"No user {options['background']!r}.")
                try:
                    job = services.start_rebuild(by=admin)
                except PermissionDenied as exc:
                    raise CommandError(str(exc)) from exc
                self.stdout.write(f"Started job {job.pk}.")
            else:
                started = time.perf_counter()
                counts = rollup.rebuild() if action == "rebuild" else rollup.refresh()
                self.stdout.write(", ".join(f"{name}: {n:,}" for name, n in counts.items())
                                  + f" ({time.perf_counter() - started:.1f} s)")
        except ValidationError as exc:
            raise CommandError(" ".join(f"{field}: {' '.join(msgs)}" for field, msgs in
                                        exc.message_dict.items())) from exc
        except (NotFound, rollup.RollupsNotReady) as exc:
            raise CommandError(str(exc)) from exc

    def _run(self, options) -> None:
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['user']!r}.")
        params = {k: options[k] for k in ("period", "team", "owner", "territory", "pipeline",
                                          "currency") if options.get(k) not in (None, "")}
        result = run_report(options["report"], user, parse_filters(params), options["by"])
        fmt = options["format"]
        if fmt == "text":
            widths = [max(len(c.label), *(len(display_value(c, r.values[i]))
                                          for r in result.rows)) if result.rows else len(c.label)
                      for i, c in enumerate(result.columns)]
            self.stdout.write(f"{result.title} · {result.filters.period.label}")
            self.stdout.write("  ".join(c.label.ljust(w) for c, w in zip(result.columns, widths,
                                                                         strict=True)))
            for row in result.rows:
                self.stdout.write("  ".join(
                    display_value(c, v).rjust(w) if c.kind != "text" else
                    display_value(c, v).ljust(w)
                    for c, v, w in zip(result.columns, row.values, widths, strict=True)))
            for note in result.notes:
                self.stdout.write(note)
            return
        export = build_export(title=result.title, columns=result.columns,
                              rows=result.plain_rows(), fmt=fmt,
                              filters=result.filters.described(),
                              filename=f"{result.key}-{result.filters.period.code}")
        if options.get("output"):
            with open(options["output"], "wb") as target:
                target.write(export.content)
            self.stdout.write(f"Wrote {options['output']} ({len(export.content):,} bytes).")
        elif fmt == "csv":
            self.stdout.write(export.content.decode("utf-8-sig"), ending="")
        else:
            sys.stdout.buffer.write(export.content)
