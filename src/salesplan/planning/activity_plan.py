"""The activities that link objectives to effort: from each bookings target, the
opportunities, meetings and calls it takes, using the plan scope's own historical rates
(with the window they come from) or rates the manager enters.

    opportunities = bookings ÷ average deal size ÷ win rate
    meetings      = opportunities × meetings per opportunity
    calls         = meetings × calls per meeting
"""

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import cache
from django.db.models import Avg, Count, Max, Q

from salesplan.activities.models import Activity, ActivityKind
from salesplan.core.clock import company_datetime
from salesplan.core.fiscal import CompanyCalendar
from salesplan.core.models import AuditEntry
from salesplan.org.models import User
from salesplan.pipeline.models import Opportunity, StageKind

from . import scope
from .models import Level, Measure, Plan
from .selectors import objective_rows

RATE_NAMES = ("deal_size", "win_rate", "meetings_per_opportunity", "calls_per_meeting")
TENTH = Decimal("0.1")
RATES_SECONDS = 3600  # at most this long, even with nothing changed


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
    heads: Decimal | None = None  # full seats behind the line (ramp and leave counted)
    capacity_source: str = ""  # "resources" or "entered"

    @property
    def slack(self) -> Decimal | None:
        """Calls to spare (negative: the shortfall) against the capacity."""
        if self.capacity is None or self.calls is None:
            return None
        return self.capacity - self.calls

    @property
    def extra_heads(self) -> Decimal | None:
        """Full seats it would take to close a shortfall at the line's calls per seat."""
        if self.slack is None or self.slack >= 0 or not self.heads or not self.capacity:
            return None
        return (-self.slack / (self.capacity / self.heads)).quantize(TENTH, ROUND_HALF_UP)

    @property
    def calls_per_day_needed(self) -> Decimal | None:
        """Calls a day each seat would have to make instead (shortfalls only)."""
        if (self.slack is None or self.slack >= 0 or not self.heads
                or not self.calls_per_selling_day):
            return None
        return (self.calls_per_selling_day / self.heads).quantize(TENTH, ROUND_HALF_UP)


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
    """The plan scope's rates over the trailing twelve months (aggregates, not records).
    Kept until a record changes: a year of deals and activities takes seconds to read at
    100,000 accounts, and every visit of the plan page asks. Any write through the
    services leaves an audit entry, and every new activity a new id, so the key moves."""
    start, end = scope.trailing_window(plan, calendar)
    team_ids = scope.plan_team_ids(plan)
    changed = (AuditEntry.objects.aggregate(n=Max("id"))["n"],
               Activity.objects.aggregate(n=Max("id"))["n"])
    key = (f"plan-rates:{plan.pk}:{plan.currency}:{start}:{end}:{team_ids}:"
           f"{changed[0]}:{changed[1]}")
    found = cache.get(key)
    if found is None:
        found = _historical_rates(plan, start, end, team_ids)
        cache.set(key, found, RATES_SECONDS)
    return Rates(found.window, dict(found.values), dict(found.sources))


def _historical_rates(plan: Plan, start: date, end: date, team_ids) -> Rates:
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
    # Company-time bounds on the stored instant, not done_at__date: that casts every row
    # (in Python, on SQLite) and cannot use an index.
    done = Activity.objects.filter(
        owner__in=owners, done=True, done_at__gte=company_datetime(start, time.min),
        done_at__lt=company_datetime(end + timedelta(days=1), time.min)).aggregate(
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
    calls for the year, and calls per selling day, against the calls the line's seats
    can make: from the plan's resources (start dates, ramp-up, leave, holidays and each
    seat's calls per day), or — when `calls_per_day` is entered — reps × selling days ×
    that rate. Each line shows its slack or shortfall and what closing it would take."""
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
    seats = _Seats(plan, calendar)
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
        if calls_per_day is not None:
            capacity = (_round(calls_per_day * days * reps) if reps is not None else None)
            seat_count, source = (Decimal(reps) if reps is not None else None), "entered"
        else:
            capacity, seat_count = seats.line(row.objective)
            source = "resources" if capacity is not None else ""
        rows.append(ActivityRow(
            row.objective.label, row.objective.level, row.depth, row.total,
            _round(opportunities), _round(meetings), _round(calls),
            _round(calls / days) if calls is not None and days else None,
            capacity, seat_count, source))
    return ActivityPlan(rates, days, rows)


class _Seats:
    """Calls a year from the plan's resources (ramp, leave and holidays counted), summed
    for rep, team and plan lines."""

    def __init__(self, plan: Plan, calendar: CompanyCalendar):
        from .resources import capacity

        self.seats = capacity(plan, calendar)
        self.plan = plan
        self.full = Decimal(calendar.selling_days(*calendar.year_bounds(plan.fiscal_year)))

    def _sum(self, seats) -> tuple[Decimal | None, Decimal | None]:
        seats = list(seats)
        if not seats:
            return None, None
        calls = sum((s.total_calls for s in seats), Decimal(0))
        worked = sum((Decimal(sum(d * r for d, r in zip(s.selling_days, s.ramp, strict=True)))
                      for s in seats), Decimal(0))
        heads = (worked / self.full).quantize(TENTH, ROUND_HALF_UP) if self.full else None
        return _round(calls), heads

    def line(self, objective) -> tuple[Decimal | None, Decimal | None]:
        if objective.level == Level.REP:
            return self._sum(s for s in self.seats if s.user_id == objective.rep_id)
        if objective.level == Level.TEAM and objective.team_id:
            teams = set(scope.team_subtree_ids(objective.team_id))
            return self._sum(s for s in self.seats if s.team_id in teams)
        if objective.level == Level.COMPANY:
            return self._sum(self.seats)
        return None, None


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
