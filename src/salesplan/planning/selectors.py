"""Reads of a plan, already restricted to what the user may see: the objectives grid,
the reconciliation of top-down targets with bottom-up commitments, plan vs actual."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet, Sum
from django.db.models.functions import TruncMonth

from salesplan.core.errors import NotFound
from salesplan.core.fiscal import CompanyCalendar
from salesplan.org.models import Role, Team, User
from salesplan.org.selectors import managed_team_ids, team_subtree_ids
from salesplan.pipeline.models import Opportunity, StageKind

from . import access, scope
from .actuals import from_rollup, sees_every_opportunity
from .models import (
    Commitment,
    Level,
    MarketingCommitment,
    Measure,
    MonthlyTarget,
    Objective,
    Plan,
    PlanRevision,
    RunStatus,
)

ZERO = Decimal(0)
CENT = Decimal("0.01")
NOTHING = Decimal("0.00")  # zero money, printed with its cents


def get_plan(user: User, pk: int) -> Plan:
    """The plan if the user may see it; NotFound otherwise (missing or not theirs)."""
    plan = access.visible_plans(user).filter(pk=pk).first()
    if plan is None:
        raise NotFound(f"No plan with id {pk}.")
    return plan


def plan_list(user: User) -> QuerySet[Plan]:
    return access.visible_plans(user)


@dataclass
class ObjectiveRow:
    """One line of the objectives grid: an objective, its depth and its 12 months."""

    objective: Objective
    depth: int
    months: list[Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.months, ZERO)

    @property
    def quarters(self) -> list[Decimal]:
        """Fiscal quarter totals (fiscal months 1–3, 4–6, 7–9, 10–12)."""
        return [sum(self.months[q * 3:q * 3 + 3], ZERO) for q in range(4)]


def visible_objectives(plan: Plan, user: User) -> QuerySet[Objective]:
    rows = plan.objectives.select_related("team", "territory", "rep", "plan")
    return rows if access.sees_every_objective(user) else rows.filter(rep=user)


def objective_rows(plan: Plan, user: User, measure: str | None = None) -> list[ObjectiveRow]:
    """The objectives as a tree (parents before their children), with monthly targets."""
    objectives = visible_objectives(plan, user)
    if measure:
        objectives = objectives.filter(measure=measure)
    months: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO] * 12)
    for oid, month, target in MonthlyTarget.objects.filter(
            objective__in=objectives).values_list("objective_id", "month", "target"):
        months[oid][month - 1] = target
    found = list(objectives.order_by("measure", "id"))
    ids = {o.pk for o in found}
    children: dict[int | None, list[Objective]] = defaultdict(list)
    for o in found:
        children[o.parent_id if o.parent_id in ids else None].append(o)
    rows: list[ObjectiveRow] = []
    stack = [(o, 0) for o in reversed(children[None])]
    while stack:
        objective, depth = stack.pop()
        rows.append(ObjectiveRow(objective, depth, months[objective.pk]))
        stack.extend((c, depth + 1) for c in reversed(children[objective.pk]))
    return rows


def revisions(plan: Plan) -> QuerySet[PlanRevision]:
    return plan.revisions.select_related("created_by")


def get_revision(plan: Plan, number: int) -> PlanRevision:
    found = plan.revisions.filter(number=number).first()
    if found is None:
        raise NotFound(f"Plan {plan.pk} has no revision {number}.")
    return found


def previous_revision(plan: Plan, number: int) -> PlanRevision | None:
    return plan.revisions.filter(number=number - 1).first()


# --- what the plan's pages list (the plan itself already checked with get_plan) -----------


def my_plans(user: User) -> QuerySet[Plan]:
    """The plans the user may see that give them a target of their own, newest first."""
    plans = access.visible_plans(user).filter(objectives__rep=user).distinct()
    return plans.order_by("-fiscal_year", "id")


def creatable_teams(user: User) -> QuerySet[Team]:
    """The teams the user may plan for: every team for an admin, a manager's own."""
    if user.is_admin:
        return Team.objects.all()
    if user.role == Role.MANAGER:
        return Team.objects.filter(pk__in=managed_team_ids(user))
    return Team.objects.none()


def plan_teams(plan: Plan) -> QuerySet[Team]:
    team_ids = scope.plan_team_ids(plan)
    teams = Team.objects.all() if team_ids is None else Team.objects.filter(pk__in=team_ids)
    return teams.order_by("name")


