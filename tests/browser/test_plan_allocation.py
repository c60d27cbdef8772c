"""A manager re-allocates the team's target by potential: the preview shows who gains
and who loses before anything changes, then applying it runs as a job to the end."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from salesplan.planning import services
from salesplan.planning.models import MonthlyTarget
from tests.factories import make_account

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def _year(plan, rep) -> Decimal:
    return sum(MonthlyTarget.objects.filter(objective__plan=plan, objective__rep=rep)
               .values_list("target", flat=True), Decimal(0))


def test_a_plan_reallocation_is_previewed_then_applied(page, org):
    plan = services.create_plan(by=org.west_manager, name="West FY2026", fiscal_year=2026,
                                team=org.west)
    top = services.set_plan_target(plan, by=org.west_manager, measure="bookings",
                                   total=Decimal("2400"))
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    make_account(org.west_rep, potential=Decimal("3000"))
    make_account(org.west_rep2, potential=Decimal("1000"))

    log_in(page, org.west_manager, org.password)
    page.goto(f"/plans/{plan.pk}/")
    page.get_by_label("Target to allocate").select_option(str(top.pk))
    page.locator("select[name=to]").select_option("reps")
    page.get_by_label("Method").select_option("potential")
    page.get_by_role("button", name="Preview allocation").click()
    expect(page.get_by_role("heading", name="Preview: Allocate bookings of West")).to_be_visible()
    gainer = page.locator(f'[data-line="{org.west_rep}"]')
    expect(gainer.locator("[data-after]")).to_have_text("1,800.00")
    expect(gainer.locator("[data-change]")).to_have_text("600.00")
    expect(page.locator(f'[data-line="{org.west_rep2}"] [data-change]')).to_have_text("-600.00")
    assert _year(plan, org.west_rep) == Decimal("1200.00")  # nothing written yet

    page.get_by_role("button", name="Apply this change").click()
    page.wait_for_url("**/changes/*/")
    expect(page.locator("#job-status")).to_contain_text("Succeeded", timeout=60_000)
    assert _year(plan, org.west_rep) == Decimal("1800.00")
    assert _year(plan, org.west_rep2) == Decimal("600.00")
    expect(page.get_by_role("button", name="Undo… (preview first)")).to_be_visible()
