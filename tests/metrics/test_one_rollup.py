"""Plan vs actual, the forecast roll-up and the performance reports read one opportunity
rollup (`salesplan.metrics`): for the same period and rep they give the same won amount
and pipeline after any sequence of changes made through the services, and the rollup
kept current from the audit trail equals recomputing it from scratch."""

from collections import defaultdict
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesplan.core.fiscal import CompanyCalendar
from salesplan.forecasting.rollup import build_rollup
from salesplan.metrics import rollup
from salesplan.metrics.models import OpportunityFact, OpportunityLine
from salesplan.pipeline import services as pipeline_services
from salesplan.pipeline.models import Opportunity, Pipeline, StageKind
from salesplan.planning import services as plan_services
from salesplan.planning.models import Level, Measure
from salesplan.planning.selectors import plan_vs_actual
from salesplan.reports.catalog import run_report
from salesplan.reports.scope import parse_filters

from ..factories import make_account

FY = 2026
# Plan vs actual on 1 July: January to June come whole from the rollup (July is counted
# by the day, and no deal of these tests closes in July); the pipeline after the day is
# that of the fourth quarter, where the open deals close.
AS_OF = date(FY, 7, 1)
ZERO = D("0.00")


@pytest.fixture
def bookings_plan(org):
    plan = plan_services.create_plan(by=org.west_manager, name="West FY2026", fiscal_year=FY,
                                     team=org.west)
    top = plan_services.set_plan_target(plan, by=org.west_manager, measure=Measure.BOOKINGS,
                                        total=D("120000"))
    plan_services.allocate(top, by=org.west_manager, to="reps", method="even")
    return plan


def _plan_figures(plan, user, reps) -> dict[int, tuple[D, D, D]]:
    """Per rep: won in Q1, won in Q2, open pipeline after the as-of day."""
    rows = {r.label: r for r in plan_vs_actual(plan, user, as_of=AS_OF)
            if r.level == Level.REP}
    return {rep.pk: (sum(rows[str(rep)].actuals[0:3], ZERO),
                     sum(rows[str(rep)].actuals[3:6], ZERO), rows[str(rep)].pipeline)
            for rep in reps}


def _forecast_figures(reps) -> dict[int, tuple[D, D, D]]:
    q1, q2, _, q4 = CompanyCalendar.current().quarters(FY)

    def by_rep(period, what):
        lines = [r for team in build_rollup(period, "USD").teams for r in team.reps]
        return {r.rep.pk: getattr(r, what) for r in lines}

    won_q1, won_q2 = by_rep(q1, "closed_won"), by_rep(q2, "closed_won")
    open_q4 = by_rep(q4, "open_pipeline")
    return {rep.pk: (won_q1.get(rep.pk, ZERO), won_q2.get(rep.pk, ZERO),
                     open_q4.get(rep.pk, ZERO)) for rep in reps}


def _report_figures(user, reps) -> dict[int, tuple[D, D, D]]:
    def by_rep(key, period):
        result = run_report(key, user, parse_filters({"period": period}), "owner")
        return {int(r.drill["owner"]): r.values[2] for r in result.rows
                if not r.emphasis and r.drill and r.drill.get("owner")}

    won_q1, won_q2 = by_rep("bookings", f"FY{FY}-Q1"), by_rep("bookings", f"FY{FY}-Q2")
    open_q4 = by_rep("pipeline", f"FY{FY}-Q4")
    return {rep.pk: (won_q1.get(rep.pk, ZERO), won_q2.get(rep.pk, ZERO),
                     open_q4.get(rep.pk, ZERO)) for rep in reps}


