"""The plan against reality, for every measure at every level, and the alerts it raises.

For each objective: actual by fiscal month and to date, attainment of the year's target,
pacing against the target to date (the phased monthly targets carry the seasonality;
the current month counts by its selling days elapsed), the gap, the forecast landing
(actual plus open pipeline closing in the year, weighted by probability), pipeline
coverage of the target still to book, and the leading indicator — activities done
against the activity targets of the same line.

Actuals are counted from the records the viewer may see, grouped once by owner and
month per measure (so the number of queries does not grow with reps or teams):

    bookings          won opportunities by close date (amount, plan currency)
    pipeline created  opportunities by creation date (amount, plan currency)
    new accounts      accounts by creation date
    activities        calls, meetings, emails and tasks by the day they were done
    leads             leads by creation date
    gross margin, units   not recorded on opportunities yet: no actual (shown as such)
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import chain

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone

from salesplan.activities.models import Activity
from salesplan.core.clock import company_datetime
from salesplan.core.fiscal import CompanyCalendar
from salesplan.customers.models import Account, Lead
from salesplan.inbox import services as inbox
from salesplan.inbox.models import Kind
from salesplan.org.models import Role, Team, User
from salesplan.pipeline.models import Opportunity, StageKind

from . import scope
from .actuals import from_rollup, sees_every_opportunity
from .models import AlertSeverity, Level, Measure, Objective, Plan, PlanAlert
from .selectors import _elapsed_share, objective_rows

ZERO = Decimal(0)
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
WATCH_BELOW = Decimal(95)  # pacing under this: watch
OFF_TRACK_BELOW = Decimal(85)  # pacing under this: off track
NOT_RECORDED = {Measure.GROSS_MARGIN, Measure.UNITS}


@dataclass
class EvaluationRow:
    """One objective against reality."""

    objective_id: int
    measure: str
    level: str
    label: str
    depth: int
    team_id: int | None
    rep_id: int | None
    targets: list[Decimal]
    actuals: list[Decimal] | None  # None: the measure is not recorded
    target_to_date: Decimal
    pipeline: Decimal | None = None
    weighted_pipeline: Decimal | None = None
    activities_planned: Decimal | None = None
    activities_done: Decimal | None = None

    @property
    def target(self) -> Decimal:
        return sum(self.targets, ZERO)

    @property
    def actual(self) -> Decimal | None:
        return None if self.actuals is None else sum(self.actuals, ZERO)

    @property
    def attainment(self) -> Decimal | None:
        """Actual as a percentage of the year's target."""
        if self.actual is None or not self.target:
            return None
        return (100 * self.actual / self.target).quantize(TENTH, ROUND_HALF_EVEN)

    @property
    def pacing(self) -> Decimal | None:
        """Actual as a percentage of the target to date (seasonality in the phasing)."""
        if self.actual is None or not self.target_to_date:
            return None
        return (100 * self.actual / self.target_to_date).quantize(TENTH, ROUND_HALF_EVEN)

    @property
    def gap(self) -> Decimal | None:
        return None if self.actual is None else self.target - self.actual

    @property
    def forecast_landing(self) -> Decimal | None:
        if self.actual is None or self.weighted_pipeline is None:
            return None
        return (self.actual + self.weighted_pipeline).quantize(CENT, ROUND_HALF_EVEN)

    @property
    def coverage(self) -> Decimal | None:
        """Open pipeline as a multiple of the target still to book (None: met)."""
        if self.pipeline is None or self.gap is None or self.gap <= 0:
            return None
        return (self.pipeline / self.gap).quantize(CENT, ROUND_HALF_EVEN)

    @property
    def leading(self) -> Decimal | None:
        """Activities done as a percentage of those planned to date."""
        if not self.activities_planned or self.activities_done is None:
            return None
        return (100 * self.activities_done / self.activities_planned).quantize(TENTH)

    @property
    def status(self) -> str:
        if self.pacing is None:
            return "no data" if self.actual is None else "not started"
        if self.pacing < OFF_TRACK_BELOW:
            return AlertSeverity.OFF_TRACK
        if self.pacing < WATCH_BELOW:
            return AlertSeverity.WATCH
        return "on track"


