"""A manager closes the team's plan after reading what it touches, then reopens it."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from salesplan.planning import services
from salesplan.planning.models import Plan

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_close_a_plan_after_confirming_then_reopen_it(page, org):
    plan = services.create_plan(by=org.west_manager, name="West FY2026", fiscal_year=2026,
                                team=org.west)
    top = services.set_plan_target(plan, by=org.west_manager, measure="bookings",
                                   total=Decimal("2400"))
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    services.submit_plan(plan, by=org.west_manager)
    services.approve_plan(Plan.objects.get(pk=plan.pk), by=org.vp)
    services.activate_plan(Plan.objects.get(pk=plan.pk), by=org.west_manager)

    log_in(page, org.west_manager, org.password)
    page.goto(f"/plans/{plan.pk}/")
    page.get_by_role("link", name="Close…").click()
    expect(page.get_by_role("heading", name="Close West FY2026?")).to_be_visible()
    expect(page.get_by_text(re.compile(r"2 reps in 1 team"))).to_be_visible()
    assert Plan.objects.get(pk=plan.pk).status == "active"
    page.get_by_role("button", name="Close the plan").click()
    expect(page.get_by_text("Plan closed")).to_be_visible()
    assert Plan.objects.get(pk=plan.pk).status == "closed"

    page.get_by_role("link", name="Reopen…").click()
    page.get_by_role("button", name="Reopen the plan").click()
    expect(page.get_by_text("Plan reopened")).to_be_visible()
    expect(page.get_by_role("link", name="Close…")).to_be_visible()
    assert Plan.objects.get(pk=plan.pk).status == "active"
