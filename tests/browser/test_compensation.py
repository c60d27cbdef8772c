"""A rep accepts their pay plan, wins a deal on the board and sees their statement
change, disputes a line; their manager resolves the dispute."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from salesplan.compensation import services
from salesplan.compensation.models import CompDispute, CompStatement
from salesplan.core.clock import company_today
from salesplan.pipeline.models import Opportunity, Pipeline, StageKind
from tests.factories import make_opportunity

from .conftest import log_in
from .test_board import _drag
from .test_journeys import _wait_for

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

DEFINITION = {"commissions": [{"key": "bookings", "label": "Bookings commission",
                               "quota": "100000", "method": "marginal",
                               "tiers": [{"from": "0", "rate": "0.02"},
                                         {"from": "1", "rate": "0.05"}]}]}


def _set_up(org):
    today = company_today()
    period = services.create_period(by=org.admin, data={
        "name": "This month", "starts": today.replace(day=1), "ends": today})
    plan = services.create_plan(by=org.admin, data={
        "name": "Rep plan", "role": "rep", "starts": date(today.year, 1, 1),
        "ends": date(today.year, 12, 31), "effective_from": date(today.year, 1, 1),
        "currency": "USD", "definition": DEFINITION,
        "document": "Two per cent of bookings up to quota, five per cent above it."})
    services.activate_plan(plan, by=org.admin, expected_version=plan.version)
    won_stage = Pipeline.objects.get(is_default=True).stages.get(kind=StageKind.WON)
    make_opportunity(org.west_rep, stage_position=won_stage.position,
                     amount=Decimal("50000"), close_date=today)
    services.calculate_period(period)
    return period


def test_accept_win_see_the_statement_change_dispute_and_resolve(page, org):
    period = _set_up(org)
    deal = make_opportunity(org.west_rep, name="Initech rollout", stage_position=1,
                            amount=Decimal("60000"), close_date=company_today())
    page.goto("/login/", timeout=60_000)  # a cold live server on a busy machine is slow once
    log_in(page, org.west_rep, org.password)
    page.goto("/comp/")
    expect(page.get_by_text("Two per cent of bookings")).to_be_visible()
    page.get_by_role("button", name="I have read and accept this plan").click()
    expect(page.get_by_text("You accepted this plan")).to_be_visible()
    page.get_by_role("link", name="This month").click()
    expect(page.locator("[data-earned]")).to_have_text("USD 1000.00")

    page.set_viewport_size({"width": 2400, "height": 900})
    page.goto("/pipeline/")
    won = deal.pipeline.stages.get(kind=StageKind.WON)
    _drag(page, deal, won)
    page.get_by_role("button", name="Close as won").click()
    _wait_for(lambda: Opportunity.objects.get(pk=deal.pk).status == StageKind.WON)
    statement = CompStatement.objects.get(rep=org.west_rep, period=period)
    # 100,000 × 2 % + 10,000 × 5 %
    _wait_for(lambda: CompStatement.objects.get(pk=statement.pk).earned == Decimal("2500"))

    page.goto(f"/comp/statements/{statement.pk}/")
    expect(page.locator("[data-earned]")).to_have_text("USD 2500.00")
    line = page.locator("[data-line='1']")
    line.get_by_role("link", name="Explain").click()
    expect(page.locator("#explain-1")).to_contain_text("Deal")
    line.get_by_text("Dispute", exact=True).click()
    line.get_by_label("What is wrong with this line?").fill("The Initech rollout was mine alone")
    line.get_by_role("button", name="Raise dispute").click()
    expect(page.get_by_text("Your dispute is with your manager.")).to_be_visible()

    page.context.clear_cookies()
    log_in(page, org.west_manager, org.password)
    page.goto("/comp/team/")
    page.locator("[data-open-dispute] a").first.click()
    page.get_by_label("Answer or resolution").fill("Confirmed: no split on this deal")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_text("The dispute is resolved.")).to_be_visible()
    assert CompDispute.objects.get().status == "resolved"


def test_a_manager_turns_on_contest_standings_and_a_rep_sees_their_rank(page, org):
    today = company_today()
    plan = services.create_plan(by=org.admin, data={
        "name": "Contest plan", "role": "rep", "starts": date(today.year, 1, 1),
        "ends": date(today.year, 12, 31), "effective_from": date(today.year, 1, 1),
        "currency": "USD", "definition": {**DEFINITION, "spiffs": [
            {"key": "push", "label": "Month-end push", "starts": str(today.replace(day=1)),
             "ends": str(today), "amount": "100"}]}})
    services.activate_plan(plan, by=org.admin, expected_version=plan.version)
    won_stage = Pipeline.objects.get(is_default=True).stages.get(kind=StageKind.WON)
    for owner in (org.west_rep, org.west_rep2, org.west_rep2):
        make_opportunity(owner, stage_position=won_stage.position, amount=Decimal("1000"),
                         close_date=today)
    page.goto("/login/", timeout=60_000)
    log_in(page, org.west_manager, org.password)
    page.goto(f"/comp/contests/?team={org.west.pk}")
    expect(page.get_by_text("Contest standings are off")).to_be_visible()
    page.get_by_label("Show contest standings for this team").check()
    page.get_by_label("Reps see").select_option("ranks")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("[data-standing='1']")).to_contain_text("200.00 USD")
    expect(page.locator("[data-days-left='1']")).to_have_text("1 day left")

    page.context.clear_cookies()
    log_in(page, org.west_rep, org.password)
    page.goto("/comp/")
    page.get_by_role("link", name="Contest standings").click()
    mine = page.locator(f"[data-rep='{org.west_rep.pk}']")
    expect(mine).to_have_attribute("data-standing", "2")
    expect(mine).to_contain_text("100.00 USD")
    expect(page.locator(f"[data-rep='{org.west_rep2.pk}']")).not_to_contain_text("200.00")