class _ByOwner:
    """One measure's actuals by owner and fiscal month, summed per objective line."""

    def __init__(self, rows, month_index: dict[tuple[int, int], int], team_of: dict,
                 subtree):
        self.by_owner: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO] * 12)
        for owner_id, month, value in rows:
            index = month_index.get((month.year, month.month))
            if index is not None:
                self.by_owner[owner_id][index] += Decimal(value).quantize(CENT, ROUND_HALF_EVEN)
        self.team_of = team_of
        self.subtree = subtree
        # Owners summed per team once, so a team line adds up teams, not owners.
        self.by_team: dict[int | None, list[Decimal]] = defaultdict(lambda: [ZERO] * 12)
        for owner, months in self.by_owner.items():
            total = self.by_team[team_of.get(owner)]
            for i, v in enumerate(months):
                total[i] += v

    def line(self, objective: Objective) -> list[Decimal] | None:
        if objective.level == Level.REP:
            return list(self.by_owner.get(objective.rep_id or 0) or [ZERO] * 12)
        if objective.level == Level.TEAM and objective.team_id:
            teams: set[int] | None = self.subtree(objective.team_id)
        elif objective.level == Level.COMPANY:
            plan_team = objective.plan.team_id
            teams = None if plan_team is None else self.subtree(plan_team)
        else:
            return None  # territory and product lines: counted by accounts, not owners
        totals = [ZERO] * 12
        for team, months in self.by_team.items():
            if teams is None or team in teams:
                totals = [a + b for a, b in zip(totals, months, strict=True)]
        return totals


def _grouped(rows: QuerySet, day_field: str, value) -> QuerySet:
    return (rows.annotate(m=TruncMonth(day_field)).values("owner_id", "m")
            .annotate(v=value).values_list("owner_id", "m", "v"))


def _by_company_month(rows: QuerySet, field: str, months, start: date, end: date,
                      value) -> Iterator[tuple[int, date, object]]:
    """(owner, month start, value) of the rows whose instant falls on a company day from
    `start` to `end`, each put in its fiscal month by comparing instants with the months'
    bounds in SQL: no per-row date or month cast, which SQLite does in Python (384,000
    activities took 10 s at 100,000 accounts) and no index can serve."""
    def at(day: date):
        return company_datetime(day, time.min)

    bounds = [(i, m) for i, m in enumerate(months) if m.end >= start and m.start <= end]
    if not bounds:
        return
    bucket = Case(*[When(**{f"{field}__gte": at(max(m.start, start)),
                            f"{field}__lt": at(min(m.end, end) + timedelta(days=1))},
                         then=Value(i)) for i, m in bounds], output_field=IntegerField())
    found = (rows.filter(**{f"{field}__gte": at(start),
                            f"{field}__lt": at(end + timedelta(days=1))})
             .order_by().annotate(bucket=bucket).filter(bucket__isnull=False)
             .values("owner_id", "bucket").annotate(v=value)
             .values_list("owner_id", "bucket", "v"))
    for owner_id, index, total in found:
        yield owner_id, months[index].start, total


def _actual_sources(plan: Plan, user: User, months, start: date,
                    end: date) -> dict[str, Iterable]:
    """Each measure's (owner, month, value) rows, read in the disjoint parts of what the
    user sees (`visible_parts`): their teams' records on the owner indexes, then the
    rest of their territories' accounts' records from those accounts. With one query
    over "owned by the team or on a territory account", PostgreSQL read the manager's
    activities and deals of the year in three processes (18 ms each for the activities
    at 100,000 accounts; 4.5 + 10.5 ms in one process as parts). The parts' owners
    differ, so their rows never meet in one (owner, month)."""
    opportunities = Opportunity.objects.filter(currency=plan.currency).visible_parts(user)

    def by_month(parts: Sequence[QuerySet], field: str, value) -> Iterable:
        return chain.from_iterable(_by_company_month(part, field, months, start, end, value)
                                   for part in parts)

    return {
        Measure.BOOKINGS: chain.from_iterable(_grouped(part.filter(
            status=StageKind.WON, close_date__gte=start, close_date__lte=end),
            "close_date", Sum("amount")) for part in opportunities),
        Measure.PIPELINE_CREATED: by_month(opportunities, "created_at", Sum("amount")),
        Measure.NEW_ACCOUNTS: by_month(Account.objects.visible_parts(user), "created_at",
                                       Count("id")),
        Measure.ACTIVITIES: by_month(Activity.objects.filter(done=True).visible_parts(user),
                                     "done_at", Count("id")),
        Measure.LEADS: by_month(Lead.objects.visible_parts(user), "created_at", Count("id")),
    }


