"""Statements held to hand-computed figures: tiers, splits, currency, clawback across a
closed period, recalculation when a deal changes; rounding half to even to cents."""

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
import time_machine
from django.core.exceptions import ValidationError

from salesplan.compensation import payroll, selectors, services
from salesplan.compensation.models import CompStatement
from salesplan.pipeline import services as pipeline
from salesplan.pipeline.models import Opportunity, StageKind

from .conftest import DEFINITION, won


def statement(rep, period) -> CompStatement:
    return CompStatement.objects.get(rep=rep, period=period)


def explained(s: CompStatement, position: int = 1) -> list[dict]:
    """The trace "explain this figure" shows for a line."""
    return selectors.statement_line(s.rep, s.pk, position)[1].trace


def amounts(s: CompStatement) -> list[tuple[str, D]]:
    return [(line.kind, line.amount) for line in s.lines.all()]


def test_a_period_pays_marginal_tiers_on_split_and_converted_credit(org, comp):
    won(org.west_rep, "60000", date(2026, 1, 5))
    won(org.west_rep, "40000", date(2026, 1, 12), currency="EUR")  # 43,400.00 USD
    shared = won(org.west_rep, "10000", date(2026, 1, 20))
    services.set_splits(shared, by=org.admin, splits=[(org.west_rep, D("0.7")),
                                                     (org.west_rep2, D("0.3"))])
    result = services.calculate_period(comp.january)
    assert result["statements"] == 2
    mine = statement(org.west_rep, comp.january)
    # 60,000 + 43,400 + 7,000 = 110,400: 100,000 × 2 % + 10,400 × 5 %
    assert amounts(mine) == [("commission", D("2520.00"))]
    assert (mine.earned, mine.paid, mine.bookings) == (D("2520.00"), D("2520.00"),
                                                       D("110400.00"))
    assert mine.next_tiers == []
    theirs = statement(org.west_rep2, comp.january)
    assert amounts(theirs) == [("commission", D("60.00"))]  # 3,000 × 2 %
    assert theirs.next_tiers[0]["bookings_needed"] == "97000.00"
    trace = explained(mine)
    assert [(t["rule"], t["base"], t["earned"]) for t in trace] == [
        ("owner", "60000.00", "1200.00"),
        ("owner", "43400.00", "970.00"),  # 40,000 × 2 % + 3,400 × 5 %
        ("split", "7000.00", "350.00"),  # all above quota: 7,000 × 5 %
    ]


def test_a_split_must_add_up_to_100_percent(org, comp):
    deal = won(org.west_rep, "1000", date(2026, 1, 5))
    with pytest.raises(ValidationError) as error:
        services.set_splits(deal, by=org.admin, splits=[(org.west_rep, D("0.5")),
                                                       (org.west_rep2, D("0.4"))])
    assert "splits" in error.value.message_dict
    assert not deal.comp_splits.exists()


def test_a_changed_deal_recalculates_the_open_statement(
    org, comp, django_capture_on_commit_callbacks
):
    deal = won(org.west_rep, "50000", date(2026, 1, 5))
    services.calculate_period(comp.january)
    assert statement(org.west_rep, comp.january).earned == D("1000.00")
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.update_opportunity(deal, by=org.west_rep, data={"amount": D("150000")},
                                    expected_version=deal.version)
    # 100,000 × 2 % + 50,000 × 5 %
    assert statement(org.west_rep, comp.january).earned == D("4500.00")


def test_clawback_of_a_deal_cancelled_after_its_period_closed(org, comp):
    deal = won(org.west_rep, "60000", date(2026, 1, 5))
    won(org.west_rep, "20000", date(2026, 1, 25))
    services.calculate_period(comp.january)
    services.close_period(comp.january, by=org.admin, expected_version=comp.january.version)
    assert statement(org.west_rep, comp.january).earned == D("1600.00")
    lost = Opportunity.objects.filter(pipeline=deal.pipeline, stage__pipeline=deal.pipeline)
    lost_stage = deal.pipeline.stages.filter(kind=StageKind.LOST).first()
    with time_machine.travel(datetime(2026, 2, 10, 12, tzinfo=UTC), tick=False):
        pipeline.move_opportunity(lost.get(pk=deal.pk), lost_stage, by=org.west_rep,
                                  lost_reason="Cancelled by the customer")
    january = statement(org.west_rep, comp.january)
    assert january.earned == D("1600.00")  # locked
    services.calculate_period(comp.february)
    february = statement(org.west_rep, comp.february)
    # the deal earned 60,000 × 2 % in January: returned in February, carried as balance
    assert amounts(february) == [("commission", D("0.00")), ("clawback", D("-1200.00")),
                                 ("draw", D("1200.00"))]
    assert (february.earned, february.paid, february.draw_balance) == (
        D("-1200.00"), D("0.00"), D("1200.00"))
    with pytest.raises(ValidationError):
        services.calculate_period(comp.january)


