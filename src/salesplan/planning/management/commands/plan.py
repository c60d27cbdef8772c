"""`salesplan plan`: sales plans from the command line, through the same services and
selectors as the pages and the API.

    salesplan plan list [--as USERNAME]
    salesplan plan show ID [--as USERNAME]                    objectives by month
    salesplan plan target ID MEASURE TOTAL [--phasing even|history] [--reason R]
    salesplan plan allocate ID OBJECTIVE_ID --to reps|teams|territories
        [--method even|potential|prior_period] [--reason R]
    salesplan plan submit|return|approve|activate|close ID
    salesplan plan reconcile ID [--measure bookings]
    salesplan plan actual ID [--as-of YYYY-MM-DD]
    salesplan plan optimise-effort ID [--basis account|segment] [--margin 0.3]
        [--cost-per-hour 50] [--hours-per-call 1] [--call-share 0.6] [--first-month M]
        [--min-calls TIER=CALLS] [--apply [--reason R]]
    salesplan plan evaluate ID [--as-of YYYY-MM-DD]            and raise alerts
    salesplan plan review ID [--as-of D] [--notes N] [--decisions D]
    salesplan plan replan ID MEASURE --reason R [--as-of D]
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound
from salesplan.org.models import Role, User
from salesplan.planning import selectors, services
from salesplan.planning.models import AllocationMethod, Measure, Objective


class Command(BaseCommand):
    help = "Sales plans: list, show, set targets, allocate, move status, reconcile, actuals."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        parsers = [sub.add_parser("list", help="Plans you may see.")]
        for name, text in (("show", "Objectives by month."), ("reconcile", "Top-down vs "
                           "bottom-up."), ("actual", "Plan vs actual bookings.")):
            p = sub.add_parser(name, help=text)
            p.add_argument("plan", type=int)
            parsers.append(p)
        parsers[-2].add_argument("--measure", choices=Measure.values, default="bookings")
        parsers[-1].add_argument("--as-of", type=date.fromisoformat)
        target = sub.add_parser("target", help="Set the plan's top target for a measure.")
        target.add_argument("plan", type=int)
        target.add_argument("measure", choices=Measure.values)
        target.add_argument("total")
        target.add_argument("--phasing", choices=["even", "history"], default="even")
        allocate = sub.add_parser("allocate", help="Allocate a target to its children.")
        allocate.add_argument("plan", type=int)
        allocate.add_argument("objective", type=int)
        allocate.add_argument("--to", choices=["reps", "teams", "territories"], required=True)
        allocate.add_argument("--method", default="even", choices=[
            m for m in AllocationMethod.values if m != AllocationMethod.CUSTOM])
        for p in (target, allocate):
            p.add_argument("--reason", default="")
        parsers += [target, allocate]
        effort = sub.add_parser("optimise-effort", help=(
            "Allocate calls for maximum profit; --apply makes them activity targets."))
        effort.add_argument("plan", type=int)
        effort.add_argument("--basis", choices=["account", "segment"], default="account")
        effort.add_argument("--margin", default="0.3", help="Gross margin rate, 0 to 1.")
        effort.add_argument("--cost-per-hour", default="50")
        effort.add_argument("--hours-per-call", default="1")
        effort.add_argument("--call-share", default="0.6")
        effort.add_argument("--first-month", type=int)
        effort.add_argument("--min-calls", action="append", default=[], metavar="TIER=CALLS",
                            help="Minimum calls a month per account of a tier.")
        effort.add_argument("--apply", action="store_true")
        effort.add_argument("--reason", default="")
        parsers.append(effort)
        evaluate = sub.add_parser("evaluate", help=(
            "Every objective against actuals; raises alerts for what is off track."))
        evaluate.add_argument("plan", type=int)
        evaluate.add_argument("--as-of", type=date.fromisoformat)
        parsers.append(evaluate)
        review = sub.add_parser("review", help="Freeze today's numbers with notes.")
        review.add_argument("plan", type=int)
        review.add_argument("--as-of", type=date.fromisoformat)
        review.add_argument("--notes", default="")
        review.add_argument("--decisions", default="")
        replan = sub.add_parser("replan", help=(
            "Lock past months at actuals and spread the rest of a target."))
        replan.add_argument("plan", type=int)
        replan.add_argument("measure", choices=Measure.values)
        replan.add_argument("--as-of", type=date.fromisoformat)
        replan.add_argument("--reason", default="")
        parsers += [review, replan]
        for action in services.TRANSITIONS:
            p = sub.add_parser(action, help=f"{action.capitalize()} the plan.")
            p.add_argument("plan", type=int)
            parsers.append(p)
        for p in parsers:
            p.add_argument("--as", dest="username",
                           help="Act as this user (default: the first active admin).")

    def handle(self, *args, **options) -> None:
        user = self._user(options.get("username"))
        action = options["action"]
        try:
            if action == "list":
                return self._list(user)
            plan = selectors.get_plan(user, options["plan"])
            if action in services.TRANSITIONS:
                plan = services.TRANSITIONS[action](plan, by=user)
                self.stdout.write(f"{plan}: {plan.get_status_display()}.")
            elif action == "target":
                services.set_plan_target(plan, by=user, measure=options["measure"],
                                         total=_amount(options["total"]),
                                         phasing=options["phasing"], reason=options["reason"])
                self._show(plan, user)
            elif action == "allocate":
                parent = Objective.objects.filter(plan=plan, pk=options["objective"]).first()
                if parent is None:
                    raise CommandError(f"Plan {plan.pk} has no objective {options['objective']}.")
                services.allocate(parent, by=user, to=options["to"], method=options["method"],
                                  reason=options["reason"])
                self._show(plan, user)
            elif action == "review":
                from salesplan.planning import reviews

                made = reviews.create_review(plan, by=user,
                                             as_of=options["as_of"] or company_today(),
                                             notes=options["notes"],
                                             decisions=options["decisions"])
                self.stdout.write(f"Review {made.pk} of {made.as_of}: "
                                  f"{len(made.snapshot['rows'])} lines frozen.")
            elif action == "replan":
                from salesplan.planning import reviews

                reviews.replan(plan, by=user, measure=options["measure"],
                               as_of=options["as_of"] or company_today(),
                               reason=options["reason"])
                self._show(plan, user)
            elif action == "evaluate":
                self._evaluate(plan, user, options["as_of"] or company_today())
            elif action == "optimise-effort":
                self._optimise(plan, user, options)
            elif action == "show":
                self._show(plan, user)
            elif action == "reconcile":
                self._reconcile(plan, user, options["measure"])
            else:
                self._actual(plan, user, options["as_of"] or company_today())
        except (ValidationError, PermissionDenied, NotFound) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc

    def _evaluate(self, plan, user, as_of: date) -> None:
        from salesplan.planning import evaluation

        for r in evaluation.evaluate(plan, user, as_of=as_of):
            actual = "not recorded" if r.actual is None else f"{r.actual:,.2f}"
            pacing = "-" if r.pacing is None else f"{r.pacing}%"
            self.stdout.write(f"{r.measure:<16} {'  ' * r.depth}{r.label:<28} target "
                              f"{r.target:>14,.2f}  to date {r.target_to_date:>14,.2f}  actual "
                              f"{actual:>14}  pacing {pacing:>7}  {r.status}")
        alerts = evaluation.evaluate_plan(plan, as_of=as_of)
        self.stdout.write(f"{len(alerts)} open alerts.")
        for a in alerts:
            self.stdout.write(f"  [{a.get_severity_display()}] {a.label}: {a.message} "
                              f"(for {a.manager})")

    def _optimise(self, plan, user, options) -> None:
        from salesplan.planning import effort

        coverage = {}
        for rule in options["min_calls"]:
            tier, _, calls = rule.partition("=")
            coverage[tier] = calls
        params = {"basis": options["basis"], "margin_rate": options["margin"],
                  "cost_per_hour": options["cost_per_hour"],
                  "hours_per_call": options["hours_per_call"],
                  "call_share": options["call_share"], "min_calls_by_tier": coverage}
        if options["first_month"]:
            params["first_month"] = options["first_month"]
        run = effort.start_run(plan, by=user, params=params, background=False)
        if run.status != "succeeded":
            raise CommandError(f"Run {run.pk} failed: {run.message}")
        summary = run.result["summary"]
        self.stdout.write(f"Run {run.pk}: {summary['units']} units, {summary['method']}.")
        self.stdout.write(f"Contribution over {summary['months']} months: today "
                          f"{summary['current_profit']:,.2f}, optimal "
                          f"{summary['optimal_profit']:,.2f} {plan.currency}.")
        spread = summary["reallocation_range"]
        self.stdout.write(f"Reallocating today's hours: {summary['reallocation_gain']:+,.2f} "
                          f"(range {spread['low']:+,.2f} to {spread['high']:+,.2f}); the "
                          f"plan's hours: {summary['added_hours_gain']:+,.2f} more.")
        for r in run.result["reps"]:
            self.stdout.write(f"  {r['name']:<28} calls/month {r['current_calls_per_month']:>8.1f}"
                              f" -> {r['calls_per_month']:>8.1f}  hours {r['hours_used']:>7.1f}"
                              f"/{r['capacity_hours']:<7.1f} one more hour "
                              f"{r['shadow_price']:>9,.2f}")
        if options["apply"]:
            effort.apply_run(run, by=user, reason=options["reason"])
            self.stdout.write("Applied: the call plan is the plan's activity targets.")

    def _user(self, username: str | None) -> User:
        users = User.objects.filter(is_active=True)
        user = (users.filter(username=username).first() if username
                else users.filter(role=Role.ADMIN).order_by("id").first())
        if user is None:
            raise CommandError(f"No active user {username!r}." if username
                               else "No active admin; pass --as USERNAME.")
        return user

    def _list(self, user) -> None:
        for p in selectors.plan_list(user):
            self.stdout.write(f"{p.pk:>5}  FY{p.fiscal_year}  {p.get_status_display():<9}  "
                              f"{p.team or 'Whole company'}  {p.name}")

    def _show(self, plan, user) -> None:
        for row in selectors.objective_rows(plan, user):
            o = row.objective
            months = " ".join(f"{m:>11,.2f}" for m in row.months)
            self.stdout.write(f"{o.pk:>5} {'  ' * row.depth}{o.get_measure_display()} · "
                              f"{o.label}: {row.total:,.2f} | {months}")

    def _reconcile(self, plan, user, measure: str) -> None:
        result = selectors.reconciliation(plan, user, measure)
        for r in result.levels + result.reps + result.marketing:
            top = "-" if r.top_down is None else f"{r.top_down:,.2f}"
            gap = "-" if r.gap is None else f"{r.gap:,.2f}"
            self.stdout.write(f"{r.level:<10} {r.label:<30} top-down {top:>14}  "
                              f"bottom-up {r.bottom_up:>14,.2f}  gap {gap:>14}")
        if result.not_submitted:
            names = ", ".join(str(u) for u in result.not_submitted)
            self.stdout.write(f"Not submitted: {names}")

    def _actual(self, plan, user, as_of: date) -> None:
        for r in selectors.plan_vs_actual(plan, user, as_of=as_of):
            attainment = "-" if r.attainment is None else f"{r.attainment}%"
            self.stdout.write(f"{'  ' * r.depth}{r.label:<30} target {r.target:>14,.2f}  "
                              f"to date {r.target_to_date:>14,.2f}  actual "
                              f"{r.actual_to_date:>14,.2f}  {attainment:>7}  landing "
                              f"{r.projection:>14,.2f}")


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise CommandError(f"The total {text!r} is not a number.") from exc