def own_commitments(plan: Plan, user: User, measure: str) -> dict[int, Decimal]:
    """The user's own commitment per fiscal month (1-12)."""
    return {c.month: c.amount for c in Commitment.objects.filter(plan=plan, rep=user,
                                                                 measure=measure)}


def seats(plan: Plan):
    return plan.resources.select_related("user", "team").prefetch_related("leave")


def reviews(plan: Plan) -> list:
    return list(plan.reviews.select_related("created_by"))


def effort_runs(plan: Plan, limit: int = 20) -> list:
    return list(plan.effort_runs.select_related("created_by")[:limit])


def applied_effort_run(plan: Plan):
    """The effort allocation last applied to the plan, if any."""
    return plan.effort_runs.filter(status=RunStatus.SUCCEEDED, applied_at__isnull=False).first()


def revision_lines(revision: PlanRevision, user: User) -> list[dict]:
    """A revision's frozen objectives as the user may see them (reps: their own lines)."""
    if access.sees_every_objective(user):
        return revision.snapshot
    return [line for line in revision.snapshot if line["rep_id"] == user.pk]


@dataclass
class RevisionChange:
    """One objective's yearly target in two revisions (None where it did not exist)."""

    measure: str
    level: str
    label: str
    before: Decimal | None
    after: Decimal | None

    @property
    def change(self) -> Decimal | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


def _line_key(line: dict) -> tuple:
    # Objective ids change when a target is re-allocated; who the line is for does not.
    return (line["measure"], line["level"], line["team_id"], line["territory_id"],
            line["rep_id"], line["product_line"])


def compare_revisions(older: PlanRevision, newer: PlanRevision, user: User) -> list[RevisionChange]:
    """What changed between two revisions of a plan, line by line (reps: their own lines)."""
    def lines(revision: PlanRevision) -> dict[tuple, dict]:
        return {_line_key(r): r for r in revision_lines(revision, user)}

    before, after = lines(older), lines(newer)
    changes = []
    for key in list(before) + [k for k in after if k not in before]:
        line = after.get(key) or before[key]
        old, new = before.get(key), after.get(key)
        changes.append(RevisionChange(line["measure"], line["level"], line["label"],
                                      Decimal(old["total"]) if old else None,
                                      Decimal(new["total"]) if new else None))
    return [c for c in changes if c.before != c.after]


# --- reconciliation ----------------------------------------------------------------------


@dataclass
class ReconciliationRow:
    """Top-down target and bottom-up commitment of one objective or rep, and the gap."""

    label: str
    level: str
    top_down: Decimal | None
    bottom_up: Decimal
    submitted: bool = True

    @property
    def gap(self) -> Decimal | None:
        return None if self.top_down is None else self.bottom_up - self.top_down


@dataclass
class Reconciliation:
    measure: str
    levels: list[ReconciliationRow] = field(default_factory=list)
    reps: list[ReconciliationRow] = field(default_factory=list)
    not_submitted: list[User] = field(default_factory=list)
    marketing: list[ReconciliationRow] = field(default_factory=list)


def reconciliation(plan: Plan, user: User, measure: str = Measure.BOOKINGS) -> Reconciliation:
    """Top-down against bottom-up per level (plan, teams) and per rep, with who is missing."""
    committed: dict[int, Decimal] = {
        rep_id: total.quantize(CENT) for rep_id, total in
        Commitment.objects.filter(plan=plan, measure=measure).values("rep_id")
        .annotate(s=Sum("amount")).values_list("rep_id", "s")}
    reps = list(scope.plan_reps(plan).select_related("team").order_by("last_name", "id"))
    if not access.sees_every_objective(user):
        reps = [r for r in reps if r.pk == user.pk]
    rows = {r.objective.pk: r for r in objective_rows(plan, user, measure)}
    rep_targets = {r.objective.rep_id: r.total for r in rows.values()
                   if r.objective.level == Level.REP}
    result = Reconciliation(measure)
    for rep in reps:
        result.reps.append(ReconciliationRow(str(rep), Level.REP, rep_targets.get(rep.pk),
                                             committed.get(rep.pk, NOTHING), rep.pk in committed))
        if rep.pk not in committed:
            result.not_submitted.append(rep)
    if access.sees_every_objective(user):
        team_of = {r.pk: r.team_id for r in reps}
        for row in rows.values():
            o = row.objective
            if o.level in (Level.COMPANY, Level.TEAM):
                teams = set(team_subtree_ids(o.team_id)) if o.team_id else None
                bottom = sum((v for rid, v in committed.items()
                              if teams is None or team_of.get(rid) in teams), ZERO)
                result.levels.append(ReconciliationRow(o.label, o.level, row.total, bottom))
        result.marketing = marketing_reconciliation(plan, user)
    return result


