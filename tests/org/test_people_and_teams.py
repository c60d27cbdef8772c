"""Roles, managers, the team tree and the selling profile: who may change them, versions,
cycles refused, and managers' visibility following every change."""

from django.test import Client

from salesplan.core.models import AuditEntry
from salesplan.org.models import Role, Team, User

from ..api.conftest import assert_problem
from ..factories import make_account


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_an_admin_changes_role_team_and_manager_with_the_version(org, api_as):
    api = api_as(org.admin)
    rep = org.west_rep
    assert_problem(api.patch(f"/people/{rep.pk}", {"role": "manager"}), 428)
    response = api.patch(f"/people/{rep.pk}", {"version": rep.version, "team_id": org.east.pk,
                                               "manager_id": org.east_manager.pk})
    assert response.status_code == 200, response.content
    assert response.data["team_id"] == org.east.pk and response.data["version"] == rep.version + 1
    assert_problem(api.patch(f"/people/{rep.pk}", {"version": rep.version, "role": "manager"}),
                   409)
    assert _fresh(rep).role == Role.REP
    assert AuditEntry.objects.filter(record_type="user", record_id=rep.pk, field="team",
                                     old_value="West", new_value="East").exists()
    assert api_as(org.west_manager).patch(f"/people/{rep.pk}", {
        "version": rep.version + 1, "role": "admin"}).status_code == 403


def test_a_manager_sees_the_records_of_whoever_moves_into_their_team_at_once(org, api_as):
    account = make_account(org.west_rep)
    east = api_as(org.east_manager)
    assert east.get(f"/accounts/{account.pk}").status_code == 404
    api_as(org.admin).patch(f"/people/{org.west_rep.pk}", {
        "version": org.west_rep.version, "team_id": org.east.pk})
    assert east.get(f"/accounts/{account.pk}").status_code == 200
    assert api_as(org.west_manager).get(f"/accounts/{account.pk}").status_code == 404


def test_a_manager_sees_their_direct_reports_outside_their_teams(org, api_as):
    account = make_account(org.east_rep)
    west = api_as(org.west_manager)
    assert west.get(f"/accounts/{account.pk}").status_code == 404
    api_as(org.admin).patch(f"/people/{org.east_rep.pk}", {
        "version": org.east_rep.version, "manager_id": org.west_manager.pk})
    assert west.get(f"/accounts/{account.pk}").status_code == 200


def test_a_chain_of_managers_that_goes_round_is_refused(org, api_as):
    api = api_as(org.admin)
    api.patch(f"/people/{org.west_manager.pk}", {"version": org.west_manager.version,
                                                 "manager_id": org.vp.pk})
    body = assert_problem(api.patch(f"/people/{org.vp.pk}", {
        "version": org.vp.version, "manager_id": org.west_manager.pk}), 422, "manager")
    assert "go round" in str(body["errors"])
    assert_problem(api.patch(f"/people/{org.vp.pk}", {"version": org.vp.version,
                                                      "manager_id": org.vp.pk}), 422, "manager")
    assert _fresh(org.vp).manager_id is None


def test_the_team_tree_is_built_renamed_and_moved_and_cycles_are_refused(org, api_as):
    api = api_as(org.admin)
    created = api.post("/teams", {"name": "North", "parent_id": org.region.pk,
                                  "manager_id": org.east_manager.pk})
    assert created.status_code == 201, created.content
    north = created.data
    assert_problem(api.post("/teams", {"name": "north"}), 422, "name")
    moved = api.patch(f"/teams/{org.west.pk}", {"version": org.west.version,
                                                "parent_id": north["id"], "name": "West Coast"})
    assert moved.status_code == 200 and moved.data["parent_id"] == north["id"]
    # The region cannot go under North, which is below it.
    body = assert_problem(api.patch(f"/teams/{org.region.pk}", {
        "version": org.region.version, "parent_id": north["id"]}), 422, "parent_id")
    assert "circle" in str(body["errors"])
    assert_problem(api.patch(f"/teams/{north['id']}", {"version": north["version"],
                                                      "parent_id": north["id"]}), 422,
                   "parent_id")
    assert_problem(api.patch(f"/teams/{org.west.pk}", {"version": org.west.version,
                                                      "name": "Again"}), 409)
    tree = api.get("/teams").data
    assert [(t["name"], t["depth"]) for t in tree] == [
        ("Region", 0), ("East", 1), ("North", 1), ("West Coast", 2)]
    assert api_as(org.vp).post("/teams", {"name": "Mine"}).status_code == 403
    assert api_as(org.west_rep).get("/teams").status_code == 200


