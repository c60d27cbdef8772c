"""A rep's own page: their targets, call plan and pacing, nobody else's."""

from datetime import date

import pytest

from salesplan.planning import effort, services
from salesplan.planning.models import Measure

from ..factories import make_account
from .test_effort import PARAMS, jobs_run_at_once  # noqa: F401 - shared fixture


@pytest.fixture
def planned(org, west_plan):
    top = services.set_plan_target(west_plan, by=org.west_manager, measure=Measure.BOOKINGS,
                                   total="120000")
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    for rep in (org.west_rep, org.west_rep2):
        make_account(rep, tier="strategic", industry="Software")
    effort.set_judgement(west_plan, by=org.west_manager, tier="strategic", industry="Software",
                         current_calls="2", no_effort="1000", current="3000",
                         plus_half="3600", saturation="5000")
    run = effort.start_run(west_plan, by=org.west_manager, params=PARAMS)
    run.refresh_from_db()
    effort.apply_run(run, by=org.west_manager)
    return west_plan


def test_my_plan_shows_my_targets_call_plan_and_pacing(org, planned, client):
    from .conftest import won

    won(org.west_rep, "1234.56", date(2026, 1, 15))
    won(org.west_rep2, "9876.54", date(2026, 1, 15))
    client.force_login(org.west_rep)
    page = client.get("/plans/mine/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "60,000" in body or "60000" in body  # my year's bookings target
    assert "1,234.56" in body or "1234.56" in body
    assert "9876.54" not in body and "9,876.54" not in body
    assert "calls a month" in body and "data-chart" in body


def test_a_rep_without_targets_sees_so(org, planned, client):
    client.force_login(org.east_rep)
    page = client.get("/plans/mine/")
    assert page.status_code == 200 and b"No plan has targets for you yet." in page.content
