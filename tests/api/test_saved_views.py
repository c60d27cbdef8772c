"""Saved list views in the API: sharing within a team, versioned changes."""

from .conftest import assert_problem


def test_a_teammate_sees_a_shared_view_another_team_does_not(api_as, org):
    created = api_as(org.west_manager).post("/views", {
        "name": "West pipeline", "list_key": "opportunities", "shared": True,
        "params": {"sort": "-amount"}})
    assert created.status_code == 201, created.content
    private = api_as(org.west_manager).post("/views", {
        "name": "Mine only", "list_key": "opportunities", "params": {}})
    assert private.status_code == 201
    teammate = [v["name"] for v in api_as(org.west_rep).get("/views").data]
    assert teammate == ["West pipeline"]
    assert api_as(org.east_rep).get("/views").data == []
    assert api_as(org.east_rep).get(f"/views/{created.data['id']}").status_code == 404
    # A teammate reads it but may not change it.
    change = api_as(org.west_rep).patch(f"/views/{created.data['id']}",
                                         {"name": "Mine", "version": created.data["version"]})
    assert change.status_code == 403


def test_a_rep_may_not_share_a_view(api_as, org):
    response = api_as(org.west_rep).post("/views", {
        "name": "Shared", "list_key": "accounts", "shared": True})
    assert response.status_code == 403


def test_view_changes_need_the_current_version(api_as, org):
    api = api_as(org.west_rep)
    view = api.post("/views", {"name": "Mine", "list_key": "accounts",
                               "params": {"q": "pharma"}}).data
    assert_problem(api.patch(f"/views/{view['id']}", {"name": "Renamed"}), 428)
    renamed = api.patch(f"/views/{view['id']}", {"name": "Renamed", "version": view["version"]})
    assert renamed.status_code == 200 and renamed.data["name"] == "Renamed"
    assert_problem(api.patch(f"/views/{view['id']}", {"name": "Again",
                                                      "version": view["version"]}), 409)
    assert_problem(api.delete(f"/views/{view['id']}?version={view['version']}"), 409)
    assert api.delete(f"/views/{view['id']}?version={renamed.data['version']}").status_code == 204
    assert api.get("/views").data == []


def test_a_view_names_an_unknown_list(api_as, org):
    response = api_as(org.west_rep).post("/views", {"name": "X", "list_key": "planets"})
    assert_problem(response, 422, "list_key")
