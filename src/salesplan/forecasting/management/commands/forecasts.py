"""`salesplan forecasts`: forecasts from the command line, through the same services and
selectors as the pages and the API.

    salesplan forecasts snapshot [--date YYYY-MM-DD]     record this week's snapshot (cron)
    salesplan forecasts refresh        recount closed deals per stage, refit the statistical
                                       forecasts (nightly, from cron)
    salesplan forecasts rollup [--period FY2027-Q1] [--as USERNAME]
    salesplan forecasts submit COMMIT BEST_CASE PIPELINE --as USERNAME [--period P]
    salesplan forecasts calibration [--pipeline ID] [--months 12] [--prior-weight 20]
    salesplan forecasts statistical [--scope company|team:ID|rep:ID] [--as USERNAME]
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesplan.core.clock import company_today
from salesplan.core.fiscal import CompanyCalendar
from salesplan.forecasting import calibration, periods, selectors, services, statistical
from salesplan.org.models import Role, User
from salesplan.pipeline.models import Pipeline


class Command(BaseCommand):
    help = "Forecasts: weekly snapshot, roll-up, submit, calibration, statistical forecast."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        snap = sub.add_parser("snapshot", help="Record this week's forecast snapshot.")
        snap.add_argument("--date", type=date.fromisoformat, help="Day within the week.")
        sub.add_parser("refresh", help="Recount calibration; refit statistical forecasts.")
        rollup = sub.add_parser("rollup", help="The quarter's roll-up by team and rep.")
        submit = sub.add_parser("submit", help="Submit a forecast as a rep.")
        for name in ("commit", "best_case", "pipeline"):
            submit.add_argument(name)
        submit.add_argument("--note", default="")
        cal = sub.add_parser("calibration", help="Stated vs observed stage probabilities.")
        cal.add_argument("--pipeline", type=int)
        cal.add_argument("--months", type=int, default=12)
        cal.add_argument("--prior-weight", type=int, default=20)
        stat = sub.add_parser("statistical", help="Bookings forecast with backtests.")
        stat.add_argument("--scope")
        for p in (rollup, submit):
            p.add_argument("--period", help="Fiscal quarter like FY2027-Q1 (default: current).")
        for p in (rollup, submit, stat):
            p.add_argument("--as", dest="username", help="Act as this user (default: an admin).")

    def handle(self, *args, **options) -> None:
        action = options["action"]
        try:
            if action == "snapshot":
                rows = services.take_snapshot(today=options.get("date"))
                self.stdout.write(f"Recorded {rows:,} forecast lines.")
            elif action == "refresh":
                result = services.refresh_forecasts()
                self.stdout.write(f"Counted {result['stage_months']:,} stage-months of closed "
                                  f"deals; fitted {result['forecasts']} statistical forecasts.")
            elif action == "calibration":
                self._calibration(options)
            elif action == "statistical":
                self._statistical(_user(options.get("username")), options.get("scope"))
            else:
                user = _user(options.get("username"))
                period = periods.parse(CompanyCalendar.current(), options.get("period"),
                                       company_today())
                if action == "submit":
                    self._submit(user, period, options)
                else:
                    self._rollup(user, period)
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            raise CommandError(text) from exc

    def _submit(self, user: User, period, options) -> None:
        try:
            values = [Decimal(options[n]) for n in ("commit", "best_case", "pipeline")]
        except InvalidOperation as exc:
            raise CommandError("commit, best case and pipeline must be amounts.") from exc
        row = services.submit_forecast(by=user, fiscal_year=period.fiscal_year,
                                       quarter=period.number, commit=values[0],
                                       best_case=values[1], pipeline=values[2],
                                       note=options["note"])
        self.stdout.write(f"Submitted {row.period_label}: commit {row.commit}, best case "
                          f"{row.best_case}, pipeline {row.pipeline}.")

    def _rollup(self, user: User, period) -> None:
        view = selectors.rollup(user, period)
        if view is None:
            raise CommandError("There is no team roll-up for this user.")
        self.stdout.write(f"{periods.label(period)} ({view.currency})  commit / best case / "
                          f"pipeline / won")
        for t in view.teams:
            f = t.effective
            mark = " (adjusted)" if t.adjustment else ""
            self.stdout.write(f"{'  ' * t.depth}{t.team.name}{mark}: {f.commit} / "
                              f"{f.best_case} / {f.pipeline} / {t.closed_won}")
            for r in t.reps:
                g = r.figures
                self.stdout.write(f"{'  ' * (t.depth + 1)}{r.rep}: {g.commit} / {g.best_case}"
                                  f" / {g.pipeline} / {r.closed_won}"
                                  + ("" if r.submission else "  (not submitted)"))

    def _calibration(self, options) -> None:
        pipeline = (Pipeline.objects.filter(pk=options["pipeline"]).first()
                    if options.get("pipeline") else
                    Pipeline.objects.order_by("-is_default", "position").first())
        if pipeline is None:
            raise CommandError("No such pipeline.")
        start, end = calibration.window(options["months"], company_today())
        rows = calibration.calibration(pipeline, months=options["months"],
                                       prior_weight=options["prior_weight"])
        self.stdout.write(f"{pipeline.name}: deals closed {start} – {end}")
        self.stdout.write(f"{'Stage':<20} {'stated':>7} {'won':>6} {'lost':>6} "
                          f"{'observed':>9} {'calibrated':>11}")
        for r in rows:
            observed = "—" if r.row.observed is None else f"{r.row.observed}%"
            self.stdout.write(f"{r.stage.name:<20} {r.row.stated:>6}% {r.row.won:>6} "
                              f"{r.row.lost:>6} {observed:>9} {r.row.calibrated:>10}%")

    def _statistical(self, user: User, scope_key: str | None) -> None:
        scope = statistical.scope_for(user, scope_key)
        result = statistical.statistical_forecast(scope, today=company_today())
        self.stdout.write(f"{scope.label}: {result.model_label}. {result.message}")
        for line in result.sentences:
            self.stdout.write(line)
        for month, value, low, high in zip(result.forecast_months, result.forecast,
                                           result.lower, result.upper, strict=False):
            self.stdout.write(f"  {month:%b %Y}  {result.currency} {value:,.2f}"
                              f"  ({low:,.0f} – {high:,.0f})")


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
