"""The forecast roll-up of one fiscal quarter: reps' latest submissions summed up the
team tree, with managers' adjustments replacing a team's figures where they exist.

A team's rolled-up figure is the sum of its own reps' latest submissions and its child
teams' effective figures; its effective figure is its latest adjustment if there is
one, else the rolled-up figure. So a regional manager's adjustment of a team is what the
region above sums, and the company total is the sum of the top teams' effective figures.
Figures are cumulative: commit ⊆ best case ⊆ pipeline.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Sum

from salesplan.core.clock import company_date
from salesplan.core.fiscal import FiscalPeriod
from salesplan.org.models import Role, Team, User
from salesplan.pipeline.models import Opportunity, StageKind

from .models import ForecastAdjustment, ForecastSubmission

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Figures:
    commit: Decimal = ZERO
    best_case: Decimal = ZERO
    pipeline: Decimal = ZERO

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(self.commit + other.commit, self.best_case + other.best_case,
                       self.pipeline + other.pipeline)

    @classmethod
    def of(cls, row) -> "Figures":
        return cls(row.commit, row.best_case, row.pipeline)


@dataclass
class RepLine:
    rep: User
    submission: ForecastSubmission | None
    closed_won: Decimal
    open_pipeline: Decimal

    @property
    def figures(self) -> Figures:
        return Figures.of(self.submission) if self.submission else Figures()


@dataclass
class TeamLine:
    team: Team
    depth: int
    rolled_up: Figures = field(default_factory=Figures)
    adjustment: ForecastAdjustment | None = None
    closed_won: Decimal = ZERO
    open_pipeline: Decimal = ZERO
    reps: list[RepLine] = field(default_factory=list)
    submitted: int = 0
    forecasters: int = 0

    @property
    def effective(self) -> Figures:
        return Figures.of(self.adjustment) if self.adjustment else self.rolled_up


@dataclass
class Rollup:
    period: FiscalPeriod
    currency: str
    teams: list[TeamLine]  # tree order, only the teams asked for
    company: Figures
    company_closed_won: Decimal
    unassigned: list[RepLine]  # forecasters without a team


def _latest(rows) -> dict:
    latest: dict = {}
    for key, row in rows:
        latest[key] = row  # rows come oldest first, so the last one wins
    return latest


def _amounts_by_owner(period: FiscalPeriod, currency: str, status: str,
                      until: date | None = None, *,
                      owners: list[int] | None = None) -> dict[int, Decimal]:
    """Amounts per owner for the quarter, of the given owners (a manager's teams) or
    company-wide: from the report rollups for a whole quarter, from the deals when only
    those closing by `until` count (a snapshot of a past week)."""
    if until is None or until >= period.end:
        from salesplan.metrics.selectors import open_or_won_amounts

        summed = open_or_won_amounts(currency=currency, status=status, start=period.start,
                                     end=period.end, dims=("owner",), owners=owners)
        if summed is not None:
            return {owner: amount for (owner,), amount in summed.items()}
    return _sum_by_owner(period, currency, status, until, owners)


def _sum_by_owner(period: FiscalPeriod, currency: str, status: str, until: date | None,
                  owners: list[int] | None = None) -> dict[int, Decimal]:
    last = min(period.end, until) if until else period.end
    deals = Opportunity.objects.filter(status=status, currency=currency,
                                       close_date__gte=period.start, close_date__lte=last)
    if owners is not None:
        deals = deals.filter(owner_id__in=owners)
    rows = deals.order_by().values("owner_id").annotate(total=Sum("amount"))
    return {r["owner_id"]: (r["total"] or ZERO).quantize(CENT) for r in rows}


def _subtree(team_ids: set[int], children: dict[int | None, list[Team]]) -> set[int]:
    """The teams and every team below them."""
    found: set[int] = set()
    stack = list(team_ids)
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(child.pk for child in children.get(current, []))
    return found


def build_rollup(period: FiscalPeriod, currency: str, *, team_ids: set[int] | None = None,
                 as_of: datetime | None = None) -> Rollup:
    """The roll-up of the whole organisation, returning the lines of `team_ids` (all
    teams when None). With `as_of`, only the calls made and deals won by then count
    (a snapshot of a past week). Four queries whatever the number of reps and teams.

    A team's figures depend only on the teams below it, so with `team_ids` only their
    subtrees' reps, submissions and adjustments are read (a manager's dashboard card
    read every rep of the company to show one team); the company figures then cover
    those subtrees only, and callers show them only to whoever sees every team."""
    teams = list(Team.objects.order_by("name", "pk"))
    children: dict[int | None, list[Team]] = defaultdict(list)
    for team in teams:
        children[team.parent_id].append(team)
    subtree = None if team_ids is None else _subtree(team_ids, children)
    submissions_qs = ForecastSubmission.objects.filter(
        fiscal_year=period.fiscal_year, quarter=period.number, currency=currency)
    adjustments_qs = ForecastAdjustment.objects.filter(
        fiscal_year=period.fiscal_year, quarter=period.number, currency=currency)
    if as_of is not None:
        submissions_qs = submissions_qs.filter(submitted_at__lte=as_of)
        adjustments_qs = adjustments_qs.filter(adjusted_at__lte=as_of)
    if subtree is not None:
        submissions_qs = submissions_qs.filter(rep__team_id__in=subtree)
        adjustments_qs = adjustments_qs.filter(team_id__in=subtree)
    submissions = _latest((s.rep_id, s) for s in submissions_qs.order_by("submitted_at", "id"))
    adjustments = _latest((a.team_id, a) for a in adjustments_qs.select_related(
        "adjusted_by").order_by("adjusted_at", "id"))
    forecasters = User.objects.filter(is_active=True).filter(
        role=Role.REP) | User.objects.filter(pk__in=list(submissions))
    if subtree is not None:
        forecasters = forecasters.filter(team_id__in=subtree)
    # The teams shown need only the deals of their own subtrees' reps.
    owners = None if subtree is None else list(forecasters.values_list("pk", flat=True))
    won = _amounts_by_owner(period, currency, StageKind.WON,
                            company_date(as_of) if as_of else None, owners=owners)
    open_amounts = _amounts_by_owner(period, currency, StageKind.OPEN, owners=owners)
    reps_by_team: dict[int | None, list[RepLine]] = defaultdict(list)
    for rep in forecasters.order_by("last_name", "first_name", "pk"):
        reps_by_team[rep.team_id].append(RepLine(rep, submissions.get(rep.pk),
                                                 won.get(rep.pk, ZERO),
                                                 open_amounts.get(rep.pk, ZERO)))
    lines: list[TeamLine] = []

    def visit(team: Team, depth: int) -> TeamLine:
        line = TeamLine(team, depth, adjustment=adjustments.get(team.pk),
                        reps=reps_by_team.get(team.pk, []))
        lines.append(line)
        total = Figures()
        for rep_line in line.reps:
            total += rep_line.figures
            line.closed_won += rep_line.closed_won
            line.open_pipeline += rep_line.open_pipeline
            line.submitted += rep_line.submission is not None
            line.forecasters += 1
        for child in children.get(team.pk, []):
            child_line = visit(child, depth + 1)
            total += child_line.effective
            line.closed_won += child_line.closed_won
            line.open_pipeline += child_line.open_pipeline
            line.submitted += child_line.submitted
            line.forecasters += child_line.forecasters
        line.rolled_up = total
        return line

    company = Figures()
    company_won = ZERO
    for root in children.get(None, []):
        root_line = visit(root, 0)
        company += root_line.effective
        company_won += root_line.closed_won
    unassigned = reps_by_team.get(None, [])
    for rep_line in unassigned:
        company += rep_line.figures
        company_won += rep_line.closed_won
    shown = lines if team_ids is None else [line for line in lines if line.team.pk in team_ids]
    if team_ids is not None and shown:  # indent from the highest team the user sees
        top = min(line.depth for line in shown)
        for line in shown:
            line.depth -= top
    return Rollup(period, currency, shown, company, company_won,
                  unassigned if team_ids is None else [])
