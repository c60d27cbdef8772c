"""Plans through their services: allocation methods, transitions, revisions, commitments."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from salesplan.core.audit import history_for
from salesplan.pipeline.models import Opportunity
from salesplan.planning import selectors, services
from salesplan.planning.models import Commitment, MonthlyTarget, Objective, Plan, PlanRevision

from ..factories import make_account, make_opportunity
from .conftest import FY, won

D = Decimal


def totals(objectives) -> dict[str, Decimal]:
    return {o.label: sum(o.months.values_list("target", flat=True), D(0)) for o in objectives}


def month_sums_match(parent: Objective) -> bool:
    for month in range(1, 13):
        children = sum(MonthlyTarget.objects.filter(
            objective__parent=parent, month=month).values_list("target", flat=True), D(0))
        if children != parent.months.get(month=month).target:
            return False
    return True


def test_even_split_to_reps_adds_up_exactly_every_month(org, west_plan):
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=D("100000.00"))
    assert [m.target for m in top.months.all()][:2] == [D("8333.34"), D("8333.34")]
    reps = services.allocate(top, by=org.west_manager, to="reps", method="even")
    assert sorted(totals(reps).values()) == [D("50000.00"), D("50000.00")]
    assert month_sums_match(top)


def test_share_of_potential(org, west_plan):
    make_account(org.west_rep, potential=D("3000"))
    make_account(org.west_rep2, potential=D("1000"))
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=D("1200.00"))
    reps = services.allocate(top, by=org.west_manager, to="reps", method="potential")
    assert totals(reps) == {str(org.west_rep): D("900.00"), str(org.west_rep2): D("300.00")}
    assert month_sums_match(top)


def test_prior_period_share_counts_last_years_won_bookings(org, west_plan):
    won(org.west_rep, "1000", date(FY - 1, 3, 1))
    won(org.west_rep2, "3000", date(FY - 1, 6, 1))
    won(org.west_rep2, "99999", date(FY, 1, 15))  # this year: not history
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=D("10000"))
    reps = services.allocate(top, by=org.west_manager, to="reps", method="prior_period")
    assert totals(reps) == {str(org.west_rep): D("2500.00"), str(org.west_rep2): D("7500.00")}


def test_custom_weights_and_teams_under_a_company_plan(org):
    plan = services.create_plan(by=org.admin, name="Company", fiscal_year=FY)
    top = services.set_plan_target(plan, by=org.admin, measure="bookings", total=D("1000"))
    teams = services.allocate(top, by=org.admin, to="teams", method="even")
    assert totals(teams) == {"Region": D("1000.00")}
    region = teams[0]
    split = services.allocate(region, by=org.admin, to="teams", method="custom",
                              weights={org.west.pk: 2, org.east.pk: 1})
    assert totals(split) == {"West": D("666.67"), "East": D("333.33")}
    assert month_sums_match(region)
    with pytest.raises(ValidationError) as bad:
        services.allocate(region, by=org.admin, to="teams", method="custom",
                          weights={org.west.pk: 0, org.east.pk: 0})
    assert "method" in bad.value.message_dict
    assert totals(region.children.all()) == {"West": D("666.67"), "East": D("333.33")}


def test_seasonality_learned_from_two_years_of_bookings(org, west_plan):
    won(org.west_rep, "300", date(FY - 1, 1, 10))
    won(org.west_rep, "100", date(FY - 2, 12, 10))
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=D("1000"), phasing="history")
    months = [m.target for m in top.months.all()]
    assert months[0] == D("750.00") and months[11] == D("250.00") and sum(months) == D("1000")


def test_illegal_transition_is_refused_and_changes_nothing(org, west_plan):
    with pytest.raises(ValidationError) as refused:
        services.approve_plan(west_plan, by=org.vp)
    assert "status" in refused.value.message_dict
    west_plan.refresh_from_db()
    assert (west_plan.status, west_plan.version) == ("draft", 1)
    services.submit_plan(west_plan, by=org.west_manager)
    with pytest.raises(PermissionDenied):  # the owner does not approve their own plan
        services.approve_plan(west_plan, by=org.west_manager)
    with pytest.raises(PermissionDenied):  # nor does a peer
        services.approve_plan(west_plan, by=org.east_manager)
    approved = services.approve_plan(west_plan, by=org.vp)
    assert approved.status == "approved" and approved.approved_by == org.vp
    assert services.activate_plan(approved, by=org.west_manager).status == "active"
    with pytest.raises(ValidationError):
        services.submit_plan(Plan.objects.get(pk=west_plan.pk), by=org.west_manager)


def test_a_change_to_an_approved_plan_is_a_revision_with_a_reason(org, west_plan):
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=D("1200"))
    services.submit_plan(west_plan, by=org.west_manager)
    plan = services.approve_plan(west_plan, by=org.vp)
    assert plan.revision_number == 1
    with pytest.raises(ValidationError) as no_reason:
        services.allocate(top, by=org.west_manager, to="reps", method="even")
    assert "reason" in no_reason.value.message_dict
    assert not top.children.exists() and PlanRevision.objects.count() == 1
    plan.refresh_from_db()
    services.set_plan_target(plan, by=org.west_manager, measure="bookings", total=D("2400"),
                             reason="New product launch")
    first, second = (selectors.get_revision(plan, n) for n in (1, 2))
    assert second.reason == "New product launch"
    assert first.snapshot[0]["total"] == "1200.00"  # the approved numbers stay readable
    assert second.snapshot[0]["total"] == "2400.00"
    assert second.snapshot[0]["months"][0] == "200.00"


def test_commitments_and_reconciliation(org, west_plan):
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=D("1200"))
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    services.submit_commitment(west_plan, by=org.west_rep, measure="bookings",
                               months=["60"] * 12)
    with pytest.raises(PermissionDenied):
        services.submit_commitment(west_plan, by=org.east_rep, measure="bookings",
                                   months=["1"] * 12)
    with pytest.raises(ValidationError) as short:
        services.submit_commitment(west_plan, by=org.west_rep, measure="bookings",
                                   months=["1"] * 11)
    assert "months" in short.value.message_dict
    assert Commitment.objects.filter(rep=org.west_rep).count() == 12  # unchanged

    result = selectors.reconciliation(west_plan, org.west_manager)
    assert [(r.label, r.top_down, r.bottom_up, r.gap) for r in result.levels] == [
        ("West", D("1200.00"), D("720.00"), D("-480.00"))]
    by_rep = {r.label: (r.top_down, r.bottom_up, r.gap, r.submitted) for r in result.reps}
    assert by_rep[str(org.west_rep)] == (D("600.00"), D("720.00"), D("120.00"), True)
    assert by_rep[str(org.west_rep2)] == (D("600.00"), D("0"), D("-600.00"), False)
    assert result.not_submitted == [org.west_rep2]
    # A rep sees only their own line.
    mine = selectors.reconciliation(west_plan, org.west_rep)
    assert [r.label for r in mine.reps] == [str(org.west_rep)] and mine.levels == []


def test_plan_vs_actual_by_hand(org, west_plan):
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=D("12000"))
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    won(org.west_rep, "1500", date(FY, 1, 20))
    won(org.west_rep, "700", date(FY, 2, 3))
    won(org.west_rep2, "400", date(FY, 1, 5))
    won(org.west_rep, "5000", date(FY, 3, 2))  # after as_of: not yet actual
    won(org.east_rep, "9999", date(FY, 1, 5))  # another team
    won(org.west_rep, "8888", date(FY - 1, 12, 30))  # last year
    rows = {r.label: r for r in selectors.plan_vs_actual(
        west_plan, org.west_manager, as_of=date(FY, 2, 28))}
    team, rep = rows["West"], rows[str(org.west_rep)]
    assert team.actuals[:3] == [D("1900"), D("700"), D("0")]
    assert team.actual_to_date == D("2600") and team.target_to_date == D("2000.00")
    assert team.attainment == D("130.0") and team.gap == D("9400")
    assert rep.actual_to_date == D("2200") and rep.target_to_date == D("1000.00")
    assert rep.attainment == D("220.0")
    # 2026 has 261 weekdays, 42 of them by 28 February: 2200 × 261 / 42.
    assert rep.projection == D("13671.43")
    # The rep sees only their own line, and only their own deals.
    assert [r.label for r in selectors.plan_vs_actual(
        west_plan, org.west_rep, as_of=date(FY, 2, 28))] == [str(org.west_rep)]


def test_revisions_compare_line_by_line(org, west_plan):
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=D("1200"))
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    services.submit_plan(west_plan, by=org.west_manager)
    plan = services.approve_plan(west_plan, by=org.vp)
    top = Objective.objects.get(plan=plan, parent=None)
    services.allocate(top, by=org.west_manager, to="reps", method="custom",
                      weights={org.west_rep.pk: 3, org.west_rep2.pk: 1},
                      reason="West rep 2 starts in June")
    changes = selectors.compare_revisions(selectors.get_revision(plan, 1),
                                          selectors.get_revision(plan, 2), org.west_manager)
    assert [(c.label, c.before, c.after, c.change) for c in changes] == [
        (str(org.west_rep), D("600.00"), D("900.00"), D("300.00")),
        (str(org.west_rep2), D("600.00"), D("300.00"), D("-300.00"))]
    mine = selectors.compare_revisions(selectors.get_revision(plan, 1),
                                       selectors.get_revision(plan, 2), org.west_rep2)
    assert [c.label for c in mine] == [str(org.west_rep2)]


def test_product_lines_are_named_by_the_manager(org, west_plan):
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="units",
                                   total=D("100"))
    lines = services.allocate(top, by=org.west_manager, to="product_lines", method="custom",
                              weights={"Hardware": 3, "Services": 1})
    assert totals(lines) == {"Hardware": D("75.00"), "Services": D("25.00")}
    with pytest.raises(ValidationError) as refused:
        services.allocate(top, by=org.west_manager, to="product_lines", method="potential",
                          weights={"Hardware": 1})
    assert "method" in refused.value.message_dict
    assert totals(top.children.all()) == {"Hardware": D("75.00"), "Services": D("25.00")}


def test_target_and_allocation_changes_are_audited(org, west_plan):
    services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                             total=D("100"))
    services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                             total=D("150"))
    top = Objective.objects.get(plan=west_plan, parent=None)
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    entries = [(e.field, e.old_value, e.new_value, e.changed_by)
               for e in history_for(west_plan).order_by("id") if e.field]
    assert entries == [
        ("bookings target", "", "100.00", org.west_manager),
        ("bookings target", "100.00", "150.00", org.west_manager),
        ("bookings allocation", "", "West to 2 reps (even)", org.west_manager)]


def test_marketing_commits_pipeline_to_a_team(org, west_plan):
    services.set_plan_target(west_plan, by=org.west_manager, measure="pipeline_created",
                             total=D("3000"))
    services.submit_marketing_commitment(west_plan, by=org.marketer, team=org.west,
                                         measure="pipeline_created", months=["200"] * 12)
    services.submit_marketing_commitment(west_plan, by=org.marketer, team=org.west,
                                         measure="leads", months=["10"] * 12)
    with pytest.raises(PermissionDenied):
        services.submit_marketing_commitment(west_plan, by=org.west_manager, team=org.west,
                                             measure="leads", months=["1"] * 12)
    with pytest.raises(ValidationError) as other_team:
        services.submit_marketing_commitment(west_plan, by=org.marketer, team=org.east,
                                             measure="leads", months=["1"] * 12)
    assert "team" in other_team.value.message_dict
    rows = selectors.reconciliation(west_plan, org.west_manager).marketing
    assert [(r.label, r.top_down, r.bottom_up, r.gap) for r in rows] == [
        ("West · Leads", None, D("120.00"), None),
        ("West · Pipeline created", D("3000.00"), D("2400.00"), D("-600.00"))]


@time_machine.travel(datetime(FY, 6, 30, 12, tzinfo=UTC), tick=False)
def test_trailing_twelve_months_share(org):
    plan = services.create_plan(by=org.west_manager, name="Next year", fiscal_year=FY + 1,
                                team=org.west)
    won(org.west_rep, "100", date(FY - 1, 7, 1))  # in the window (1 July – 30 June)
    won(org.west_rep2, "300", date(FY, 6, 30))  # in the window
    won(org.west_rep2, "999", date(FY - 1, 6, 30))  # a day too early
    top = services.set_plan_target(plan, by=org.west_manager, measure="bookings",
                                   total=D("1000"))
    reps = services.allocate(top, by=org.west_manager, to="reps",
                             method="trailing_twelve_months")
    assert totals(reps) == {str(org.west_rep): D("250.00"), str(org.west_rep2): D("750.00")}


def test_forecast_landing_and_pipeline_coverage_by_hand(org, west_plan):
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=D("12000"))
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    won(org.west_rep, "1000", date(FY, 1, 20))
    for amount, close, probability in (("4000", date(FY, 5, 1), 25),
                                       ("2000", date(FY, 11, 30), 50),
                                       ("7777", date(FY + 1, 1, 5), 90),  # next year
                                       ("5555", date(FY, 1, 25), 90)):  # overdue
        deal = make_opportunity(org.west_rep, amount=D(amount), close_date=close)
        Opportunity.objects.filter(pk=deal.pk).update(probability=probability)
    rows = {r.label: r for r in selectors.plan_vs_actual(
        west_plan, org.west_manager, as_of=date(FY, 1, 31))}
    rep = rows[str(org.west_rep)]
    assert rep.pipeline == D("6000.00") and rep.weighted_pipeline == D("2000.00")
    assert rep.forecast_landing == D("3000.00")
    assert rep.coverage == D("1.20")  # 6000 open against 5000 still to book
    assert rows["West"].pipeline == D("6000.00")
    assert rows[str(org.west_rep2)].coverage == D("0.00")
