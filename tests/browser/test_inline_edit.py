"""Changing a deal's amount in the list, then meeting someone else's change: the cell
says so and shows their value."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from salesplan.pipeline.models import Opportunity
from tests.factories import make_opportunity

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_edit_a_cell_in_place_and_meet_a_stale_edit(page, org):
    deal = make_opportunity(org.west_rep, name="Inline deal", amount=Decimal("1000.00"))
    log_in(page, org.west_rep, org.password)
    page.goto("/opportunities/")
    page.get_by_role("button", name="Change amount: USD 1,000.00").click()
    cell = page.locator(f"#cell-opportunity-{deal.pk}-amount")
    cell.fill("2500")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("button", name="Change amount: USD 2,500.00")).to_be_visible()
    assert Opportunity.objects.get(pk=deal.pk).amount == Decimal("2500.00")
    # Someone else changes the deal meanwhile; the next edit from this page is stale.
    Opportunity.objects.filter(pk=deal.pk).update(amount=Decimal("4000.00"),
                                                  version=deal.version + 5)
    page.get_by_role("button", name="Change amount: USD 2,500.00").click()
    cell.fill("3000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone else changed this record")
    expect(page.get_by_role("button", name="Change amount: USD 4,000.00")).to_be_visible()
    assert Opportunity.objects.get(pk=deal.pk).amount == Decimal("4000.00")
