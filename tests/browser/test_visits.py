"""A manager plans the team's month; a rep opens Today on a phone, checks in at the first
stop (a meeting appears on the account) and skips the second with a reason (the rest of
the day is planned again)."""

from datetime import time
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from salesplan.visits import planner, services
from salesplan.visits.models import PlannedVisit, VisitStatus
from tests.factories import make_account

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def _team(org):
    config = planner.settings()
    config.solver_solutions, config.lunch_minutes = 10, 0
    config.save()
    # Every account every day: each day of the month has its eight stops.
    services.create_rule(by=org.admin, data={"tier": "enterprise", "visits_per_month": D(30),
                                             "duration_minutes": 30})
    for rep in (org.west_rep, org.west_rep2):
        # Every day a working day, all day: the journey does not depend on when it runs.
        rep.working_days, rep.work_starts, rep.work_ends = "0,1,2,3,4,5,6", time(0, 5), \
            time(23, 55)
        rep.home_latitude, rep.home_longitude = D("48.8566"), D("2.3522")
        rep.save()
        for i in range(8):
            make_account(rep, name=f"{rep.username} bakery {i}", tier="enterprise",
                         latitude=D("48.8566") + D(i) / 200, longitude=D("2.3522") + D(i) / 150)


def test_plan_a_month_then_check_in_and_skip_on_a_phone(browser, live_server, page, org):
    _team(org)
    page.set_default_timeout(30_000)  # planning a month runs inline in the request
    log_in(page, org.west_manager, org.password)
    page.goto("/visits/coverage/")
    page.get_by_role("button", name="Plan visits from").click()
    expect(page.get_by_text("Succeeded", exact=True)).to_be_visible()
    assert PlannedVisit.objects.filter(owner=org.west_rep).exists()
    assert PlannedVisit.objects.filter(owner=org.west_rep2).exists()

    phone = browser.new_context(base_url=live_server.url, is_mobile=True, has_touch=True,
                                viewport={"width": 390, "height": 844})
    phone.set_default_timeout(30_000)
    rep_page = phone.new_page()
    log_in(rep_page, org.west_rep, org.password)
    rep_page.goto("/visits/today/")
    stops = rep_page.locator("li.visit-stop")
    expect(stops.first).to_be_visible()
    assert stops.count() >= 3
    first_name = stops.nth(0).get_by_role("heading").inner_text()
    second_name = stops.nth(1).get_by_role("heading").inner_text()
    expect(stops.nth(0).get_by_role("link", name="Navigate")).to_be_visible()
    expect(rep_page.get_by_role("img", name="The day's route")).to_be_visible()
    for part in (stops.nth(0), stops.nth(1), rep_page.locator("svg.visit-map")):
        box = part.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, "Today fits a phone"

    stops.nth(0).get_by_role("button", name="Check in").click()
    expect(rep_page.get_by_text(f"Checked in at {first_name}")).to_be_visible()
    first = PlannedVisit.objects.get(owner=org.west_rep, account__name=first_name,
                                     status=VisitStatus.CHECKED_IN)
    rep_page.goto(f"/accounts/{first.account_id}/")
    expect(rep_page.get_by_text(f"Visit: {first_name}").first).to_be_visible()

    rep_page.goto("/visits/today/")
    second = rep_page.locator("li.visit-stop").nth(1)
    second.get_by_text("Skip or move").click()
    second.get_by_label("Why skip it?").fill("Shop closed for a funeral")
    second.get_by_role("button", name="Skip").click()
    expect(rep_page.get_by_text("the rest of the day is planned again")).to_be_visible()
    skipped = PlannedVisit.objects.get(owner=org.west_rep, account__name=second_name,
                                       day=first.day)
    assert skipped.status == VisitStatus.SKIPPED
    assert skipped.reason == "Shop closed for a funeral"
    rest = list(PlannedVisit.objects.filter(owner=org.west_rep, day=first.day,
                                            status=VisitStatus.PLANNED)
                .order_by("sequence"))
    assert [v.sequence for v in rest] == list(range(2, 2 + len(rest)))
    expect(rep_page.locator("li.visit-stop.skipped")).to_have_count(1)
    phone.close()
