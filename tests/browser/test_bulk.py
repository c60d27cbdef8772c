"""Bulk reassigning a thousand accounts from the list, through the preview, to a job
whose page follows it to the end."""

import pytest
from playwright.sync_api import expect

from salesplan.customers.models import Account
from tests.factories import make_account

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_reassign_everything_a_filter_matches(page, org):
    for i in range(1000):
        make_account(org.west_rep, name=f"Bulkco {i:04}")
    make_account(org.west_rep, name="Untouched Inc")
    log_in(page, org.west_manager, org.password)
    page.goto("/accounts/?q=bulkco")
    page.get_by_role("button", name="Everything matching the filter").click()
    page.get_by_label("Action").select_option("change_owner")
    page.get_by_label("New owner").select_option(str(org.west_rep2.pk))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("[data-count]")).to_have_text("1000")
    expect(page.locator("[data-will-refuse]")).to_have_text("0")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/jobs/*/")
    expect(page.locator("#job-status")).to_contain_text("Succeeded", timeout=180_000)
    expect(page.locator("[data-done]")).to_have_text("1000")
    assert Account.objects.filter(owner=org.west_rep2).count() == 1000
    assert Account.objects.get(name="Untouched Inc").owner_id == org.west_rep.pk