def _from_the_deals(reps) -> dict[int, tuple[D, D, D]]:
    """The same figures summed straight from the deals, in Python."""
    totals: dict[int, list[D]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    for owner, status, currency, close, amount in Opportunity.objects.values_list(
            "owner_id", "status", "currency", "close_date", "amount"):
        if currency != "USD":
            continue
        if status == StageKind.WON and close.year == FY and close.month <= 6:
            totals[owner][0 if close.month <= 3 else 1] += amount
        elif status == StageKind.OPEN and close.year == FY and close.month >= 10:
            totals[owner][2] += amount
    return {rep.pk: tuple(totals[rep.pk]) for rep in reps}


def _cells() -> dict[tuple, tuple]:
    return {(f.basis, f.month, f.owner_id, f.pipeline_id, f.stage_id, f.status, f.currency,
             f.territory_id, f.reached_position): (f.count, f.amount, f.weighted, f.cycle_days)
            for f in OpportunityFact.objects.all()}


def _lines() -> set[tuple]:
    return set(OpportunityLine.objects.values_list())


def _assert_one_copy(org, plan) -> None:
    reps = [org.west_rep, org.west_rep2]
    expected = _from_the_deals(reps)
    assert _plan_figures(plan, org.admin, reps) == expected
    assert _forecast_figures(reps) == expected
    assert _report_figures(org.admin, reps) == expected
    # The incrementally kept rollup is what recomputing it from scratch gives.
    kept_cells, kept_lines = _cells(), _lines()
    rollup.rebuild(["opportunities"])
    assert _cells() == kept_cells and _lines() == kept_lines


def _fresh(deal: Opportunity) -> Opportunity:
    """The deal as a client reads it again before its next change."""
    return Opportunity.objects.get(pk=deal.pk)


def _stage(kind: str):
    stages = Pipeline.objects.get(is_default=True).stages
    return stages.filter(kind=kind).order_by("position").first()


def test_plan_forecast_and_reports_agree_after_every_change(org, bookings_plan):
    account = make_account(org.west_rep)
    new = {"account": account, "currency": "USD"}
    deal = pipeline_services.create_opportunity(by=org.west_rep, data={
        **new, "name": "Expansion", "amount": D("4000"), "close_date": date(FY, 2, 10)})
    pipeline_services.create_opportunity(by=org.admin, data={
        **new, "owner": org.west_rep2, "name": "Renewal", "amount": D("2500"),
        "close_date": date(FY, 11, 3)})
    _assert_one_copy(org, bookings_plan)                    # created (open, in Q1)
    assert _plan_figures(bookings_plan, org.admin, [org.west_rep2])[org.west_rep2.pk] == (
        ZERO, ZERO, D("2500.00"))

    pipeline_services.update_opportunity(deal, by=org.west_rep, data={"amount": D("4250.50")})
    deal = _fresh(deal)
    pipeline_services.move_opportunity(deal, _stage(StageKind.WON), by=org.west_rep)
    _assert_one_copy(org, bookings_plan)                    # amount changed, then won
    assert _report_figures(org.admin, [org.west_rep])[org.west_rep.pk][0] == D("4250.50")

    pipeline_services.move_opportunity(_fresh(deal), _stage(StageKind.OPEN), by=org.west_rep)
    _assert_one_copy(org, bookings_plan)                    # reopened: no longer won
    assert _forecast_figures([org.west_rep])[org.west_rep.pk] == (ZERO, ZERO, ZERO)

    pipeline_services.move_opportunity(_fresh(deal), _stage(StageKind.WON), by=org.west_rep)
    pipeline_services.update_opportunity(_fresh(deal), by=org.admin, data={
        "owner": org.west_rep2, "close_date": date(FY, 5, 20)})
    _assert_one_copy(org, bookings_plan)                    # won again, handed over, Q2
    assert _plan_figures(bookings_plan, org.admin, [org.west_rep, org.west_rep2]) == {
        org.west_rep.pk: (ZERO, ZERO, ZERO),
        org.west_rep2.pk: (ZERO, D("4250.50"), D("2500.00"))}

    pipeline_services.delete_opportunity(_fresh(deal), by=org.admin)
    _assert_one_copy(org, bookings_plan)                    # deleted
    assert _report_figures(org.admin, [org.west_rep2])[org.west_rep2.pk] == (
        ZERO, ZERO, D("2500.00"))


# A step: (what, which deal, a number for its argument).
steps = st.lists(st.tuples(
    st.sampled_from(["create", "amount", "won", "lost", "reopen", "owner", "close", "delete"]),
    st.integers(0, 3), st.integers(0, 11)), min_size=1, max_size=12)


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=steps)
def test_any_sequence_of_changes_leaves_one_consistent_rollup(org, bookings_plan, plan):
    for opportunity in Opportunity.objects.all():
        pipeline_services.delete_opportunity(opportunity, by=org.admin)
    account = make_account(org.west_rep)
    reps = [org.west_rep, org.west_rep2]
    # Close dates in Q1, Q2 and Q4 only (plan vs actual counts July by the day).
    months = [1, 2, 3, 4, 5, 6, 10, 11, 12, 1, 5, 12]
    deals: list[Opportunity] = []
    for what, which, n in plan:
        if what == "create" or not deals:
            deals.append(pipeline_services.create_opportunity(by=org.admin, data={
                "account": account, "name": f"Deal {len(deals)}", "owner": reps[n % 2],
                "amount": D(1000 + 137 * n) / 4, "close_date": date(FY, months[n], 15)}))
            continue
        deal = Opportunity.objects.get(pk=deals[which % len(deals)].pk)
        if what == "amount":
            pipeline_services.update_opportunity(deal, by=org.admin,
                                                 data={"amount": D(250 * n + 99) / 100})
        elif what in ("won", "lost"):
            pipeline_services.move_opportunity(deal, _stage(what), by=org.admin,
                                               lost_reason="price" if what == "lost" else "")
        elif what == "reopen":
            pipeline_services.move_opportunity(deal, _stage(StageKind.OPEN), by=org.admin)
        elif what == "owner":
            pipeline_services.update_opportunity(deal, by=org.admin,
                                                 data={"owner": reps[n % 2]})
        elif what == "close":
            pipeline_services.update_opportunity(
                deal, by=org.admin, data={"close_date": date(FY, months[n], 1 + n)})
        else:
            pipeline_services.delete_opportunity(deal, by=org.admin)
            deals.remove(deals[which % len(deals)])
    _assert_one_copy(org, bookings_plan)
