"""`salesplan marketing`: route new leads, escalate missed first touches, attribution.

    salesplan marketing route [--no-queue] [--limit N] [--as USERNAME]
    salesplan marketing escalate            (run it every few minutes from cron)
    salesplan marketing process-inbox [--retry-failed]   (stored form submissions → leads)
    salesplan marketing attribution [--model first|last|linear] [--refresh] [--json]
"""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesplan.marketing import attribution, capture, intake, routing, sla
from salesplan.marketing.models import Campaign, CaptureSubmission
from salesplan.org.models import User


class Command(BaseCommand):
    help = "Lead routing, first-touch escalation and campaign attribution."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        route = sub.add_parser("route", help="Route leads not yet routed; retry the queue.")
        route.add_argument("--no-queue", action="store_true",
                           help="Leave queued leads alone; route only new ones.")
        route.add_argument("--limit", type=int)
        route.add_argument("--as", dest="username",
                           help="Record the routing as done by this user.")
        sub.add_parser("escalate", help="Tell managers about leads past their first-touch "
                                        "deadline (each lead once).")
        inbox = sub.add_parser("process-inbox", help="Turn stored form submissions into "
                                                     "leads (the server does it as they come).")
        inbox.add_argument("--retry-failed", action="store_true",
                           help="Put failed submissions back in line first.")
        attr = sub.add_parser("attribution", help="Pipeline and bookings by campaign.")
        attr.add_argument("--model", choices=sorted(attribution.MODELS), default="linear")
        attr.add_argument("--refresh", action="store_true",
                          help="Recompute the touches first.")
        attr.add_argument("--json", action="store_true")

    def handle(self, *args, **options) -> None:
        action = options["action"]
        if action == "route":
            by = None
            if options.get("username"):
                by = User.objects.filter(username=options["username"], is_active=True).first()
                if by is None:
                    raise CommandError(f"No active user {options['username']!r}.")
            outcome = routing.route_pending(by=by, include_queued=not options["no_queue"],
                                            limit=options.get("limit"))
            self.stdout.write(f"Routed {outcome['routed']} lead(s); "
                              f"{outcome['queued']} waiting in the queue.")
        elif action == "escalate":
            done = sla.escalate()
            for item in done:
                self.stdout.write(f"Lead {item.lead.pk} ({item.lead}): {item.overdue_hours:.1f} h "
                                  f"overdue; told {item.manager or 'nobody (no manager)'}.")
            self.stdout.write(f"{len(done)} escalation(s).")
        elif action == "process-inbox":
            retried = intake.retry_failed() if options["retry_failed"] else 0
            processed = intake.drain()
            scored = 0
            while (settled := capture.score_captured()):
                scored += settled
            failed = CaptureSubmission.objects.filter(
                status=CaptureSubmission.Status.FAILED).count()
            self.stdout.write(f"Processed {processed} submission(s) ({retried} retried, {scored} "
                              "scored); "
                              f"{failed} failed and kept with their error.")
        else:
            self._attribution(options)

    def _attribution(self, options) -> None:
        if options["refresh"]:
            outcome = attribution.refresh()
            self.stdout.write(f"Refreshed: {outcome['touches']} touches on "
                              f"{outcome['opportunities']} opportunities.")
        results = attribution.report(options["model"], Campaign.objects.order_by("name", "id"))
        if options["json"]:
            self.stdout.write(json.dumps([{
                "campaign": r.campaign.name, "pipeline": {c: str(v) for c, v in r.pipeline.items()},
                "bookings": {c: str(v) for c, v in r.bookings.items()},
                "roi": str(r.roi) if r.roi is not None else None} for r in results], indent=2))
            return
        self.stdout.write(f"{'Campaign':40} {'Pipeline':>22} {'Bookings':>22} {'ROI':>8}")
        for r in results:
            pipeline = ", ".join(f"{c} {v:,.2f}" for c, v in r.pipeline.items()) or "-"
            bookings = ", ".join(f"{c} {v:,.2f}" for c, v in r.bookings.items()) or "-"
            roi = f"{r.roi * 100:.0f}%" if r.roi is not None else "-"
            self.stdout.write(f"{r.campaign.name[:40]:40} {pipeline:>22} {bookings:>22} {roi:>8}")
