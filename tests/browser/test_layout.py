"""Pages fit the window: the dashboards and home pages at 1280 and 1920 px, and a rep's
day, a record, the board and search on a phone, with a search box one can type in."""

import pytest

from salesplan.pipeline.models import Opportunity
from tests.web.home_data import build_company, build_team

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

WIDTH = "[document.scrollingElement.scrollWidth, innerWidth]"


def fits(page, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    scroll, window = page.evaluate(WIDTH)
    assert scroll <= window, f"{path} is {scroll} px wide in a {window} px window"


def test_dashboards_fit_wide_windows_and_phone_pages_fit_a_phone(page, org):
    page.set_default_timeout(30_000)
    build_team(org)
    build_company(org)
    for width in (1280, 1920):
        page.set_viewport_size({"width": width, "height": 900})
        log_in(page, org.executive, org.password)
        for path in ("/", "/reports/"):
            fits(page, path)
        page.context.clear_cookies()
        log_in(page, org.west_manager, org.password)
        for path in ("/", "/reports/"):
            fits(page, path)
        page.context.clear_cookies()

    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, org.west_rep, org.password)
    deal = Opportunity.objects.filter(owner=org.west_rep).order_by("id").first()
    paths = ["/", "/pipeline/", "/search/?q=deal", f"/opportunities/{deal.pk}/",
             f"/accounts/{deal.account_id}/"]
    for path in paths:
        fits(page, path)
        search = page.get_by_role("searchbox", name="Search accounts")
        assert search.bounding_box()["width"] >= 300  # the whole row, not 55 px
