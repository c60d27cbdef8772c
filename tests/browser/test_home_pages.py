"""Home pages by role in the browser: the manager's team, the executive's company and
marketing's funnel, each with its blocks and a figure worked out by hand."""

import pytest
from playwright.sync_api import expect

from tests.territories.conftest import build_map
from tests.web.home_data import build_company, build_marketing, build_team

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_each_role_lands_on_its_own_home_page(page, org):
    # Three home pages of figures: allow for a busy CI machine.
    page.set_default_timeout(30_000)
    page.set_default_navigation_timeout(30_000)
    build_team(org)
    build_company(org, build_map)
    build_marketing(org)

    log_in(page, org.west_manager, org.password)
    expect(page.get_by_role("heading", name="My team")).to_be_visible()
    for heading in ("Pipeline by rep", "Overdue follow-ups", "Quote approvals waiting on me",
                    "Deals at risk"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    pipeline = page.get_by_role("table", name="Pipeline by rep")
    # The West rep's open deals: 1,000.00 + 2,500.50 + 700.00 + 900.00.
    expect(pipeline.get_by_role("row", name=str(org.west_rep))).to_contain_text(
        "USD 5,100.50")
    expect(page.get_by_role("table", name="Deals at risk")).to_contain_text("Stalled deal")
    expect(page.get_by_text("East only deal")).to_have_count(0)
    page.context.clear_cookies()

    log_in(page, org.executive, org.password)
    for heading in ("Plan pacing", "Territory violations", "Boundary exceptions pending"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_role("heading", name="Forecast", exact=False)).to_be_visible()
    # The quarter's targets: 10,000 + 20,000 + 30,000.
    expect(page.get_by_role("table", name="Plan pacing")).to_contain_text("USD 60,000.00")
    # The forecast block follows the page; its model fit may take a while on a busy machine.
    expect(page.get_by_role("table", name="Forecast and baseline")).to_contain_text(
        "USD 2,500.00", timeout=90_000)  # the naive baseline: booked the quarter before
    expect(page.get_by_role("link", name="Bay Outsider Co")).to_be_visible()
    page.context.clear_cookies()

    log_in(page, org.marketer, org.password)
    for heading in ("Form submissions", "SLA misses", "Campaign results"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_text("Attribution model: Linear")).to_be_visible()
    results = page.get_by_role("table", name="Campaign results")
    expect(results.get_by_role("row", name="Spring webinar")).to_contain_text("USD 12,345.50")
    expect(page.get_by_role("table", name="SLA misses")).to_contain_text("Missed0")
