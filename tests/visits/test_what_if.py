"""What if a rep's home base or territories changed: the horizon planned in memory
before and after, for managers (and a rep for themselves), over the service, the API and
the page — and nothing written."""

import json
from datetime import date, time
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salesplan.core.errors import NotFound
from salesplan.territories import services as territory_services
from salesplan.territories.assignment import run_full_assignment
from salesplan.visits import planner, services
from salesplan.visits.models import PlannedDay, PlannedVisit, UnmetVisit, VisitPlanRun
from salesplan.visits.whatif import WhatIfChange, what_if
from tests.factories import make_account

MONDAY = date(2027, 3, 1)
PARIS = (D("48.856600"), D("2.352200"))
AWAY = (D("48.643600"), D("1.830000"))  # Rambouillet, some 45 km from Paris


@pytest.fixture
def paris_reps(org):
    """The West and East reps live in Paris, each with six enterprise accounts there,
    seen twice a month."""
    config = planner.settings()
    config.solver_solutions = 5
    config.save()
    services.create_rule(by=org.admin, data={"tier": "enterprise", "visits_per_month": D(2),
                                             "duration_minutes": 40})
    accounts = {}
    for rep in (org.west_rep, org.east_rep):
        rep.home_latitude, rep.home_longitude = PARIS
        rep.work_starts, rep.work_ends = time(8, 0), time(17, 0)
        rep.save()
        accounts[rep.pk] = [make_account(rep, name=f"{rep.username} shop {i}", tier="enterprise",
                                         latitude=PARIS[0] + D(i % 3) / 100,
                                         longitude=PARIS[1] + D(i) / 100,
                                         postal_code=f"9410{i}" if rep == org.west_rep
                                         else f"1000{i}")
                            for i in range(6)]
    return accounts


def _nothing_written():
    return (PlannedVisit.objects.count(), PlannedDay.objects.count(), UnmetVisit.objects.count(),
            VisitPlanRun.objects.count()) == (0, 0, 0, 0)


def test_moving_the_home_base_far_away_costs_driving_and_nothing_is_written(
        org, paris_reps):
    found = what_if(org.west_manager, org.west_rep.pk, WhatIfChange(*AWAY), start=MONDAY,
                    days=14)
    assert found.before.accounts == found.after.accounts == 6
    # Twice a month is once in a fortnight.
    assert found.before.required == found.after.required == 6
    assert found.before.planned == 6 and found.before.unmet == 0
    # Every day with visits now starts and ends some 45 km from the accounts.
    assert found.after.km > found.before.km + 100
    assert found.after.planned + found.after.unmet == 6
    assert found.after.driving_share > found.before.driving_share
    assert (round(found.home_after.lat, 4), round(found.home_after.lon, 4)) == (48.6436, 1.83)
    assert "home base at 48.64360, 1.83000" in found.changes
    assert _nothing_written()


def test_the_same_situation_plans_the_same_before_and_after(org, paris_reps):
    found = what_if(org.admin, org.west_rep.pk, WhatIfChange(*PARIS), start=MONDAY, days=7)
    assert found.after == found.before


def test_home_base_at_an_account_address(org, paris_reps):
    shop = paris_reps[org.west_rep.pk][5]
    found = what_if(org.west_manager, org.west_rep.pk,
                    WhatIfChange(home_account_id=shop.pk), start=MONDAY, days=7)
    assert (found.home_after.lat, found.home_after.lon) == (float(shop.latitude),
                                                            float(shop.longitude))
    with pytest.raises(ValidationError) as both:
        what_if(org.west_manager, org.west_rep.pk,
                WhatIfChange(*AWAY, home_account_id=shop.pk), start=MONDAY, days=7)
    assert "home_account_id" in both.value.message_dict


def test_working_other_territories_plans_their_accounts(org, paris_reps):
    alignment = territory_services.create_alignment(by=org.admin, name="FY27")
    east = territory_services.create_territory(alignment, by=org.admin, data={"name": "East"})
    territory_services.create_rule(east, by=org.admin, conditions=[
        {"field": "postal_code", "op": "prefix", "values": ["100"]}])
    run_full_assignment(alignment)
    territory_services.activate_alignment(alignment, by=org.admin)
    found = what_if(org.admin, org.west_rep.pk, WhatIfChange(territory_ids=[east.pk]),
                    start=MONDAY, days=14)
    assert (found.before.accounts, found.after.accounts) == (6, 6)
    assert found.after.required == 6 and found.after.planned == 6
    assert found.changes == ["works the accounts of East (6 accounts instead of 6)"]
    with pytest.raises(ValidationError) as unknown:
        what_if(org.admin, org.west_rep.pk, WhatIfChange(territory_ids=[east.pk + 999]),
                start=MONDAY, days=7)
    assert "territory_ids" in unknown.value.message_dict
    # A rep opens only their own territories: East is not one of the West rep's.
    with pytest.raises(ValidationError):
        what_if(org.west_rep, None, WhatIfChange(territory_ids=[east.pk]), start=MONDAY,
                days=7)


def test_bad_input_names_the_field(org, paris_reps):
    for change, field in ((WhatIfChange(), "latitude"),
                          (WhatIfChange(latitude=D(91), longitude=D(2)), "latitude"),
                          (WhatIfChange(latitude=D(45)), "longitude"),
                          (WhatIfChange(home_account_id=10**9), "home_account_id")):
        with pytest.raises(ValidationError) as refused:
            what_if(org.admin, org.west_rep.pk, change, start=MONDAY, days=7)
        assert field in refused.value.message_dict, change
    with pytest.raises(ValidationError) as too_long:
        what_if(org.admin, org.west_rep.pk, WhatIfChange(*AWAY), start=MONDAY, days=120)
    assert "days" in too_long.value.message_dict