def test_each_rep_gets_back_only_their_own_cancelled_deals(org, comp):
    first = won(org.west_rep, "60000", date(2026, 1, 5))
    second = won(org.west_rep2, "30000", date(2026, 1, 12))
    won(org.west_rep2, "10000", date(2026, 1, 20))  # stays won
    services.calculate_period(comp.january)
    services.close_period(comp.january, by=org.admin, expected_version=comp.january.version)
    lost_stage = first.pipeline.stages.filter(kind=StageKind.LOST).first()
    with time_machine.travel(datetime(2026, 2, 10, 12, tzinfo=UTC), tick=False):
        for deal in (first, second):
            pipeline.move_opportunity(Opportunity.objects.get(pk=deal.pk), lost_stage,
                                      by=org.admin, lost_reason="Cancelled by the customer")
    services.calculate_period(comp.february)
    services.calculate_period(comp.february)  # again: nothing clawed twice
    clawbacks = {rep: [a for kind, a in amounts(statement(rep, comp.february))
                       if kind == "clawback"] for rep in (org.west_rep, org.west_rep2)}
    assert clawbacks == {org.west_rep: [D("-1200.00")], org.west_rep2: [D("-600.00")]}


def test_payroll_export_is_of_a_closed_period_only(org, comp):
    won(org.west_rep, "10000", date(2026, 1, 5))
    services.calculate_period(comp.january)
    with pytest.raises(ValidationError):
        payroll.payroll_csv(org.admin, comp.january)
    services.close_period(comp.january, by=org.admin, expected_version=comp.january.version)
    comp.january.refresh_from_db()
    rows = payroll.payroll_csv(org.admin, comp.january).splitlines()
    assert rows[0].startswith("Employee email,Name,Period")
    assert "200.00" in rows[1] and org.west_rep.email in rows[1]


def test_an_adjustment_needs_a_reason_and_lands_on_the_statement(org, comp):
    with pytest.raises(ValidationError) as error:
        services.add_adjustment(by=org.admin, rep=org.west_rep, period=comp.january,
                                amount=D("100"), reason=" ")
    assert "reason" in error.value.message_dict
    services.add_adjustment(by=org.admin, rep=org.west_rep, period=comp.january,
                            amount=D("100"), reason="Missed SPIFF in December")
    assert amounts(statement(org.west_rep, comp.january)) == [
        ("commission", D("0.00")), ("adjustment", D("100.00"))]


def test_what_if_compares_a_draft_plan_per_rep(org, comp):
    won(org.west_rep, "150000", date(2026, 1, 5))
    won(org.west_rep2, "20000", date(2026, 1, 5))
    draft = services.create_plan(by=org.admin, data={
        "name": "Flat 3 %", "role": "rep", "starts": date(2026, 1, 1),
        "ends": date(2026, 12, 31), "effective_from": date(2026, 1, 1), "currency": "USD",
        "definition": {"commissions": [{"key": "flat", "label": "Flat", "quota": "1",
                                        "tiers": [{"from": "0", "rate": "0.03"}]}]}})
    result = selectors.what_if(org.admin, draft, comp.january)
    by_rep = {row.rep: (row.current, row.draft) for row in result.rows}
    assert by_rep[org.west_rep] == (D("4500.00"), D("4500.00"))
    assert by_rep[org.west_rep2] == (D("400.00"), D("600.00"))
    assert (result.current_cost, result.draft_cost, result.bookings) == (
        D("4900.00"), D("5100.00"), D("170000.00"))
    assert result.cost_of_sales(result.draft_cost) == D("0.0300")


