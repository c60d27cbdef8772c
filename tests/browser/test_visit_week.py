"""A manager opens a rep's week from visit coverage: every planned day on the timeline,
the routes on one map, nothing wider than the screen on a desktop and stacked on a
phone. An admin changes the average speed on the visit settings page and sees a speed of
zero refused by its field."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from salesplan.core.clock import company_today
from salesplan.visits import planner, services
from salesplan.visits.models import PlannedDay
from tests.factories import make_account
from tests.visits.planning_setup import ready_to_plan

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def _planned_week(org):
    rep = org.west_rep
    ready_to_plan(org, rep, home=("48.8566", "2.3522"), visits_per_month=10)
    for i in range(6):
        make_account(rep, name=f"Paris florist {i}", tier="smb",
                     latitude=D("48.8566") + D(i + 1) / 150,
                     longitude=D("2.3522") + D(i % 2) / 90)
    monday = company_today() - timedelta(days=company_today().weekday())
    services.plan_reps(by=org.admin, rep_ids=[rep.pk], start=monday, days=7)
    return rep, monday


def _fits(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    overflow = page.evaluate("document.documentElement.scrollWidth - "
                             "document.documentElement.clientWidth")
    assert overflow <= 0, f"the week page scrolls sideways at {width} px"


def test_a_manager_reads_a_reps_week_on_one_map_and_one_timeline(browser, live_server,
                                                                 page, org):
    rep, monday = _planned_week(org)
    planned_days = sorted(PlannedDay.objects.filter(owner=rep).values_list("day", flat=True))
    assert planned_days
    log_in(page, org.west_manager, org.password)
    page.goto(f"/visits/coverage/?start={monday.isoformat()}")
    page.get_by_role("link", name=f"{rep}: week of").click()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    for day in planned_days:
        row = page.locator(f".timeline-day[data-day='{day.isoformat()}']")
        expect(row.get_by_role("heading")).to_contain_text(f"{day:%a} {day.day}")
        expect(row.locator("svg.timeline-bar rect.seg-visit").first).to_be_attached()
        expect(row.locator("svg.timeline-bar rect.seg-drive").first).to_be_attached()
    expect(page.get_by_role("img", name="The week's routes")).to_be_visible()
    legend = page.get_by_role("list", name="Days on the map")
    expect(legend.get_by_role("listitem")).to_have_count(len(planned_days) + 1)  # and home
    expect(page.locator("#week-totals tbody tr")).to_have_count(5)
    for width in (1280, 1920):
        _fits(page, width)

    page.set_viewport_size({"width": 390, "height": 844})
    _fits(page, 390)
    first_day = page.locator(".timeline-day").first
    label, bar = first_day.locator(".timeline-label"), first_day.locator("svg.timeline-bar")
    assert bar.bounding_box()["y"] > label.bounding_box()["y"], "a phone stacks each day"
    first_day.get_by_text("stretches of the day").click()
    expect(first_day.locator(".timeline-list li").first).to_be_visible()


def test_an_admin_changes_the_average_speed(browser, live_server, page, org):
    log_in(page, org.admin, org.password)
    page.goto("/")
    page.get_by_role("link", name="Visit settings").click()
    speed = page.get_by_label("Average speed (km/h)")
    speed.fill("0")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-form .has-error")).to_contain_text("greater than or equal")
    assert planner.settings().average_speed_kmh == 50
    page.get_by_label("Average speed (km/h)").fill("65")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Visit settings saved.")).to_be_visible()
    assert planner.settings().average_speed_kmh == 65
    page.get_by_label("Visits a month").last.fill("3")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_text("Frequency rule added.")).to_be_visible()
    expect(page.get_by_role("button", name="Save rule")).to_have_count(1)