def _line_key(o: Objective) -> tuple:
    return (o.level, o.team_id, o.territory_id, o.rep_id, o.product_line)


def evaluate(plan: Plan, user: User, *, as_of: date,
             calendar: CompanyCalendar | None = None) -> list[EvaluationRow]:
    """Every objective the user may see, against the actuals the user may see."""
    calendar = calendar or CompanyCalendar.current()
    months = calendar.months(plan.fiscal_year)
    start, end = months[0].start, months[-1].end
    upto = min(end, as_of)
    shares = [_elapsed_share(calendar, m.start, m.end, as_of) for m in months]
    month_index = {(m.start.year, m.start.month): i for i, m in enumerate(months)}
    lines = objective_rows(plan, user)
    measures = {r.objective.measure for r in lines}
    subtrees: dict[int, set[int]] = {}
    children: dict[int | None, list[int]] = defaultdict(list)
    for tid, parent_id in Team.objects.values_list("id", "parent_id"):
        children[parent_id].append(tid)

    def subtree(team_id: int) -> set[int]:
        """The team and every team below it (the tree read once)."""
        if team_id not in subtrees:
            found, stack = set(), [team_id]
            while stack:
                current = stack.pop()
                if current not in found:
                    found.add(current)
                    stack.extend(children[current])
            subtrees[team_id] = found
        return subtrees[team_id]

    team_of = dict(User.objects.values_list("id", "team_id"))
    sources: dict[str, Iterable] = dict(_actual_sources(plan, user, months, start, upto))
    open_deals = Opportunity.objects.filter(
        status=StageKind.OPEN, currency=plan.currency, close_date__gt=as_of,
        close_date__gte=start, close_date__lte=end).visible_parts(user)
    pipeline_rows: Iterable = chain.from_iterable(
        _grouped(part, "close_date", Sum("amount")) for part in open_deals)
    weighted_rows: Iterable = chain.from_iterable(
        _grouped(part, "close_date", Sum(_WEIGHTED)) for part in open_deals)
    rolled = (from_rollup(plan, months, as_of)
              if sees_every_opportunity(user) and start <= as_of else None)
    if rolled is not None:
        sources[Measure.BOOKINGS], pipeline_rows, weighted_rows = rolled
    actuals = {m: _ByOwner(sources[m], month_index, team_of, subtree)
               for m in measures if m in sources}
    pipeline = _ByOwner(pipeline_rows, month_index, team_of, subtree)
    weighted = _ByOwner(weighted_rows, month_index, team_of, subtree)
    activity_targets = {_line_key(r.objective): r.months for r in lines
                        if r.objective.measure == Measure.ACTIVITIES}
    activity_actuals = actuals.get(Measure.ACTIVITIES) or _ByOwner(
        sources[Measure.ACTIVITIES], month_index, team_of, subtree)
    result = []
    for row in lines:
        o = row.objective
        found = actuals[o.measure].line(o) if o.measure in actuals else None
        if o.level == Level.TERRITORY and o.measure == Measure.BOOKINGS:
            found = _territory_bookings(o, plan, user, start, upto, month_index)
        item = EvaluationRow(
            o.pk, o.measure, o.level, o.label, row.depth, o.team_id, o.rep_id, row.months,
            found, sum((t * s for t, s in zip(row.months, shares, strict=True)), ZERO)
            .quantize(CENT, ROUND_HALF_EVEN))
        if o.measure == Measure.BOOKINGS and found is not None:
            item.pipeline = _sum(pipeline.line(o))
            item.weighted_pipeline = _sum(weighted.line(o))
        planned = activity_targets.get(_line_key(o))
        if planned is not None:
            item.activities_planned = sum((t * s for t, s in zip(planned, shares, strict=True)),
                                          ZERO).quantize(CENT, ROUND_HALF_EVEN)
            item.activities_done = _sum(activity_actuals.line(o))
        result.append(item)
    return result


_WEIGHTED = ExpressionWrapper(F("amount") * F("probability") / 100,
                             output_field=DecimalField(max_digits=22, decimal_places=4))


def _sum(values: list[Decimal] | None) -> Decimal | None:
    return None if values is None else sum(values, ZERO)


