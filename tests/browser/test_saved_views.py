"""Searching a list, choosing its columns and sort, saving that as a view, reopening it."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_account

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_save_a_view_with_a_column_and_sort_then_reopen_it(page, org):
    make_account(org.west_manager, name="Northwind Pharma Group", industry="Biotech")
    make_account(org.west_manager, name="Acme Pharmaceuticals", industry="Chemicals")
    make_account(org.west_manager, name="Zenith Retail", industry="Retail")
    log_in(page, org.west_manager, org.password)
    page.goto("/accounts/")
    page.locator("#list-q").fill("Pharma")
    expect(page.locator("#list-results")).not_to_contain_text("Zenith Retail")
    expect(page.locator("#list-results")).to_contain_text("Northwind Pharma Group")

    page.locator(".column-chooser summary").click()
    page.get_by_role("checkbox", name="Name", exact=True).check()
    page.get_by_role("checkbox", name="Industry", exact=True).check()
    table = page.locator("table[data-chosen-columns]")
    expect(table).to_be_visible()
    table.get_by_role("link", name="Industry").click()  # ascending
    expect(page).to_have_url(re.compile(r"sort=industry"))
    # Click the heading again only once the sorted table is in: its link now reverses.
    descending = table.locator("thead a[href*='sort=-industry']")
    expect(descending).to_have_count(1)
    descending.click()
    expect(page).to_have_url(re.compile(r"sort=-industry"))
    expect(table.locator("tbody tr").first).to_contain_text("Acme Pharmaceuticals")

    page.get_by_text("Save this view").click()
    page.get_by_label("View name").fill("Pharma by industry")
    page.get_by_label("Share with my team").check()
    page.get_by_role("button", name="Save view").click()
    expect(page.get_by_text("Saved the view")).to_be_visible()

    page.goto("/accounts/")
    expect(page.locator("table[data-chosen-columns]")).to_have_count(0)
    page.get_by_role("link", name=re.compile("Pharma by industry")).click()
    table = page.locator("table[data-chosen-columns]")
    expect(table.locator("thead th")).to_have_text(["Choose", "Name", re.compile("Industry")])
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").first).to_contain_text("Acme Pharmaceuticals")
    expect(page.locator("#list-q")).to_have_value("Pharma")
