"""Resources: selling days from the calendar, holidays and leave; ramp-up of new hires;
the capacity check against the activity plan; refusals of negative capacity."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salesplan.org.models import Company, Holiday
from salesplan.planning import resources
from salesplan.planning.activity_plan import activity_plan
from salesplan.planning.models import Leave, Level, PlanResource


def test_selling_days_hours_and_calls_count_holidays_leave_and_ramp(org, west_plan):
    Holiday.objects.create(company=Company.current(), date=date(2026, 1, 1), name="New Year")
    seat = resources.add_resource(west_plan, by=org.west_manager, user=org.west_rep,
                                  selling_hours_per_day="6", calls_per_day="10")
    resources.add_leave(seat, by=org.west_manager, start=date(2026, 1, 5), end=date(2026, 1, 9))
    hire = resources.add_resource(west_plan, by=org.west_manager, name="New rep (West)",
                                  start_date=date(2026, 3, 16), ramp=[25, 50, 75],
                                  selling_hours_per_day="5", calls_per_day="8")
    seats = {s.label: s for s in resources.capacity(west_plan)}
    rep = seats[str(org.west_rep)]
    # January 2026: 22 weekdays, less New Year's Day, less a week of leave = 16.
    assert rep.selling_days[0] == 16
    assert rep.hours[0] == D("96.0") and rep.calls[0] == D("160.0")
    new = seats[str(hire)]
    # Starts Monday 16 March: 12 selling days at 25%; April 22 days at 50%; July full.
    assert new.selling_days[:4] == [0, 0, 12, 22]
    assert new.hours[2] == D("15.0") and new.calls[3] == D("88.0")
    assert new.ramp[6] == 1
    # The second west rep has no row: shown at the default rates.
    assert seats[str(org.west_rep2)].defaults


def test_negative_capacity_and_bad_ramp_are_refused(org, west_plan):
    with pytest.raises(ValidationError) as caught:
        resources.add_resource(west_plan, by=org.west_manager, user=org.west_rep,
                               calls_per_day="-1")
    assert "cannot be negative" in str(caught.value)
    with pytest.raises(ValidationError):
        resources.add_resource(west_plan, by=org.west_manager, name="Hire", ramp=[150])
    with pytest.raises(PermissionDenied):
        resources.add_resource(west_plan, by=org.west_rep, name="Hire")
    with pytest.raises(ValidationError):
        resources.add_budget_line(west_plan, by=org.west_manager, category="travel",
                                  description="Trips", month=3, amount="-5")
    assert not PlanResource.objects.exists()


def test_capacity_check_uses_resources_and_says_what_closing_it_takes(org, west_plan):
    from salesplan.planning import services

    services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                             total=D("1200000"))
    top = west_plan.objectives.get()
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    resources.add_resource(west_plan, by=org.west_manager, user=org.west_rep, calls_per_day="1")
    resources.add_resource(west_plan, by=org.west_manager, user=org.west_rep2, calls_per_day="1")
    plan = activity_plan(west_plan, org.west_manager, {
        "deal_size": D("10000"), "win_rate": D("0.25"), "meetings_per_opportunity": D("3"),
        "calls_per_meeting": D("4")})
    team = next(r for r in plan.rows if r.level == Level.TEAM)
    # 1.2M / 10k / 0.25 = 480 opportunities × 3 = 1,440 meetings × 4 = 5,760 calls
    assert team.calls == D("5760.0")
    # two seats × 1 call × 261 selling days in 2026 (no holidays entered) = 522 calls
    assert team.capacity == D("522.0") and team.heads == D("2.0")
    assert team.slack == D("-5238.0")
    assert team.extra_heads == D("20.1")  # 5,238 ÷ 261 calls per seat
    assert team.capacity_source == "resources"


def test_api_and_page(org, west_plan, api_as, client):
    manager = api_as(org.west_manager)
    created = manager.post(f"/plans/{west_plan.pk}/resources", {
        "name": "Hire", "start_date": "2026-02-02", "ramp": [50], "calls_per_day": "4"})
    assert created.status_code == 201, created.data
    bad = manager.post(f"/plans/{west_plan.pk}/resources", {"name": "X",
                                                           "selling_hours_per_day": "-2"})
    assert bad.status_code in (400, 422)
    leave = manager.post(f"/plans/{west_plan.pk}/resources/{created.data['id']}/leave",
                         {"start": "2026-02-10", "end": "2026-02-09"})
    assert leave.status_code in (400, 422)
    budget = manager.post(f"/plans/{west_plan.pk}/budget", {
        "category": "travel", "description": "Customer visits", "month": 2, "amount": "1500.00"})
    assert budget.status_code == 201 and budget.data["amount"] == "1500.00"
    seats = manager.get(f"/plans/{west_plan.pk}/capacity").data
    assert any(s["label"] == "Hire" and s["selling_days"][0] == 0 for s in seats)
    assert api_as(org.west_rep).post(f"/plans/{west_plan.pk}/budget", {
        "category": "travel", "description": "x", "month": 2, "amount": "1"}).status_code == 403
    assert api_as(org.east_rep).get(f"/plans/{west_plan.pk}/capacity").status_code == 404
    client.force_login(org.west_manager)
    page = client.get(f"/plans/{west_plan.pk}/resources/")
    assert page.status_code == 200 and b"Customer visits" not in page.content
    assert b"Selling time by month" in page.content


def test_a_seat_is_removed_with_the_plans_version(org, west_plan, api_as):
    manager = api_as(org.west_manager)
    seat = resources.add_resource(west_plan, by=org.west_manager, user=org.west_rep)
    resources.add_leave(seat, by=org.west_manager, start=date(2026, 1, 5), end=date(2026, 1, 9))
    url = f"/plans/{west_plan.pk}/resources/{seat.pk}"
    read = manager.get(f"/plans/{west_plan.pk}").data["version"]
    assert manager.delete(url).status_code == 428  # no version: nothing removed
    assert api_as(org.west_rep).delete(f"{url}?version={read}").status_code == 403
    assert api_as(org.east_manager).delete(f"{url}?version={read}").status_code == 404
    # Someone renamed the plan since it was read: the removal is a conflict.
    renamed = manager.patch(f"/plans/{west_plan.pk}", {"name": "West 2026", "version": read})
    assert renamed.status_code == 200, renamed.data
    assert manager.delete(f"{url}?version={read}").status_code == 409
    assert PlanResource.objects.filter(pk=seat.pk).exists()
    read = renamed.data["version"]
    assert manager.delete(f"{url}?version={read}").status_code == 204
    assert not PlanResource.objects.filter(pk=seat.pk).exists()
    assert not Leave.objects.filter(resource_id=seat.pk).exists()
    assert manager.get(f"/plans/{west_plan.pk}/resources").data == []
    assert manager.delete(f"{url}?version={read + 1}").status_code == 404


def test_the_resources_page_removes_a_seat_with_the_plans_version(org, west_plan, client):
    from salesplan.planning.models import Plan

    seat = resources.add_resource(west_plan, by=org.west_manager, user=org.west_rep)
    resources.add_leave(seat, by=org.west_manager, start=date(2026, 1, 5), end=date(2026, 1, 9))
    page_url = f"/plans/{west_plan.pk}/resources/"
    remove_url = f"/plans/{west_plan.pk}/resources/{seat.pk}/remove/"
    read = Plan.objects.get(pk=west_plan.pk).version
    client.force_login(org.west_rep)
    assert remove_url.encode() not in client.get(page_url).content  # no button for a rep
    assert client.post(remove_url, {"version": read}).status_code == 403
    client.force_login(org.west_manager)
    page = client.get(page_url).content.decode()
    assert f'action="{remove_url}"' in page and "hx-confirm=" in page
    # The plan changed since the page was drawn: nothing is removed.
    from salesplan.planning import services

    services.rename_plan(Plan.objects.get(pk=west_plan.pk), by=org.west_manager,
                         name="West 2026", version=read)
    refused = client.post(remove_url, {"version": read}, HTTP_REFERER=page_url, follow=True)
    assert "changed by someone else" in refused.content.decode()
    assert PlanResource.objects.filter(pk=seat.pk).exists()
    done = client.post(remove_url, {"version": read + 1}, headers={"HX-Request": "true"})
    assert done.status_code == 200 and done["HX-Redirect"] == page_url
    assert not PlanResource.objects.filter(pk=seat.pk).exists()
    assert not Leave.objects.filter(resource_id=seat.pk).exists()
    assert "removed from the plan" in client.get(page_url).content.decode()


def test_a_rep_reads_only_their_own_seat_and_no_budget(org, west_plan, api_as):
    own = resources.add_resource(west_plan, by=org.west_manager, user=org.west_rep)
    other = resources.add_resource(west_plan, by=org.west_manager, user=org.west_rep2)
    resources.add_budget_line(west_plan, by=org.west_manager, category="travel",
                              description="Visits", month=1, amount="10")
    rep, manager = api_as(org.west_rep), api_as(org.west_manager)
    url = f"/plans/{west_plan.pk}/resources"
    assert [s["id"] for s in rep.get(url).data] == [own.pk]
    assert rep.get(f"{url}/{own.pk}").status_code == 200
    assert rep.get(f"{url}/{other.pk}").status_code == 404
    assert {s["id"] for s in manager.get(url).data} == {own.pk, other.pk}
    assert rep.get(f"/plans/{west_plan.pk}/budget").data == []
    assert [b["description"] for b in manager.get(f"/plans/{west_plan.pk}/budget").data] == [
        "Visits"]
    # A seat is found only under its own plan.
    assert api_as(org.east_manager).get(f"{url}/{own.pk}").status_code == 404