def test_a_bad_definition_names_the_place(org, comp):
    with pytest.raises(ValidationError) as error:
        services.create_plan(by=org.admin, data={
            "name": "Broken", "role": "rep", "starts": date(2026, 1, 1),
            "ends": date(2026, 12, 31), "effective_from": date(2026, 1, 1),
            "definition": {"commissions": [{"key": "x", "label": "X", "quota": "100",
                                            "tiers": [{"from": "0.5", "rate": "0.1"}]}]}})
    assert "commissions[0]" in error.value.message_dict["definition"][0]


def test_a_new_version_applies_from_its_effective_date(org, comp):
    with pytest.raises(ValidationError) as error:
        services.update_plan(comp.plan, by=org.admin, data={"name": "Changed"},
                             expected_version=comp.plan.version)
    assert "status" in error.value.message_dict
    richer = dict(DEFINITION, commissions=[dict(DEFINITION["commissions"][0], tiers=[
        {"from": "0", "rate": "0.03"}])])
    second = services.create_plan(by=org.admin, data={
        "name": "Rep plan 2026", "role": "rep", "starts": date(2026, 1, 1),
        "ends": date(2026, 12, 31), "effective_from": date(2026, 2, 1), "currency": "USD",
        "definition": richer, "supersedes": comp.plan})
    services.activate_plan(second, by=org.admin, expected_version=second.version)
    assert second.number == 2
    won(org.west_rep, "10000", date(2026, 1, 5))
    won(org.west_rep, "10000", date(2026, 2, 5))
    services.calculate_period(comp.january)
    services.calculate_period(comp.february)
    assert statement(org.west_rep, comp.january).earned == D("200.00")  # version 1: 2 %
    assert statement(org.west_rep, comp.february).earned == D("300.00")  # version 2: 3 %


def test_manager_roll_up_credit_names_its_rule(org, comp):
    services.create_credit_rule(by=org.admin, data={
        "name": "Manager roll-up", "kind": "manager", "share": D(1),
        "effective_from": date(2026, 1, 1)})
    manager_plan = services.create_plan(by=org.admin, data={
        "name": "Manager plan", "role": "manager", "starts": date(2026, 1, 1),
        "ends": date(2026, 12, 31), "effective_from": date(2026, 1, 1), "currency": "USD",
        "definition": {"commissions": [{"key": "team", "label": "Team override",
                                        "quota": "1", "tiers": [{"from": "0",
                                                                 "rate": "0.01"}]}]}})
    services.activate_plan(manager_plan, by=org.admin, expected_version=manager_plan.version)
    deal = won(org.west_rep, "40000", date(2026, 1, 5))
    services.calculate_period(comp.january)
    theirs = statement(org.west_manager, comp.january)
    assert amounts(theirs) == [("commission", D("400.00"))]
    assert [(t["deal_id"], t["rule"]) for t in explained(theirs)] == [
        (deal.pk, "Manager roll-up")]
    assert statement(org.west_rep, comp.january).earned == D("800.00")  # the rep keeps 100 %


def test_a_deleted_deal_leaves_the_open_statement(org, comp, django_capture_on_commit_callbacks):
    deal = won(org.west_rep, "50000", date(2026, 1, 5))
    won(org.west_rep, "10000", date(2026, 1, 6))
    services.calculate_period(comp.january)
    assert statement(org.west_rep, comp.january).earned == D("1200.00")
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.delete_opportunity(deal, by=org.admin)
    assert statement(org.west_rep, comp.january).earned == D("200.00")


def test_a_definition_refuses_figures_out_of_range(org, comp):
    definition = {"commissions": [{"key": "x", "label": "X", "quota": "1e40",
                                   "tiers": [{"from": "0", "rate": "0.1"}]}]}
    with pytest.raises(ValidationError) as error:
        services.create_plan(by=org.admin, data={
            "name": "Huge", "role": "rep", "starts": date(2026, 1, 1),
            "ends": date(2026, 12, 31), "effective_from": date(2026, 1, 1),
            "definition": definition})
    assert "commissions[0].quota" in error.value.message_dict["definition"][0]