def marketing_reconciliation(plan: Plan, user: User) -> list[ReconciliationRow]:
    """Per team and measure: what marketing committed against the team's target for it."""
    committed = (MarketingCommitment.objects.filter(plan=plan)
                 .values("team_id", "team__name", "measure").annotate(s=Sum("amount"))
                 .order_by("team__name", "measure"))
    targets: dict[tuple[int | None, str], Decimal] = {}
    for row in objective_rows(plan, user):
        o = row.objective
        if o.level in (Level.TEAM, Level.COMPANY):
            targets.setdefault((o.team_id, o.measure), row.total)
    return [ReconciliationRow(f"{c['team__name']} · {Measure(c['measure']).label}",
                              "marketing", targets.get((c["team_id"], c["measure"])),
                              c["s"].quantize(CENT))
            for c in committed]


# --- plan vs actual ----------------------------------------------------------------------


@dataclass
class ActualRow:
    """One objective against reality: monthly target and actual, to-date figures,
    attainment and a run-rate projection to the end of the fiscal year."""

    label: str
    level: str
    depth: int
    targets: list[Decimal]
    actuals: list[Decimal]
    target_to_date: Decimal
    actual_to_date: Decimal
    projection: Decimal
    pipeline: Decimal = ZERO
    weighted_pipeline: Decimal = ZERO

    @property
    def forecast_landing(self) -> Decimal:
        """Booked so far plus the open pipeline weighted by its probability."""
        return self.actual_to_date + self.weighted_pipeline

    @property
    def coverage(self) -> Decimal | None:
        """Open pipeline as a multiple of the target still to book (None: target met)."""
        remaining = self.target - self.actual_to_date
        if remaining <= 0:
            return None
        return (self.pipeline / remaining).quantize(Decimal("0.01"))

    @property
    def target(self) -> Decimal:
        return sum(self.targets, ZERO)

    @property
    def attainment(self) -> Decimal | None:
        """Actual to date as a percentage of the target to date."""
        if not self.target_to_date:
            return None
        return (100 * self.actual_to_date / self.target_to_date).quantize(Decimal("0.1"))

    @property
    def gap(self) -> Decimal:
        return self.target - self.actual_to_date


def _elapsed_share(calendar: CompanyCalendar, start: date, end: date, as_of: date) -> Decimal:
    """How much of a period has gone by on `as_of`, counted in selling days."""
    if as_of < start:
        return ZERO
    if as_of >= end:
        return Decimal(1)
    total = calendar.selling_days(start, end)
    return Decimal(calendar.selling_days(start, as_of)) / total if total else ZERO


def plan_vs_actual(plan: Plan, user: User, *, as_of: date,
                   calendar: CompanyCalendar | None = None) -> list[ActualRow]:
    """Bookings objectives against won opportunities the user may see, closing in each
    fiscal month. Targets to date count the current month pro rata of its selling days;
    the projection extends the actual run rate over the year's selling days.

    Rep, team and plan lines are summed from one query grouped by owner and month, so
    the number of queries does not grow with the number of reps or teams."""
    calendar = calendar or CompanyCalendar.current()
    months = calendar.months(plan.fiscal_year)
    start, end = months[0].start, months[-1].end
    visible = scope.won_bookings(plan, start, min(end, as_of)).filter(
        pk__in=Opportunity.objects.visible_to(user).values("pk"))
    shares = [_elapsed_share(calendar, m.start, m.end, as_of) for m in months]
    year_share = _elapsed_share(calendar, start, end, as_of)
    month_index = {(m.start.year, m.start.month): i for i, m in enumerate(months)}
    open_deals = Opportunity.objects.visible_to(user).filter(
        status=StageKind.OPEN, currency=plan.currency, close_date__gt=as_of,
        close_date__gte=start, close_date__lte=end)
    won_rows = pipeline_rows = weighted_rows = None
    rolled = (from_rollup(plan, months, as_of)
              if sees_every_opportunity(user) and start <= as_of else None)
    if rolled is not None:
        # Whole months from the opportunity rollup (see planning.actuals).
        won_rows, pipeline_rows, weighted_rows = rolled
    actuals_of = _ActualsByOwner(visible, month_index, rows=won_rows)
    pipeline_of = _ActualsByOwner(open_deals, month_index, rows=pipeline_rows)
    weighted_of = _ActualsByOwner(open_deals, month_index, value=ExpressionWrapper(
        F("amount") * F("probability") / 100, output_field=DecimalField(max_digits=22,
                                                                         decimal_places=4)),
        rows=weighted_rows)
    result = []
    for row in objective_rows(plan, user, Measure.BOOKINGS):
        if row.objective.level == Level.PRODUCT_LINE:
            continue  # opportunities carry no product line yet
        actuals = actuals_of.line(row.objective)
        actual = sum(actuals, ZERO)
        to_date = sum((t * s for t, s in zip(row.months, shares, strict=True)), ZERO)
        projection = actual / year_share if year_share else ZERO
        result.append(ActualRow(
            row.objective.label, row.objective.level, row.depth, row.months, actuals,
            to_date.quantize(CENT, ROUND_HALF_EVEN), actual,
            projection.quantize(CENT, ROUND_HALF_EVEN),
            sum(pipeline_of.line(row.objective), ZERO),
            sum(weighted_of.line(row.objective), ZERO)))
    return result


