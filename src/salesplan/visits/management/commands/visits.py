"""`salesplan visits`: field visits from the command line.

    salesplan visits plan [--rep USERNAME ...] [--start DATE] [--days N] [--as USERNAME]
                                  plan reps' visits (every rep the acting user may plan)
    salesplan visits today --rep USERNAME [--day DATE] [--as USERNAME]
                                  a rep's day: stops in order with times
    salesplan visits coverage [--start DATE] [--days N] [--as USERNAME]
                                  required vs planned vs done per tier, driving, overdue
"""

import time
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound
from salesplan.org.models import Role, User
from salesplan.visits import selectors, services


class Command(BaseCommand):
    help = "Field visits: plan reps' visits, show a rep's day, show coverage."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        plan = sub.add_parser("plan", help="Plan reps' visits over the horizon.")
        plan.add_argument("--rep", action="append", default=[], help="A rep's username "
                                                                     "(repeat for more).")
        plan.add_argument("--start", type=date.fromisoformat)
        plan.add_argument("--days", type=int)
        today = sub.add_parser("today", help="A rep's day, in order.")
        today.add_argument("--rep", required=True)
        today.add_argument("--day", type=date.fromisoformat)
        cover = sub.add_parser("coverage", help="Required vs planned vs done per tier.")
        cover.add_argument("--start", type=date.fromisoformat)
        cover.add_argument("--days", type=int, default=28)
        for p in (plan, today, cover):
            p.add_argument("--as", dest="username", help="Act as this user (default: an "
                                                         "admin).")

    def handle(self, *args, **options) -> None:
        user = _user(options.get("username"))
        try:
            getattr(self, f"_{options['action']}")(user, options)
        except (NotFound, PermissionDenied, ValidationError) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc

    def _plan(self, user: User, options) -> None:
        rep_ids = [_user(name).pk for name in options["rep"]] or None
        reps = services.plannable_reps(user, rep_ids)
        start = options.get("start") or company_today()
        days = options.get("days") or services.planner.settings().horizon_days
        began = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if done == total or done % 10 == 0:
                self.stdout.write(f"  {done:,} / {total:,} reps")

        run = services.plan_reps(by=user, rep_ids=[r.pk for r in reps], start=start,
                                 days=days, progress=progress)
        s = run.summary
        self.stdout.write(f"Planned {s['planned']:,} of {s['required']:,} visits for "
                          f"{s['reps']:,} reps from {start} ({days} days) in "
                          f"{time.perf_counter() - began:.1f} s; {s['unmet']:,} unmet.")

    def _today(self, user: User, options) -> None:
        rep = _user(options["rep"])
        day = selectors.day_of(user, rep.pk, options.get("day"))
        self.stdout.write(f"{day.rep} on {day.day:%a %d %b %Y}")
        if day.plan:
            self.stdout.write(f"  leave {day.plan.leave_home:%H:%M}, back "
                              f"{day.plan.back_home:%H:%M}, driving "
                              f"{day.plan.travel_minutes} min / {day.plan.travel_km} km")
        for stop in day.stops:
            when = f"{stop.starts:%H:%M}-{stop.ends:%H:%M}" if stop.starts and stop.ends \
                else "--:--"
            self.stdout.write(f"  {stop.sequence:>2}. {when}  {stop.account.name}  "
                              f"[{stop.get_status_display()}]")
        if not day.stops:
            self.stdout.write("  No visits planned.")

    def _coverage(self, user: User, options) -> None:
        found = selectors.coverage(user, start=options.get("start"), days=options["days"])
        self.stdout.write(f"Coverage {found.start} to {found.end}")
        self.stdout.write(f"  {'Tier':<16}{'required':>10}{'planned':>10}{'done':>8}")
        for row in [*found.tiers, found.total]:
            self.stdout.write(f"  {row.label:<16}{row.required:>10}{row.planned:>10}"
                              f"{row.done:>8}")
        if found.driving_share is not None:
            self.stdout.write(f"  Driving: {found.driving_share:.1%} of planned working time")
        self.stdout.write(f"  Overdue accounts: {len(found.overdue)}")


def _user(username: str | None) -> User:
    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        return user
    user = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
    if user is None:
        raise CommandError("No active admin to act as; pass --as USERNAME.")
    return user
