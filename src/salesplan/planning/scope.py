"""Who and what each objective covers, and the history allocation learns from.

Reads without a user: the services use them to weigh children (a manager allocating
their team's target weighs by their team's own data), and the plan-vs-actual selector
passes in the opportunities the viewer may see.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import QuerySet, Sum

from salesplan.core.clock import company_today
from salesplan.core.fiscal import CompanyCalendar
from salesplan.customers.models import Account
from salesplan.org.models import Role, Team, User
from salesplan.org.selectors import team_subtree_ids
from salesplan.pipeline.models import Opportunity, StageKind
from salesplan.territories import selectors as territory_reads
from salesplan.territories.models import Alignment

from .models import Level, Objective, Plan


def active_alignment() -> Alignment | None:
    return territory_reads.active_alignment()


def territory_accounts(territory_id: int):
    """The ids of the accounts in the territory and every territory below it."""
    return territory_reads.accounts_in(territory_reads.subtree_ids(territory_id))


def plan_team_ids(plan: Plan) -> list[int] | None:
    """Teams the plan covers; None for a company plan (every team)."""
    return None if plan.team_id is None else team_subtree_ids(plan.team_id)


def plan_reps(plan: Plan) -> QuerySet[User]:
    """The reps whose commitments the plan expects."""
    reps = User.objects.filter(role=Role.REP, is_active=True)
    team_ids = plan_team_ids(plan)
    return reps if team_ids is None else reps.filter(team_id__in=team_ids)


def objective_opportunities(objective: Objective, opportunities: QuerySet) -> QuerySet | None:
    """The opportunities an objective's actuals count; None when no rule links them yet
    (product lines have no opportunity field)."""
    if objective.level == Level.REP:
        return opportunities.filter(owner_id=objective.rep_id)
    if objective.level == Level.TEAM and objective.team_id:
        return opportunities.filter(owner__team_id__in=team_subtree_ids(objective.team_id))
    if objective.level == Level.TERRITORY and objective.territory_id:
        return opportunities.filter(account_id__in=territory_accounts(objective.territory_id))
    if objective.level == Level.COMPANY:
        team_ids = plan_team_ids(objective.plan)
        if team_ids is None:
            return opportunities
        return opportunities.filter(owner__team_id__in=team_ids)
    return None


def won_bookings(plan: Plan, start: date, end: date) -> QuerySet:
    """Won opportunities in the plan's currency closing between the two days."""
    return Opportunity.objects.filter(status=StageKind.WON, currency=plan.currency,
                                      close_date__gte=start, close_date__lte=end)


def bookings_by_fiscal_month(rows: Iterable[tuple[date, Decimal]], months) -> list[Decimal]:
    totals = [Decimal(0)] * 12
    for close_date, amount in rows:
        for i, month in enumerate(months):
            if month.contains(close_date):
                totals[i] += amount
                break
    return totals


def seasonality_from_history(plan: Plan, calendar: CompanyCalendar) -> list[Decimal]:
    """Share of each fiscal month in the plan scope's won bookings of the two prior years."""
    totals = [Decimal(0)] * 12
    team_ids = plan_team_ids(plan)
    for year in (plan.fiscal_year - 1, plan.fiscal_year - 2):
        start, end = calendar.year_bounds(year)
        rows = won_bookings(plan, start, end)
        if team_ids is not None:
            rows = rows.filter(owner__team_id__in=team_ids)
        by_month = bookings_by_fiscal_month(rows.values_list("close_date", "amount"),
                                            calendar.months(year))
        totals = [a + b for a, b in zip(totals, by_month, strict=True)]
    return totals


def potential_of_owners(owner_ids: Iterable[int]) -> Decimal:
    value = Account.objects.filter(owner_id__in=list(owner_ids)).aggregate(s=Sum("potential"))["s"]
    return value or Decimal(0)


def potential_of_territory(territory_id: int) -> Decimal:
    accounts = Account.objects.filter(pk__in=territory_accounts(territory_id))
    value = accounts.aggregate(s=Sum("potential"))["s"]
    return value or Decimal(0)


def team_member_ids(team: Team) -> list[int]:
    return list(User.objects.filter(team_id__in=team_subtree_ids(team.pk))
                .values_list("id", flat=True))


def trailing_window(plan: Plan, calendar: CompanyCalendar) -> tuple[date, date]:
    """The twelve months before today, or before the plan's year if it has not begun."""
    year_start = calendar.year_bounds(plan.fiscal_year)[0]
    end = min(company_today(), year_start - timedelta(days=1))
    first = end + timedelta(days=1)
    try:
        return first.replace(year=first.year - 1), end
    except ValueError:  # 29 February: a year earlier the window starts on 1 March
        return date(first.year - 1, 3, 1), end


def won_bookings_of(user, start: date, end: date) -> QuerySet:
    """Won opportunities the user sees, in any currency, closing between the two days."""
    return Opportunity.objects.visible_to(user).filter(
        status=StageKind.WON, close_date__gte=start, close_date__lte=end)