class _ActualsByOwner:
    """Won bookings by owner and fiscal month, read once and summed per objective."""

    def __init__(self, opportunities: QuerySet, month_index: dict[tuple[int, int], int],
                 value=None, rows=None):
        self.opportunities = opportunities
        self.month_index = month_index
        self.value = value if value is not None else F("amount")
        self.by_owner: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO] * 12)
        grouped = self._grouped(opportunities, "owner_id") if rows is None else (
            (owner_id, month_index[(month.year, month.month)],
             Decimal(amount).quantize(CENT, ROUND_HALF_EVEN))
            for owner_id, month, amount in rows)
        for owner_id, month_number, amount in grouped:
            self.by_owner[owner_id][month_number] += amount
        self.team_of = dict(User.objects.filter(pk__in=list(self.by_owner))
                            .values_list("id", "team_id"))
        self.subtrees: dict[int, set[int]] = {}

    def _grouped(self, opportunities: QuerySet, key: str):
        rows = (opportunities.annotate(m=TruncMonth("close_date")).values(key, "m")
                .annotate(s=Sum(self.value)).values_list(key, "m", "s"))
        for owner_id, month, amount in rows:
            # SQLite sums decimals without their scale: give every amount its cents back.
            yield (owner_id, self.month_index[(month.year, month.month)],
                   Decimal(amount).quantize(CENT, ROUND_HALF_EVEN))

    def _owners_in(self, team_ids: set[int] | None) -> list[int]:
        return [o for o in self.by_owner if team_ids is None or self.team_of.get(o) in team_ids]

    def _subtree(self, team_id: int) -> set[int]:
        if team_id not in self.subtrees:
            self.subtrees[team_id] = set(team_subtree_ids(team_id))
        return self.subtrees[team_id]

    def line(self, objective: Objective) -> list[Decimal]:
        if objective.level == Level.REP:
            found = self.by_owner.get(objective.rep_id) if objective.rep_id else None
            return list(found or [ZERO] * 12)
        if objective.level == Level.TEAM and objective.team_id:
            owners = self._owners_in(self._subtree(objective.team_id))
        elif objective.level == Level.COMPANY:
            plan_team = objective.plan.team_id
            owners = self._owners_in(None if plan_team is None else self._subtree(plan_team))
        else:
            return self._other(objective)
        totals = [ZERO] * 12
        for owner in owners:
            totals = [a + b for a, b in zip(totals, self.by_owner[owner], strict=True)]
        return totals

    def _other(self, objective: Objective) -> list[Decimal]:
        """Territory lines: one query each (accounts, not owners, decide)."""
        totals = [ZERO] * 12
        opportunities = scope.objective_opportunities(objective, self.opportunities)
        if opportunities is not None:
            for _, month, amount in self._grouped(opportunities, "currency"):
                totals[month] += amount
        return totals


# --- Pacing of the current quarter (the executive's home page) -----------------------------


@dataclass
class Pacing:
    """A plan's bookings target for the current fiscal quarter against what is booked:
    `expected` is the target pro rata of the selling days gone by (the pace), `gap` what
    is booked beyond it (negative: behind)."""

    plan: Plan
    quarter: int
    currency: str
    target: Decimal
    expected: Decimal
    actual: Decimal

    @property
    def gap(self) -> Decimal:
        return self.actual - self.expected

    @property
    def attainment(self) -> Decimal | None:
        """Booked as a percentage of the whole quarter's target."""
        if not self.target:
            return None
        return (100 * self.actual / self.target).quantize(Decimal("0.1"))


