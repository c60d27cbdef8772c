"""The activities that link objectives to effort: from each bookings target, the
opportunities, meetings and calls it takes, using the plan scope's own historical rates
(with the window they come from) or rates the manager enters.

    opportunities = bookings ÷ average deal size ÷ win rate
    meetings      = opportunities × meetings per opportunity
    calls         = meetings × calls per meeting
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Q

from salesplan.activities.models import Activity, ActivityKind
from salesplan.core.fiscal import CompanyCalendar
from salesplan.org.models import User
from salesplan.pipeline.models import Opportunity, StageKind

from . import scope
from .models import Level, Measure, Plan
from .selectors import objective_rows

RATE_NAMES = ("deal_size", "win_rate", "meetings_per_opportunity", "calls_per_meeting")
TENTH = Decimal("0.1")


@dataclass
class Rates:
    """Conversion rates and where each comes from ("history", "entered" or "missing")."""

    window: tuple[date, date]
    values: dict[str, Decimal | None] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)


@dataclass
class ActivityRow:
    label: str
    level: str
    depth: int
    target: Decimal
    opportunities: Decimal | None
    meetings: Decimal | None
    calls: Decimal | None
    calls_per_selling_day: Decimal | None
    capacity: Decimal | None = None  # calls the line's reps can make in the year

    @property
    def slack(self) -> Decimal | None:
        """Calls to spare (negative: the shortfall) against the capacity."""
        if self.capacity is None or self.calls is None:
            return None
        return self.capacity - self.calls


@dataclass
class ActivityPlan:
    rates: Rates
    selling_days: int
    rows: list[ActivityRow]


def _ratio(numerator, denominator) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"))


def historical_rates(plan: Plan, calendar: CompanyCalendar) -> Rates:
    """The plan scope's rates over the trailing twelve months (aggregates, not records)."""
    start, end = scope.trailing_window(plan, calendar)
    team_ids = scope.plan_team_ids(plan)
    owners = User.objects.all() if team_ids is None else User.objects.filter(team_id__in=team_ids)
    closed = Opportunity.objects.filter(owner__in=owners, close_date__gte=start,
                                        close_date__lte=end)
    won = Q(status=StageKind.WON)
    summary = closed.aggregate(
        won=Count("id", filter=won), lost=Count("id", filter=Q(status=StageKind.LOST)),
        deal=Avg("amount", filter=won & Q(currency=plan.currency)))
    closed_ids = closed.filter(status__in=[StageKind.WON, StageKind.LOST]).values("pk")
    meetings_on_closed = Activity.objects.filter(kind=ActivityKind.MEETING, done=True,
                                                 opportunity__in=closed_ids).count()
    done = Activity.objects.filter(owner__in=owners, done=True, done_at__date__gte=start,
                                   done_at__date__lte=end).aggregate(
        calls=Count("id", filter=Q(kind=ActivityKind.CALL)),
        meetings=Count("id", filter=Q(kind=ActivityKind.MEETING)))
    values = {
        "deal_size": Decimal(summary["deal"]).quantize(Decimal("0.01"))
        if summary["deal"] is not None else None,
        "win_rate": _ratio(summary["won"], summary["won"] + summary["lost"]),
        "meetings_per_opportunity": _ratio(meetings_on_closed,
                                           summary["won"] + summary["lost"]),
        "calls_per_meeting": _ratio(done["calls"], done["meetings"]),
    }
    return Rates((start, end), values,
                 {k: "history" if v else "missing" for k, v in values.items()})


def activity_plan(plan: Plan, user: User, entered: dict[str, Decimal | None] | None = None,
                  calendar: CompanyCalendar | None = None) -> ActivityPlan:
    """What each bookings objective the user may see takes in opportunities, meetings and
    calls for the year, and calls per selling day. With the calls a rep can make in a
    day (`calls_per_day` in `entered`), each line's capacity and its slack or shortfall:
    the capacity check counts the line's reps × selling days × calls per day."""
    calendar = calendar or CompanyCalendar.current()
    rates = historical_rates(plan, calendar)
    entered = dict(entered or {})
    calls_per_day = entered.pop("calls_per_day", None)
    for name, value in entered.items():
        if value is not None:
            rates.values[name], rates.sources[name] = value, "entered"
    days = calendar.selling_days(*calendar.year_bounds(plan.fiscal_year))
    r = rates.values
    rows = []
    lines = objective_rows(plan, user, Measure.BOOKINGS)
    heads = _headcount(plan, [line.objective for line in lines])
    for row in lines:
        if row.objective.level == Level.PRODUCT_LINE:
            continue
        opportunities = (row.total / r["deal_size"] / r["win_rate"]
                         if r["deal_size"] and r["win_rate"] else None)
        meetings = (opportunities * r["meetings_per_opportunity"]
                    if opportunities is not None and r["meetings_per_opportunity"] else None)
        calls = (meetings * r["calls_per_meeting"]
                 if meetings is not None and r["calls_per_meeting"] else None)
        reps = heads.get(row.objective.pk)
        rows.append(ActivityRow(
            row.objective.label, row.objective.level, row.depth, row.total,
            _round(opportunities), _round(meetings), _round(calls),
            _round(calls / days) if calls is not None and days else None,
            _round(calls_per_day * days * reps) if calls_per_day is not None
            and reps is not None else None))
    return ActivityPlan(rates, days, rows)


def _headcount(plan: Plan, objectives) -> dict[int, int]:
    """Reps behind each rep, team or plan line (territory lines: not counted yet)."""
    reps = list(scope.plan_reps(plan).values_list("id", "team_id"))
    counts: dict[int, int] = {}
    for o in objectives:
        if o.level == Level.REP:
            counts[o.pk] = 1
        elif o.level == Level.COMPANY:
            counts[o.pk] = len(reps)
        elif o.level == Level.TEAM and o.team_id:
            teams = set(scope.team_subtree_ids(o.team_id))
            counts[o.pk] = sum(1 for _, team_id in reps if team_id in teams)
    return counts


def _round(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(TENTH, ROUND_HALF_UP)
