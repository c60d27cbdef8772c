"""Another team's records are invisible (404, never data); visible records the caller
may not change are refused (403); in neither case does anything change."""

import pytest

from salesplan.core.models import AuditEntry
from tests.factories import make_account, make_lead, make_opportunity

from .conftest import assert_problem
from .resources import IDS, RESOURCES


def _snapshot(model):
    return list(model.objects.order_by("pk").values())


@pytest.mark.parametrize("resource", RESOURCES, ids=IDS)
def test_other_teams_record_is_not_found_and_unchanged(org, api_as, resource):
    theirs = resource.make(org.east_rep)
    api = api_as(org.west_manager)
    before, audit_before = _snapshot(resource.model), AuditEntry.objects.count()
    url = f"{resource.path}/{theirs.pk}"
    field, value = resource.change

    for response in (api.get(url), api.patch(url, {field: value, "version": theirs.version}),
                     api.delete(url), api.get(f"{url}/audit")):
        body = assert_problem(response, 404)
        assert str(theirs) not in response.content.decode()
        assert set(body) == {"type", "title", "status", "detail"}
    assert theirs.pk not in [r["id"] for r in api.get(resource.path, limit=500).data["items"]]
    assert _snapshot(resource.model) == before
    assert AuditEntry.objects.count() == audit_before


@pytest.mark.parametrize("resource", RESOURCES, ids=IDS)
def test_executive_reads_but_cannot_write(org, api_as, resource):
    record = resource.make(org.west_rep)
    api = api_as(org.executive)
    before = _snapshot(resource.model)
    url = f"{resource.path}/{record.pk}"
    field, value = resource.change

    assert api.get(url).status_code == 200
    assert_problem(api.post(resource.path, resource.body(org.west_rep)), 403)
    assert_problem(api.patch(url, {field: value, "version": record.version}), 403)
    assert_problem(api.delete(url), 403)
    assert _snapshot(resource.model) == before


def test_rep_may_not_delete_an_account_they_see(org, api_as):
    account = make_account(org.west_rep)
    assert_problem(api_as(org.west_rep).delete(f"/accounts/{account.pk}"), 403)
    account.refresh_from_db()


def test_linking_to_a_record_you_cannot_see_names_the_field(org, api_as):
    theirs = make_account(org.east_rep)
    api = api_as(org.west_rep)
    response = api.post("/contacts", {"last_name": "Doe", "account_id": theirs.pk})
    body = assert_problem(response, 422, "account_id")
    assert str(theirs) not in response.content.decode()
    assert "account" not in body["errors"]
    mine = make_opportunity(org.west_rep)
    response = api.patch(f"/opportunities/{mine.pk}",
                         {"account_id": theirs.pk, "version": mine.version})
    assert_problem(response, 422, "account_id")
    mine.refresh_from_db()
    assert mine.account_id != theirs.pk and mine.version == 1


def test_rep_cannot_give_records_to_another_team(org, api_as):
    response = api_as(org.west_rep).post("/accounts", {"name": "Gift",
                                                       "owner_id": org.east_rep.pk})
    assert_problem(response, 422, "owner_id")


def test_actions_on_invisible_records_are_not_found(org, api_as):
    api = api_as(org.west_rep)
    lead, opp = make_lead(org.east_rep), make_opportunity(org.east_rep)
    stage = opp.pipeline.stages.get(position=1)
    assert_problem(api.post(f"/leads/{lead.pk}/convert", {}), 404)
    assert_problem(api.get(f"/leads/{lead.pk}/duplicates"), 404)
    assert_problem(api.post(f"/opportunities/{opp.pk}/move",
                            {"stage_id": stage.pk, "version": 1}), 404)
    assert_problem(api.get(f"/opportunities/{opp.pk}/history"), 404)
    lead.refresh_from_db()
    opp.refresh_from_db()
    assert lead.status == "new" and opp.stage.position == 0
