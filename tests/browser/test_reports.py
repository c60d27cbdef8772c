"""Reports in the browser: a manager's dashboard with its charts, a report's filter bar,
the records behind a figure, and an export download."""

import re

import pytest
from playwright.sync_api import expect

from tests.reports.conftest import Q1, history  # noqa: F401 - the sales history fixture

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_manager_dashboard_report_drilldown_and_export(page, org, history, tmp_path):  # noqa: F811
    # Report pages do more work than a form: allow for a busy CI machine.
    page.set_default_timeout(30_000)
    page.set_default_navigation_timeout(30_000)
    log_in(page, org.west_manager, org.password)
    page.goto(f"/reports/?period={Q1}")
    bookings = page.get_by_role("region", name="Team bookings")
    expect(bookings).to_be_visible()
    # The chart is drawn (a canvas inside the chart element) and the table shows its figures.
    expect(bookings.locator(".chart canvas").first).to_be_visible()
    expect(bookings.get_by_role("row", name=re.compile(r"^Total"))).to_contain_text("8,000.00")
    expect(page.get_by_text(str(org.east_rep))).to_have_count(0)

    bookings.get_by_role("link", name="Team bookings").click()
    expect(page.get_by_role("heading", name="Bookings", exact=True)).to_be_visible()
    page.get_by_label("Group by").select_option("team")
    results = page.locator("#report-results")
    expect(results.get_by_role("row", name=re.compile(r"^West"))).to_contain_text("8,000.00")
    expect(page).to_have_url(re.compile(r"by=team"))

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"bookings-{Q1}.csv"
    target = tmp_path / "bookings.csv"
    download.save_as(target)
    text = target.read_text(encoding="utf-8-sig")
    assert "West,3,8000.00" in text

    results.get_by_role("row", name=re.compile(r"^West")).get_by_role("link",
                                                                     name="Records").click()
    expect(page.get_by_role("heading", name="Records behind the figure")).to_be_visible()
    expect(page.get_by_role("link", name=history.won_west2.name)).to_be_visible()
    expect(page.get_by_role("link", name=history.won_east.name)).to_have_count(0)