def test_moving_a_team_moves_its_people_into_their_new_managers_view(org, api_as):
    north = Team.objects.create(name="North", manager=org.east_manager)
    account = make_account(org.west_rep)
    manager = api_as(org.east_manager)
    assert manager.get(f"/accounts/{account.pk}").status_code == 404
    api_as(org.admin).patch(f"/teams/{org.west.pk}", {"version": org.west.version,
                                                      "parent_id": north.pk})
    assert manager.get(f"/accounts/{account.pk}").status_code == 200


def test_the_selling_profile_is_the_persons_own_and_validated(org, api_as):
    profile = {"time_zone": "Europe/Berlin", "work_starts": "07:30", "work_ends": "16:00",
               "working_days": [0, 1, 2, 3], "home_address": "Alexanderplatz 1, Berlin",
               "home_latitude": "52.521918", "home_longitude": "13.413215"}
    rep = org.west_rep
    own = api_as(rep).call("put", f"/people/{rep.pk}/profile", {"version": rep.version, **profile})
    assert own.status_code == 200, own.content
    stored = _fresh(rep)
    assert stored.working_weekdays == [0, 1, 2, 3] and str(stored.home_latitude) == "52.521918"
    version = stored.version
    assert_problem(api_as(rep).call("put", f"/people/{rep.pk}/profile", {
        "version": version, **profile, "home_latitude": "91"}), 422, "home_latitude")
    assert_problem(api_as(rep).call("put", f"/people/{rep.pk}/profile", {
        "version": version, **profile, "time_zone": "Mars/Olympus"}), 422, "time_zone")
    assert_problem(api_as(rep).call("put", f"/people/{rep.pk}/profile", {
        "version": version, **profile, "work_ends": "07:00"}), 422, "work_ends")
    assert_problem(api_as(rep).call("put", f"/people/{rep.pk}/profile", {
        "version": version, **profile, "home_longitude": None}), 422, "home_longitude")
    # Another rep may not; the rep's manager may; a manager of another team may not.
    assert api_as(org.west_rep2).call("put", f"/people/{rep.pk}/profile", {
        "version": version, **profile}).status_code == 403
    assert api_as(org.east_manager).call("put", f"/people/{rep.pk}/profile", {
        "version": version, **profile}).status_code == 403
    assert api_as(org.west_manager).call("put", f"/people/{rep.pk}/profile", {
        "version": version, **profile, "work_ends": "17:00"}).status_code == 200
    assert _fresh(rep).version == version + 1


def test_people_and_teams_pages(org):
    admin = Client()
    admin.force_login(org.admin)
    listing = admin.get("/settings/people/")
    assert listing.status_code == 200 and b"westrep@example.com" in listing.content
    assert b"Invite a person" in listing.content
    detail = admin.get(f"/settings/people/{org.west_rep.pk}/")
    assert detail.status_code == 200 and b"Selling profile" in detail.content
    saved = admin.post(f"/settings/people/{org.west_rep.pk}/edit/", {
        "version": org.west_rep.version, "first_name": "Wes", "last_name": "Rep",
        "email": org.west_rep.email, "role": "manager", "team": org.east.pk,
        "manager": org.east_manager.pk})
    assert saved.status_code == 302, saved.content
    assert _fresh(org.west_rep).role == Role.MANAGER
    stale = admin.post(f"/settings/people/{org.west_rep.pk}/edit/", {
        "version": org.west_rep.version, "first_name": "X", "email": org.west_rep.email,
        "role": "rep"})
    assert stale.status_code == 400 and b"changed by someone else" in stale.content
    teams = admin.get("/settings/teams/")
    assert teams.status_code == 200 and b"West" in teams.content
    created = admin.post("/settings/teams/", {"name": "South", "parent": org.region.pk})
    assert created.status_code == 302 and Team.objects.filter(name="South").exists()
    cycle = admin.post(f"/settings/teams/{org.region.pk}/", {
        "version": org.region.version, "name": "Region", "parent": org.west.pk})
    assert cycle.status_code == 400 and b"circle" in cycle.content

    rep = Client()
    rep.force_login(org.east_rep)
    page = rep.get("/settings/people/")
    assert page.status_code == 200 and b"Invite a person" not in page.content
    assert rep.get("/settings/people/invite/").status_code == 403
    assert rep.post("/settings/teams/", {"name": "Rogue"}).status_code == 403
