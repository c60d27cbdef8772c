"""Closing a plan is confirmed first and can be undone: the confirmation says what
closing touches, a stale or unconfirmed close changes nothing, reopening brings the
plan (and every rep's My plan) back."""

from decimal import Decimal

import pytest
from django.test import Client

from salesplan.core.audit import history_for
from salesplan.core.errors import STALE_MESSAGE
from salesplan.planning import services
from salesplan.planning.models import Objective, Plan

from ..api.conftest import assert_problem
from .conftest import pv

P = "/plans"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def active_plan(org, west_plan):
    """West's plan with a bookings target split between its two reps, made active."""
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=Decimal("2400"))
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    services.submit_plan(west_plan, by=org.west_manager)
    services.approve_plan(Plan.objects.get(pk=west_plan.pk), by=org.vp)
    return services.activate_plan(Plan.objects.get(pk=west_plan.pk), by=org.west_manager)


def status(plan) -> str:
    return Plan.objects.get(pk=plan.pk).status


def test_the_confirmation_lists_what_closing_touches(org, active_plan):
    web = login(org.west_manager)
    detail = web.get(f"/plans/{active_plan.pk}/")
    confirm_url = f"/plans/{active_plan.pk}/status/close/confirm/"
    assert confirm_url.encode() in detail.content
    page = web.get(confirm_url)
    assert page.status_code == 200
    text = " ".join(page.content.decode().split())
    reps = Objective.objects.filter(plan=active_plan, level="rep")
    assert reps.count() == 2
    assert f"<strong>{Objective.objects.filter(plan=active_plan).count()}</strong> objectives" \
        in text
    assert "<strong>2</strong> rep targets" in text
    assert "<strong>2</strong> reps in <strong>1</strong> team" in text
    assert "My plan will show this plan as closed" in text
    assert f'name="version" value="{pv(active_plan)["version"]}"' in text
    assert status(active_plan) == "active"  # looking changes nothing


def test_close_without_confirming_does_nothing(org, active_plan):
    web = login(org.west_manager)
    answer = web.post(f"/plans/{active_plan.pk}/status/close/", pv(active_plan))
    assert answer.status_code == 302
    assert answer.url == f"/plans/{active_plan.pk}/status/close/confirm/"
    assert status(active_plan) == "active"


def test_a_stale_close_is_refused(org, active_plan):
    web = login(org.west_manager)
    stale = pv(active_plan)["version"]
    services.rename_plan(active_plan, by=org.west_manager, name="West, renamed",
                         version=stale)
    confirm_url = f"/plans/{active_plan.pk}/status/close/confirm/"
    answer = web.post(f"/plans/{active_plan.pk}/status/close/",
                      {"version": stale, "confirm": "yes"}, follow=True,
                      headers={"Referer": f"http://testserver{confirm_url}"})
    assert answer.redirect_chain == [(f"http://testserver{confirm_url}", 302)]
    assert STALE_MESSAGE.encode() in answer.content
    assert status(active_plan) == "active"


def test_close_then_reopen_brings_my_plan_back(org, active_plan):
    web, rep = login(org.west_manager), login(org.west_rep)
    before = rep.get("/plans/mine/")
    assert b"Active" in before.content and b"1,200.00" in before.content
    closed = web.post(f"/plans/{active_plan.pk}/status/close/",
                      {**pv(active_plan), "confirm": "yes"}, follow=True)
    assert b"Plan closed" in closed.content and status(active_plan) == "closed"
    assert b"Closed" in rep.get("/plans/mine/").content
    detail = web.get(f"/plans/{active_plan.pk}/")
    assert f"/plans/{active_plan.pk}/status/reopen/confirm/".encode() in detail.content
    confirm = web.get(f"/plans/{active_plan.pk}/status/reopen/confirm/")
    assert b"Reopen the plan" in confirm.content and b"<strong>2</strong> reps" in confirm.content
    unconfirmed = web.post(f"/plans/{active_plan.pk}/status/reopen/", pv(active_plan))
    assert unconfirmed.status_code == 302 and status(active_plan) == "closed"
    reopened = web.post(f"/plans/{active_plan.pk}/status/reopen/",
                        {**pv(active_plan), "confirm": "yes"}, follow=True)
    assert b"Plan reopened" in reopened.content and status(active_plan) == "active"
    after = rep.get("/plans/mine/")
    assert b"Active" in after.content and b"1,200.00" in after.content
    change = history_for(active_plan).filter(field="status").order_by("-id").first()
    assert change is not None and (change.old_value, change.new_value) == ("closed", "active")
    assert change.changed_by == org.west_manager


def test_a_rep_may_not_close_or_reopen(org, active_plan):
    rep = login(org.west_rep)
    assert b"status/close/confirm" not in rep.get(f"/plans/{active_plan.pk}/").content
    assert rep.get(f"/plans/{active_plan.pk}/status/close/confirm/").status_code == 403
    refused = rep.post(f"/plans/{active_plan.pk}/status/close/",
                       {**pv(active_plan), "confirm": "yes"})
    assert refused.status_code == 403 and status(active_plan) == "active"
    services.close_plan(Plan.objects.get(pk=active_plan.pk), by=org.west_manager)
    assert rep.get(f"/plans/{active_plan.pk}/status/reopen/confirm/").status_code == 403
    refused = rep.post(f"/plans/{active_plan.pk}/status/reopen/",
                       {**pv(active_plan), "confirm": "yes"})
    assert refused.status_code == 403 and status(active_plan) == "closed"


def test_only_a_closed_plan_reopens(org, active_plan):
    web = login(org.west_manager)
    page = web.get(f"/plans/{active_plan.pk}/status/reopen/confirm/", follow=True)
    assert b"it cannot be reopened" in page.content
    answer = web.post(f"/plans/{active_plan.pk}/status/reopen/",
                      {**pv(active_plan), "confirm": "yes"}, follow=True)
    assert b"only a plan that is closed can become active" in answer.content


def test_the_api_needs_the_version_to_close_and_reopen(org, api_as, active_plan):
    manager = api_as(org.west_manager)
    url = f"{P}/{active_plan.pk}"
    assert_problem(manager.post(f"{url}/close", {}), 428)
    assert_problem(manager.post(f"{url}/close", {"version": 1}), 409)
    assert status(active_plan) == "active"
    closed = manager.post(f"{url}/close", pv(active_plan))
    assert closed.status_code == 200 and closed.data["status"] == "closed"
    assert_problem(manager.post(f"{url}/reopen", {}), 428)
    assert_problem(manager.post(f"{url}/reopen", {"version": 1}), 409)
    assert status(active_plan) == "closed"
    assert_problem(api_as(org.west_rep).post(f"{url}/reopen", pv(active_plan)), 403)
    reopened = manager.post(f"{url}/reopen", pv(active_plan))
    assert reopened.status_code == 200 and reopened.data["status"] == "active"
