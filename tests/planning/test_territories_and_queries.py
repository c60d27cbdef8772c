"""Allocation to territories by potential, their actuals, and query counts that do not
grow with the number of reps."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesplan.customers.models import Account
from salesplan.org.models import Role
from salesplan.planning import selectors, services
from salesplan.territories import services as territory_services
from salesplan.territories.assignment import run_full_assignment
from salesplan.territories.models import TerritoryGoal

from ..factories import make_account, make_user
from ..territories.conftest import build_map
from .conftest import FY, won

D = Decimal


def test_share_of_territory_potential_and_territory_actuals(org):
    territory_map = build_map(org)
    bay = make_account(org.admin, name="Bay Co", postal_code="94107", potential=D("3000"))
    make_account(org.admin, name="NY Co", postal_code="10013", state="NY", potential=D("1000"))
    run_full_assignment(territory_map.alignment)
    territory_services.activate_alignment(territory_map.alignment, by=org.admin)
    plan = services.create_plan(by=org.admin, name="Company", fiscal_year=FY)
    top = services.set_plan_target(plan, by=org.admin, measure="bookings", total=D("1200"))
    (us,) = services.allocate(top, by=org.admin, to="territories", method="even")
    split = services.allocate(us, by=org.admin, to="territories", method="potential")
    totals = {o.label: sum(o.months.values_list("target", flat=True)) for o in split}
    assert totals == {"East": D("300.00"), "West": D("900.00")}
    # Last year's deals in West weigh the prior-period split, whoever owned them.
    won(org.east_rep, "100", date(FY - 1, 5, 5), account=Account.objects.get(pk=bay.pk))
    prior = services.allocate(us, by=org.admin, to="territories", method="prior_period")
    assert {o.label: sum(o.months.values_list("target", flat=True)) for o in prior} == {
        "East": D("0.00"), "West": D("1200.00")}
    # Goals set in territory management for the plan's year weigh the split too.
    TerritoryGoal.objects.create(territory=territory_map.west, period_start=date(FY, 1, 1),
                                 period_end=date(FY, 12, 31), formula="manual",
                                 proposed=D("1"), amount=D("100"))
    TerritoryGoal.objects.create(territory=territory_map.east, period_start=date(FY, 1, 1),
                                 period_end=date(FY, 12, 31), formula="manual",
                                 proposed=D("1"), amount=D("300"))
    by_goal = services.allocate(us, by=org.admin, to="territories", method="territory_goals")
    assert {o.label: sum(o.months.values_list("target", flat=True)) for o in by_goal} == {
        "East": D("900.00"), "West": D("300.00")}
    won(org.east_rep, "500", date(FY, 1, 10), account=Account.objects.get(pk=bay.pk))
    rows = {r.label: r for r in selectors.plan_vs_actual(plan, org.admin,
                                                         as_of=date(FY, 1, 31))}
    # Bay Co lies in West: its deal counts there, whoever owns it.
    assert rows["West"].actual_to_date == D("500") and rows["East"].actual_to_date == 0
    assert rows["US"].actual_to_date == D("500")


def _plan_vs_actual_queries(org, plan) -> int:
    from salesplan.metrics import rollup

    rollup.refresh(["opportunities"])  # up to date first: count the reading only
    with CaptureQueriesContext(connection) as queries:
        rows = selectors.plan_vs_actual(plan, org.admin, as_of=date(FY, 6, 30))
    assert sum(r.actual_to_date for r in rows if r.level == "rep") == rows[0].actual_to_date
    return len(queries)


def test_plan_vs_actual_queries_do_not_grow_with_reps(org, west_plan):
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=D("1000"))
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    won(org.west_rep, "10", date(FY, 2, 1))
    few = _plan_vs_actual_queries(org, west_plan)
    for _ in range(5):
        rep = make_user(Role.REP, org.west)
        won(rep, "10", date(FY, 3, 1))
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    assert _plan_vs_actual_queries(org, west_plan) == few


@pytest.mark.parametrize("listed", [1_000, 0], ids=["listed", "subquery"])
def test_actuals_read_in_parts_match_one_query_over_what_each_user_sees(org, listed,
                                                                       monkeypatch):
    """Plan vs actual reads each measure in the parts of what the user sees (the team's
    records, then the rest of their territories' accounts'); for every role, with the
    territory accounts listed or as a query, the rows sum to those of one query over
    `visible_to`, an outsider's deal on a territory account included."""
    from django.db.models import Count, Sum

    from salesplan.activities.models import Activity
    from salesplan.core.fiscal import CompanyCalendar
    from salesplan.planning import evaluation
    from salesplan.territories import selectors as territory_selectors

    from ..factories import make_activity, make_team

    territory_map = build_map(org)
    outsider = make_user(Role.REP, make_team("Elsewhere"), username="outsider")
    bay = make_account(outsider, name="Bay Co", postal_code="94107")
    won(outsider, "700", date(FY, 2, 3), account=bay)
    won(org.west_rep, "300", date(FY, 2, 5))
    make_activity(outsider, bay, done=True)
    run_full_assignment(territory_map.alignment)
    territory_services.activate_alignment(territory_map.alignment, by=org.admin)
    monkeypatch.setattr(territory_selectors, "LISTED_ACCOUNTS", listed)
    plan = services.create_plan(by=org.admin, name="Company", fiscal_year=FY)
    months = CompanyCalendar.current().months(FY)
    start, end = months[0].start, months[-1].end

    def totals(rows) -> dict:
        found: dict = {}
        for owner, month, value in rows:
            key = (owner, month.year, month.month)
            found[key] = found.get(key, 0) + value
        return found

    for user in (org.vp, org.west_manager, org.west_rep, org.executive):
        parts = evaluation._actual_sources(plan, user, months, start, end)
        deals = evaluation.Opportunity.objects.visible_to(user).filter(currency=plan.currency)
        whole = {
            "bookings": evaluation._grouped(deals.filter(
                status="won", close_date__gte=start, close_date__lte=end), "close_date",
                Sum("amount")),
            "accounts": evaluation._by_company_month(
                Account.objects.visible_to(user), "created_at", months, start, end,
                Count("id")),
            "activities": evaluation._by_company_month(
                Activity.objects.visible_to(user).filter(done=True), "done_at", months,
                start, end, Count("id")),
        }
        for measure, key in (("bookings", "bookings"), ("new_accounts", "accounts"),
                             ("activities", "activities")):
            assert totals(parts[measure]) == totals(whole[key]), (user, measure)
    vp_bookings = totals(evaluation._actual_sources(plan, org.vp, months, start, end)[
        "bookings"])
    assert vp_bookings[(outsider.pk, FY, 2)] == 700  # seen through the territory only