PACED_STATUSES = ("approved", "active")


def pacing(user: User, *, as_of: date, limit: int = 5) -> list[Pacing]:
    """The current fiscal quarter's pace of the approved or active plans of this fiscal
    year the user sees (company plan first, then by team name; at most `limit`): each
    plan's top bookings objective against the won deals the user sees in the plan's
    scope. A fixed number of queries, whatever the number of deals or plans shown."""
    calendar = CompanyCalendar.current()
    fiscal_year = calendar.year_of(as_of)
    quarter = next(q for q in calendar.quarters(fiscal_year) if q.contains(as_of))
    months = calendar.months(fiscal_year)[(quarter.number - 1) * 3:quarter.number * 3]
    plans = list(access.visible_plans(user).filter(
        fiscal_year=fiscal_year, status__in=PACED_STATUSES)
        .order_by(F("team__name").asc(nulls_first=True), "name", "id")[:limit])
    # A plan's top bookings objective: the company's, or its team's (with the team).
    tops: dict[int, tuple[int, int | None]] = {}
    for plan_id, oid, level, team_id in Objective.objects.filter(
            plan__in=plans, parent__isnull=True, level__in=(Level.COMPANY, Level.TEAM),
            measure=Measure.BOOKINGS).order_by("-id").values_list(
            "plan_id", "id", "level", "team_id"):
        tops[plan_id] = (oid, team_id if level == Level.TEAM else None)
    targets: dict[tuple[int, int], Decimal] = {
        (oid, month): amount for oid, month, amount in MonthlyTarget.objects.filter(
            objective_id__in=[oid for oid, _ in tops.values()],
            month__in=[m.number for m in months])
        .values_list("objective_id", "month", "target")}
    won = (scope.won_bookings_of(user, quarter.start, min(quarter.end, as_of))
           .order_by().values("owner__team_id", "currency").annotate(s=Sum("amount"))
           .values_list("owner__team_id", "currency", "s"))
    booked: dict[tuple[int | None, str], Decimal] = {
        (team, currency): Decimal(amount or 0) for team, currency, amount in won}
    children: dict[int | None, list[int]] = defaultdict(list)
    for team_id, parent_id in Team.objects.values_list("id", "parent_id"):
        children[parent_id].append(team_id)
    result = []
    for plan in plans:
        if plan.pk not in tops:
            continue
        objective, objective_team = tops[plan.pk]
        scope_team = objective_team or plan.team_id
        target = sum((targets.get((objective, m.number), ZERO) for m in months), ZERO)
        expected = sum((targets.get((objective, m.number), ZERO)
                        * _elapsed_share(calendar, m.start, m.end, as_of) for m in months),
                       ZERO)
        teams = None if scope_team is None else _subtree(children, scope_team)
        actual = sum((amount for (team, currency), amount in booked.items()
                      if currency == plan.currency and (teams is None or team in teams)),
                     ZERO)
        result.append(Pacing(plan, quarter.number, plan.currency, target,
                             expected.quantize(CENT, ROUND_HALF_EVEN),
                             actual.quantize(CENT, ROUND_HALF_EVEN)))
    return result


def _subtree(children: dict[int | None, list[int]], root: int) -> set[int]:
    found, stack = set(), [root]
    while stack:
        current = stack.pop()
        found.add(current)
        stack.extend(children[current])
    return found


@dataclass(frozen=True)
class StatusImpact:
    """What closing (or reopening) a plan touches, for the confirmation step."""

    objectives: int
    rep_targets: int
    reps: int
    teams: int


def status_impact(plan: Plan) -> StatusImpact:
    """Counted over the whole plan (the confirmation is for those who may close it)."""
    objectives = Objective.objects.filter(plan=plan)
    rep_lines = objectives.filter(level=Level.REP)
    teams = set(objectives.exclude(team=None).values_list("team_id", flat=True))
    teams |= set(rep_lines.exclude(rep__team=None).values_list("rep__team_id", flat=True))
    return StatusImpact(objectives=objectives.count(), rep_targets=rep_lines.count(),
                        reps=rep_lines.values("rep_id").distinct().count(), teams=len(teams))