def _territory_bookings(objective, plan, user, start, end, month_index) -> list[Decimal]:
    rows = scope.objective_opportunities(objective, Opportunity.objects.visible_to(user).filter(
        status=StageKind.WON, currency=plan.currency, close_date__gte=start,
        close_date__lte=end))
    totals = [ZERO] * 12
    if rows is not None:
        for month, value in (rows.annotate(m=TruncMonth("close_date")).values("m")
                             .annotate(v=Sum("amount")).values_list("m", "v")):
            totals[month_index[(month.year, month.month)]] += Decimal(value).quantize(CENT)
    return totals


# --- alerts --------------------------------------------------------------------------------


def _responsible(plan: Plan, row: EvaluationRow, teams: dict[int, Team],
                 rep_team: dict) -> User | None:
    """Who answers for a line: a rep's team manager, a team's manager, else the owner."""
    team_id = rep_team.get(row.rep_id) if row.rep_id else row.team_id
    team = teams.get(team_id) if team_id else None
    return team.manager if team is not None and team.manager_id else plan.owner


def evaluate_plan(plan: Plan, *, as_of: date) -> list[PlanAlert]:
    """Evaluate the whole plan (as its owner sees it) and keep one open alert per line
    that is off track or to watch; lines back on track have their alert resolved."""
    from django.db import transaction

    viewer = plan.owner if plan.owner.role != Role.REP else None
    if viewer is None:
        return []
    rows = [r for r in evaluate(plan, viewer, as_of=as_of)
            if r.status in (AlertSeverity.OFF_TRACK, AlertSeverity.WATCH)]
    teams = Team.objects.select_related("manager").in_bulk()
    rep_team = dict(User.objects.values_list("id", "team_id"))
    objectives = {o.pk: o for o in plan.objectives.all()}
    now = timezone.now()
    raised = []
    with transaction.atomic():
        keys = set()
        for row in rows:
            o = objectives[row.objective_id]
            key = ":".join(str(x) for x in (o.measure, *_line_key(o)))[:120]
            keys.add(key)
            message = (f"{Measure(row.measure).label} at {row.pacing}% of the target to date "
                       f"({row.actual:,.2f} of {row.target_to_date:,.2f}); gap to the year's "
                       f"target {row.gap:,.2f}.")
            alert, _ = PlanAlert.objects.update_or_create(
                plan=plan, key=key, resolved_at=None, defaults={
                    "objective": o, "measure": row.measure, "level": row.level,
                    "label": row.label, "severity": row.status, "message": message[:500],
                    "manager": _responsible(plan, row, teams, rep_team),
                    "rep_id": row.rep_id, "as_of": as_of, "pacing": row.pacing})
            raised.append(alert)
            _tell(alert)
        gone = PlanAlert.objects.filter(plan=plan, resolved_at__isnull=True).exclude(
            key__in=keys)
        for pk in gone.values_list("pk", flat=True):
            inbox.close(f"plan-alert:{pk}")
        gone.update(resolved_at=now)
    return raised


def _tell(alert: PlanAlert) -> None:
    """The manager who answers for an alert finds it in their inbox until it resolves
    (a manager who moved on leaves it to the new one)."""
    key = f"plan-alert:{alert.pk}"
    inbox.close(key, except_user_ids=[alert.manager_id] if alert.manager_id else [])
    if alert.manager_id:
        inbox.post(alert.manager_id, Kind.PLAN_ALERT, key,
                   title=f"{alert.get_severity_display()}: {alert.label} ({alert.plan.name})",
                   detail=alert.message, url=reverse("web:planning:alerts"))


def visible_alerts(user: User, plan: Plan | None = None) -> QuerySet[PlanAlert]:
    """Open alerts the user answers for (admins and executives: all they may see; reps:
    their own lines)."""
    from . import access

    alerts = PlanAlert.objects.filter(resolved_at__isnull=True,
                                      plan__in=access.visible_plans(user))
    if plan is not None:
        alerts = alerts.filter(plan=plan)
    if user.role == Role.REP:
        return alerts.filter(rep=user).select_related("plan")
    if user.role == Role.MANAGER:
        return alerts.filter(manager=user).select_related("plan") if plan is None else \
            alerts.select_related("plan")
    return alerts.select_related("plan", "manager")