# Who may try a change on whose plan: the registry lets admins, managers and reps run a
# what-if; a rep only on their own plan, a manager on the reps they see.
WHO_MAY = [
    ("admin", "west_rep", "ok"), ("admin", "east_rep", "ok"),
    ("west_manager", "west_rep", "ok"), ("west_manager", "east_rep", "not found"),
    ("west_rep", "west_rep", "ok"), ("west_rep", "west_rep2", "not found"),
    ("west_rep", "east_rep", "not found"),
    ("executive", "west_rep", "refused"), ("marketer", "west_rep", "refused"),
]


@pytest.mark.parametrize(("actor", "rep", "expected"), WHO_MAY)
def test_who_may_run_a_what_if_for_whom(org, paris_reps, actor, rep, expected):
    asker, subject = getattr(org, actor), getattr(org, rep)
    change = WhatIfChange(*AWAY)
    if expected == "ok":
        assert what_if(asker, subject.pk, change, start=MONDAY, days=3).rep == subject
    else:
        with pytest.raises(NotFound if expected == "not found" else PermissionDenied):
            what_if(asker, subject.pk, change, start=MONDAY, days=3)
    assert _nothing_written()


def _post(client, body):
    return client.post("/api/v1/visits/what-if", data=json.dumps(body),
                       content_type="application/json")


@pytest.mark.parametrize(("actor", "rep", "status"), [
    ("west_manager", "west_rep", 200), ("west_manager", "east_rep", 404),
    ("west_rep", "west_rep", 200), ("west_rep", "west_rep2", 404),
    ("executive", "west_rep", 403)])
def test_the_api_answers_before_and_after(client, org, paris_reps, actor, rep, status):
    client.force_login(getattr(org, actor))
    answer = _post(client, {"rep_id": getattr(org, rep).pk, "latitude": str(AWAY[0]),
                            "longitude": str(AWAY[1]), "start": str(MONDAY), "days": 14})
    assert answer.status_code == status, answer.content
    if status == 200:
        body = answer.json()
        assert body["before"]["accounts"] == 6
        assert D(body["after"]["km"]) > D(body["before"]["km"])
        assert set(body["before"]) >= {"planned", "unmet", "driving_share", "km"}
    assert _nothing_written()


def test_the_api_refuses_bad_input_naming_the_field(client, org, paris_reps):
    client.force_login(org.west_manager)
    answer = _post(client, {"rep_id": org.west_rep.pk, "latitude": "45"})
    assert answer.status_code == 422
    assert "longitude" in answer.content.decode()


def test_the_page_compares_for_a_manager_and_is_refused_to_marketing(client, org, paris_reps):
    client.force_login(org.west_manager)
    page = client.get("/visits/what-if/", {"rep": org.west_rep.pk, "latitude": AWAY[0],
                                           "longitude": AWAY[1], "days": 5})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Visits planned" in text and "Share of the working day driving" in text
    assert 'id="what-if"' in text
    # A rep's form offers only themselves: another rep is not a valid choice.
    client.force_login(org.west_rep)
    other = client.get("/visits/what-if/", {"rep": org.west_rep2.pk, "latitude": AWAY[0],
                                            "longitude": AWAY[1]})
    assert other.status_code == 200 and 'id="what-if"' not in other.content.decode()
    client.force_login(org.marketer)
    assert client.get("/visits/what-if/").status_code == 403
    assert _nothing_written()


def _visit(rep, account, day, *, done: bool):
    """A visit the rep has made (checked in and out) or is at (checked in)."""
    visit = PlannedVisit.objects.create(owner=rep, account=account, day=day, sequence=1,
                                        starts=time(9, 0), ends=time(9, 40))
    visit = services.check_in(visit, by=rep, version=visit.version)
    if done:
        visit = services.check_out(visit, by=rep, version=visit.version, outcome="positive")
    return visit


def test_visits_already_made_count_on_both_sides_and_are_not_planned_again(org, paris_reps):
    shops = paris_reps[org.west_rep.pk]
    _visit(org.west_rep, shops[0], MONDAY, done=True)
    _visit(org.west_rep, shops[1], MONDAY, done=False)
    skipped = PlannedVisit.objects.create(owner=org.west_rep, account=shops[2],
                                          day=MONDAY, status="skipped", reason="Closed")
    before_rows = PlannedVisit.objects.count()
    found = what_if(org.west_manager, org.west_rep.pk, WhatIfChange(*AWAY), start=MONDAY,
                    days=14)
    # Once a fortnight each: two of the six visits are made (or under way); a skipped
    # visit is not one of them.
    for side in (found.before, found.after):
        assert (side.required, side.done) == (6, 2)
        assert side.planned + side.unmet == 4
    assert found.before.planned == 4
    # A visit made before the horizon does not count.
    later = what_if(org.west_manager, org.west_rep.pk, WhatIfChange(*AWAY),
                    start=MONDAY.replace(day=2), days=14)
    assert later.before.done == later.after.done == 0
    assert PlannedVisit.objects.count() == before_rows
    assert PlannedVisit.objects.get(pk=skipped.pk).status == "skipped"


def test_a_planning_run_and_the_what_if_agree_on_what_is_left(org, paris_reps):
    shops = paris_reps[org.west_rep.pk]
    _visit(org.west_rep, shops[0], MONDAY, done=True)
    found = what_if(org.admin, org.west_rep.pk, WhatIfChange(*PARIS), start=MONDAY, days=14)
    run = services.plan_reps(by=org.admin, rep_ids=[org.west_rep.pk], start=MONDAY, days=14)
    assert run.summary["planned"] == found.before.planned == 5
    assert not PlannedVisit.objects.filter(account=shops[0], status="planned").exists()
