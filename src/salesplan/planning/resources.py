"""Resources of a plan and the selling time they give: headcount per role with start
dates and ramp-up, leave, selling days from the fiscal calendar and company holidays,
selling hours per day, calls and meetings a day holds, and the budget.

Writes (`add_resource`, `add_leave`, `add_budget_line`) check permission, validate and
save in one transaction; reads (`capacity`, `capacity_check`, `budget`) work month by
month over the fiscal year.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from salesplan.core.audit import record_created
from salesplan.core.fiscal import CompanyCalendar, FiscalPeriod
from salesplan.core.records import claim_version
from salesplan.org.models import Role, Team, User

from . import access, scope
from .models import BudgetCategory, BudgetLine, Leave, Plan, PlanResource, PlanStatus

ZERO = Decimal(0)
TENTH = Decimal("0.1")
# A seat without a resource row: the rates a manager starts from, shown as "default".
DEFAULT_RATES = {"selling_hours_per_day": Decimal(6), "calls_per_day": Decimal(8),
                 "meetings_per_day": Decimal(2)}


def _changeable(plan: Plan, by: User) -> None:
    access.require_edit(by, plan)
    if plan.status == PlanStatus.CLOSED:
        raise ValidationError({"status": ["A closed plan cannot be changed."]})


def _rate(value, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError as exc:
        raise ValidationError({name: ["Give a number."]}) from exc
    if not number.is_finite() or number < 0:
        raise ValidationError({name: [f"{name.replace('_', ' ').capitalize()} cannot be "
                                      f"negative: capacity cannot be below zero."]})
    return number


def _ramp(values) -> list[int]:
    ramp = list(values or [])
    if len(ramp) > 24 or any(not isinstance(p, int | float | Decimal) or not 0 <= p <= 100
                             for p in ramp):
        raise ValidationError({"ramp": [
            "Give up to 24 monthly percentages between 0 and 100 (e.g. 25, 50, 75)."]})
    return [int(p) for p in ramp]


def add_resource(plan: Plan, *, by: User, user: User | None = None, name: str = "",
                 role: str = Role.REP, team: Team | None = None, start_date: date | None = None,
                 end_date: date | None = None, ramp=(), selling_hours_per_day=None,
                 calls_per_day=None, meetings_per_day=None) -> PlanResource:
    """Add a person or a planned hire to the plan's resources (a person once)."""
    _changeable(plan, by)
    if user is None and not name.strip():
        raise ValidationError({"name": ["Name the planned hire, or choose a person."]})
    if role not in Role.values:
        raise ValidationError({"role": [f"Unknown role {role!r}."]})
    if start_date and end_date and end_date < start_date:
        raise ValidationError({"end_date": ["The end date is before the start date."]})
    if user is not None and PlanResource.objects.filter(plan=plan, user=user).exists():
        raise ValidationError({"user": [f"{user} is already in the plan's resources."]})
    rates = {key: _rate(value if value is not None else DEFAULT_RATES[key], key)
             for key, value in (("selling_hours_per_day", selling_hours_per_day),
                                ("calls_per_day", calls_per_day),
                                ("meetings_per_day", meetings_per_day))}
    if rates["selling_hours_per_day"] > 24:
        raise ValidationError({"selling_hours_per_day": ["A day has 24 hours."]})
    resource = PlanResource(plan=plan, user=user, name=name.strip(), role=role,
                            team=team or (user.team if user else None), start_date=start_date,
                            end_date=end_date, ramp=_ramp(ramp), **rates)
    resource.full_clean(validate_constraints=False)
    with transaction.atomic():
        resource.save()
        record_created(resource, by)
    return resource


@transaction.atomic
def remove_resource(resource: PlanResource, *, by: User,
                    expected_version: int | None = None) -> None:
    """Take a seat (a person or a planned hire) out of the plan, with its leave; the
    plan's version guards it, as every other change to the plan."""
    plan = resource.plan
    _changeable(plan, by)
    claim_version(plan, expected_version)
    resource.delete()


def add_leave(resource: PlanResource, *, by: User, start: date, end: date,
              note: str = "") -> Leave:
    """Days the seat does not sell, both ends included."""
    _changeable(resource.plan, by)
    if end < start:
        raise ValidationError({"end": ["Leave ends before it starts."]})
    return Leave.objects.create(resource=resource, start=start, end=end, note=note.strip())


def add_budget_line(plan: Plan, *, by: User, category: str, description: str, month: int,
                    amount, team: Team | None = None) -> BudgetLine:
    """Money the plan spends in one fiscal month, in the plan's currency."""
    _changeable(plan, by)
    if category not in BudgetCategory.values:
        raise ValidationError({"category": [f"Unknown budget category {category!r}."]})
    if not 1 <= int(month) <= 12:
        raise ValidationError({"month": ["Give a fiscal month from 1 to 12."]})
    value = _rate(amount, "amount").quantize(Decimal("0.01"), ROUND_HALF_UP)
    line = BudgetLine(plan=plan, category=category, description=description.strip(),
                      team=team, month=int(month), amount=value, currency=plan.currency)
    line.full_clean(validate_constraints=False)
    line.save()
    return line


