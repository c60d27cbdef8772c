"""Field visits over the API, the pages and the calendar feed: versions, who sees what,
planning as a job."""

import json
from datetime import date
from decimal import Decimal as D

import pytest

from salesplan.org.services_company import regenerate_calendar_token
from salesplan.visits import services
from salesplan.visits.models import PlannedVisit
from tests.factories import make_account
from tests.visits.planning_setup import ready_to_plan

MONDAY = date(2027, 3, 1)


@pytest.fixture
def planned(org):
    rep = org.west_rep
    ready_to_plan(org, rep, home=("45.75", "4.85"), visits_per_month=4)
    for i in range(4):
        make_account(rep, name=f"Lyon store {i}", tier="smb", street=f"{i} rue Neuve",
                     city="Lyon", latitude=D("45.75") + D(i) / 100, longitude=D("4.85"))
    services.plan_reps(by=org.admin, rep_ids=[rep.pk], start=MONDAY, days=7)
    return PlannedVisit.objects.filter(owner=rep).order_by("day", "sequence").first()


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_check_in_needs_the_version_and_refuses_a_stale_one(client, org, planned):
    client.force_login(org.west_rep)
    url = f"/api/v1/visits/visits/{planned.pk}/check-in"
    assert _post(client, url, {}).status_code == 428
    assert _post(client, url, {"version": planned.version + 5}).status_code == 409
    answer = _post(client, url, {"version": planned.version, "latitude": "45.75",
                                 "longitude": "4.85"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "checked_in" and answer.json()["activity_id"]


def test_only_the_rep_and_their_managers_see_a_visit(client, org, planned):
    url = f"/api/v1/visits/visits/{planned.pk}"
    for user, status in ((org.west_rep, 200), (org.west_rep2, 404), (org.west_manager, 200),
                         (org.east_manager, 404), (org.east_rep, 404), (org.executive, 200),
                         (org.admin, 200)):
        client.force_login(user)
        assert client.get(url).status_code == status, user.username
    client.force_login(org.executive)
    refused = _post(client, f"{url}/skip", {"version": planned.version, "reason": "No"})
    assert refused.status_code == 403
    client.force_login(org.west_rep2)
    assert client.get("/api/v1/visits/visits", {"start": MONDAY}).json() == []


def test_skip_names_the_missing_reason(client, org, planned):
    client.force_login(org.west_rep)
    answer = _post(client, f"/api/v1/visits/visits/{planned.pk}/skip",
                   {"version": planned.version, "reason": ""})
    assert answer.status_code == 422 and "reason" in answer.content.decode()


def test_planning_is_a_job_for_managers_not_reps(client, org, planned):
    client.force_login(org.west_rep)
    assert _post(client, "/api/v1/visits/plans", {}).status_code == 403
    client.force_login(org.west_manager)
    answer = _post(client, "/api/v1/visits/plans", {"start": "2027-03-08", "days": 7})
    assert answer.status_code == 202, answer.content
    assert answer["Location"] == f"/api/v1/jobs/{answer.json()['id']}"


def test_an_accounts_visit_profile_is_set_by_whoever_works_it(client, org, planned):
    client.force_login(org.west_rep)
    url = f"/api/v1/visits/accounts/{planned.account_id}/profile"
    assert client.get(url).json()["frequency_source"] == "rule"
    body = {"visits_per_month": "2", "opening_hours": {"0": [["09:00", "12:00"]]}}
    first = client.put(url, data=json.dumps(body), content_type="application/json")
    assert first.status_code == 200 and first.json()["frequency_source"] == "by hand"
    again = client.put(url, data=json.dumps(body), content_type="application/json")
    assert again.status_code == 428
    bad = client.put(url, data=json.dumps({**body, "opening_hours": {"0": [["12:00", "09:00"]]},
                                           "version": first.json()["version"]}),
                     content_type="application/json")
    assert bad.status_code == 422 and "opening_hours" in bad.content.decode()
    client.force_login(org.east_rep)
    assert client.get(url).status_code == 404


def test_today_page_shows_the_stops_and_a_manager_may_open_a_reps_day(client, org, planned):
    client.force_login(org.west_rep)
    page = client.get("/visits/today/", {"day": planned.day.isoformat()})
    assert page.status_code == 200
    assert planned.account.name in page.content.decode()
    assert b"openstreetmap.org/directions" in page.content
    client.force_login(org.west_manager)
    other = client.get("/visits/today/", {"day": planned.day.isoformat(),
                                          "rep": org.west_rep.pk})
    assert planned.account.name in other.content.decode()
    client.force_login(org.east_manager)
    assert client.get("/visits/today/", {"rep": org.west_rep.pk}).status_code == 404
    client.force_login(org.west_manager)
    assert client.get("/visits/coverage/", {"start": MONDAY.isoformat()}).status_code == 200


def test_planned_visits_are_in_the_reps_calendar_feed(client, org, planned):
    token = regenerate_calendar_token(org.west_rep, by=org.west_rep)
    feed = client.get(f"/calendar/{token}.ics").content.decode()
    assert f"Visit: {planned.account.name}" in feed
    assert "rue Neuve" in feed


def test_the_visit_list_reads_a_fixed_number_of_queries(client, org, planned,
                                                         django_assert_max_num_queries):
    client.force_login(org.admin)
    rows = PlannedVisit.objects.count()
    assert rows >= 4
    with django_assert_max_num_queries(8):
        answer = client.get("/api/v1/visits/visits", {"start": MONDAY, "days": 7})
    assert len(answer.json()) == rows