# --- capacity ------------------------------------------------------------------------------


@dataclass
class SeatCapacity:
    """One seat's selling time month by month."""

    label: str
    user_id: int | None
    team_id: int | None
    defaults: bool  # no resource row: default rates
    selling_days: list[int] = field(default_factory=list)
    ramp: list[Decimal] = field(default_factory=list)  # productive share per month
    hours: list[Decimal] = field(default_factory=list)
    calls: list[Decimal] = field(default_factory=list)
    meetings: list[Decimal] = field(default_factory=list)

    @property
    def total_calls(self) -> Decimal:
        return sum(self.calls, ZERO)

    @property
    def total_hours(self) -> Decimal:
        return sum(self.hours, ZERO)


def _months_between(start: date, day: date) -> int:
    return (day.year - start.year) * 12 + day.month - start.month


def _leave_days(calendar: CompanyCalendar, leave: list[Leave], start: date, end: date) -> int:
    days = 0
    for spell in leave:
        first, last = max(start, spell.start), min(end, spell.end)
        days += calendar.selling_days(first, last) if first <= last else 0
    return days


def seat_capacity(resource: PlanResource, months: list[FiscalPeriod],
                  calendar: CompanyCalendar, leave: list[Leave]) -> SeatCapacity:
    seat = SeatCapacity(str(resource), resource.user_id, resource.team_id, resource.pk is None)
    for month in months:
        first = max(month.start, resource.start_date or month.start)
        last = min(month.end, resource.end_date or month.end)
        days = 0
        if first <= last:
            days = calendar.selling_days(first, last) - _leave_days(calendar, leave, first, last)
        share = Decimal(1)
        if resource.start_date and resource.ramp:
            index = _months_between(resource.start_date, month.start)
            if 0 <= index < len(resource.ramp):
                share = Decimal(resource.ramp[index]) / 100
        seat.selling_days.append(days)
        seat.ramp.append(share)
        seat.hours.append((days * resource.selling_hours_per_day * share).quantize(TENTH))
        seat.calls.append((days * resource.calls_per_day * share).quantize(TENTH))
        seat.meetings.append((days * resource.meetings_per_day * share).quantize(TENTH))
    return seat


def capacity(plan: Plan, calendar: CompanyCalendar | None = None) -> list[SeatCapacity]:
    """Every seat of the plan: its resources, plus the plan's reps who have no row yet
    (at the default rates, marked as such)."""
    calendar = calendar or CompanyCalendar.current()
    months = calendar.months(plan.fiscal_year)
    resources = list(plan.resources.select_related("user", "team"))
    leave: dict[int, list[Leave]] = defaultdict(list)
    for spell in Leave.objects.filter(resource__plan=plan):
        leave[spell.resource_id].append(spell)
    seats = [seat_capacity(r, months, calendar, leave[r.pk]) for r in resources]
    listed = {r.user_id for r in resources if r.user_id}
    for rep in scope.plan_reps(plan).exclude(pk__in=listed).order_by("last_name", "id"):
        stand_in = PlanResource(plan=plan, user=rep, team_id=rep.team_id, **DEFAULT_RATES)
        seats.append(seat_capacity(stand_in, months, calendar, []))
    return seats


def rep_hours_by_month(plan: Plan, calendar: CompanyCalendar | None = None
                       ) -> dict[int, list[Decimal]]:
    """Selling hours per month of every person (planned hires have no user yet)."""
    return {s.user_id: s.hours for s in capacity(plan, calendar) if s.user_id}


@dataclass
class CapacityLine:
    """Required against available calls for a rep, a team or the plan."""

    label: str
    level: str
    required: Decimal
    available: Decimal
    heads: int
    calls_per_head: Decimal

    @property
    def slack(self) -> Decimal:
        return self.available - self.required

    @property
    def extra_heads(self) -> Decimal | None:
        """Full-time seats it would take to close a shortfall (None: no shortfall)."""
        if self.slack >= 0 or not self.calls_per_head:
            return None
        return (-self.slack / self.calls_per_head).quantize(TENTH, ROUND_HALF_UP)


def budget(plan: Plan) -> dict[str, list[Decimal]]:
    """Budget per category, month by month."""
    totals: dict[str, list[Decimal]] = {c: [ZERO] * 12 for c in BudgetCategory.values}
    for line in plan.budget_lines.all():
        totals[line.category][line.month - 1] += line.amount
    return totals


def next_month_start(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)
