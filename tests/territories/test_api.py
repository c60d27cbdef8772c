"""The territory API: building a map, running it, and what each role may do."""

from datetime import timedelta

import pytest

from salesplan.core.clock import company_today
from salesplan.customers.models import Account
from salesplan.territories.assignment import run_full_assignment
from salesplan.territories.models import Alignment, TerritoryMember

from ..api.conftest import assert_problem
from ..factories import make_account
from .conftest import grant_map

T = "/territories"


def test_manager_builds_runs_and_activates_a_map(org, api_as, django_capture_on_commit_callbacks):
    make_account(org.west_rep2, name="Bay Co", postal_code="94107", potential="1000")
    make_account(org.west_rep2, name="NY Co", postal_code="10001")
    grant_map(org.west_manager)
    api = api_as(org.west_manager)
    alignment = api.post(f"{T}/alignments", {"name": "FY27"})
    assert alignment.status_code == 201, alignment.data
    aid = alignment.data["id"]
    west = api.post(f"{T}/alignments/{aid}/territories", {"name": "West"}).data
    rule = api.post(f"{T}/{west['id']}/rules", {"conditions": [
        {"field": "postal_code", "op": "prefix", "values": ["94"]}]})
    assert rule.status_code == 201 and rule.data["position"] == 1
    member = api.post(f"{T}/{west['id']}/members", {"user_id": org.west_rep.pk})
    assert member.status_code == 201 and member.data["role"] == "owner"
    preview = api.post(f"{T}/rules/preview", {"conditions": [
        {"field": "postal_code", "op": "range", "values": ["94000", "94999"]}]})
    assert preview.data == {"accounts": 1, "capped": False}
    with django_capture_on_commit_callbacks(execute=True):
        job = api.post(f"{T}/alignments/{aid}/assign")
    assert job.status_code == 202 and job["Location"] == f"/api/v1/jobs/{job.data['id']}"
    status = api.get(f"/jobs/{job.data['id']}")
    assert status.data["status"] == "succeeded" and status.data["percent"] == 100
    assert status.data["result"]["unclaimed"] == 1
    assert api.get(f"{T}/jobs/{job.data['id']}").data == status.data  # the old address
    accounts = api.get(f"{T}/{west['id']}/accounts")
    assert [(a["account_name"], a["reason"]) for a in accounts.data["items"]] == [
        ("Bay Co", "postal code 94* in rule 1 of West")]
    version = api.get(f"{T}/alignments/{aid}").data["version"]
    activated = api.post(f"{T}/alignments/{aid}/activate", {"ownership": "stay",
                                                            "version": version})
    assert activated.status_code == 200, activated.data
    assert Alignment.objects.get(pk=aid).status == "active"
    size = api.get(f"{T}/{west['id']}/size").data
    assert size["accounts"] == 1 and size["potential"] == "1000.00" and size["members"] == 1
    # The rep of West now sees Bay Co through the territory.
    rep_accounts = api_as(org.west_rep).get("/accounts").data["items"]
    assert [a["name"] for a in rep_accounts] == ["Bay Co"]


def test_bad_input_answers_with_the_field(org, api_as, territory_map):
    api = api_as(org.admin)
    wid = territory_map.west.pk
    bad_range = api.post(f"{T}/{territory_map.east.pk}/rules", {"conditions": [
        {"field": "postal_code", "op": "range", "values": ["95000", "94000"]}]})
    body = assert_problem(bad_range, 422, "conditions")
    assert "Rule 2 of East" in body["errors"]["conditions"][0]
    cycle = api.patch(f"{T}/{territory_map.region.pk}", {
        "parent_id": wid, "version": territory_map.region.version})
    assert_problem(cycle, 422, "parent_id")
    no_user = api.post(f"{T}/{wid}/members", {"user_id": 999999})
    assert_problem(no_user, 422, "user_id")
    assert api.get(f"{T}/999999").status_code == 404


def test_reps_read_but_cannot_change_territories(org, api_as, territory_map):
    rep = api_as(org.west_rep)
    assert rep.get(f"{T}/alignments").status_code == 200
    assert rep.get(f"{T}/{territory_map.west.pk}/rules").status_code == 200
    # A neighbouring territory (and its goals) is hidden from the rep, as if it did not exist.
    assert_problem(rep.get(f"{T}/{territory_map.east.pk}/rules"), 404)
    assert_problem(rep.get(f"{T}/{territory_map.east.pk}/goals"), 404)
    assert api_as(org.east_rep).get(f"{T}/{territory_map.east.pk}/goals").status_code == 200
    assert_problem(rep.post(f"{T}/alignments", {"name": "Mine"}), 403)
    assert_problem(rep.patch(f"{T}/{territory_map.west.pk}", {
        "priority": 9, "version": territory_map.west.version}), 403)
    assert_problem(api_as(org.executive).post(
        f"{T}/{territory_map.west.pk}/members", {"user_id": org.executive.pk}), 403)
    assert_problem(api_as(org.marketer).get(f"{T}/alignments"), 403)
    assert TerritoryMember.objects.filter(user=org.executive).count() == 0


def test_exceptions_and_violations_over_the_api(org, api_as, active_map):
    nyc = Account.objects.get(name="Manhattan Co")
    Account.objects.filter(pk=nyc.pk).update(owner=org.west_rep)  # his, outside his territory
    until = (company_today() + timedelta(days=7)).isoformat()
    requested = api_as(org.west_rep).post(f"{T}/exceptions", {
        "account_id": nyc.pk, "reason": "Referral", "until": until})
    assert requested.status_code == 201 and requested.data["status"] == "requested"
    eid = requested.data["id"]
    version = requested.data["version"]
    # Another team's manager does not see the exception at all.
    assert_problem(api_as(org.east_manager).post(f"{T}/exceptions/{eid}/approve",
                                                 {"version": version}), 404)
    approved = api_as(org.west_manager).post(f"{T}/exceptions/{eid}/approve",
                                             {"note": "ok", "version": version})
    assert approved.data["status"] == "approved"
    assert approved.data["approved_by_id"] == org.west_manager.pk
    found = api_as(org.admin).get(f"{T}/violations").data
    bay = Account.objects.get(name="Bay Co")
    assert {"kind": "account", "record_id": bay.pk} in [
        {"kind": v["kind"], "record_id": v["record_id"]} for v in found]
    fixed = api_as(org.admin).post(f"{T}/violations/fix", {"kind": "account",
                                                             "record_id": bay.pk})
    assert fixed.data == {"new_owner_id": org.west_rep.pk}


def test_goals_and_what_if_over_the_api(org, api_as, active_map):
    grant_map(org.vp)
    api = api_as(org.vp)
    goals = api.post(f"{T}/{active_map.region.pk}/goals", {
        "period_start": "2027-01-01", "period_end": "2027-12-31",
        "formula": "share_of_potential", "total": "100.00",
        "overrides": [{"territory_id": active_map.east.pk, "amount": "30", "reason": "New"}]})
    assert goals.status_code == 201, goals.data
    amounts = {g["territory_name"]: g["amount"] for g in goals.data}
    assert amounts == {"US": "100.00", "West": "70.00", "East": "30.00"}
    draft = api.post(f"{T}/alignments", {"name": "FY28",
                                          "copy_from_id": active_map.alignment.pk}).data
    stale = api.get(f"{T}/alignments/{draft['id']}/what-if")
    assert "run it before comparing" in assert_problem(stale, 422, "alignment")["detail"]
    run_full_assignment(Alignment.objects.get(pk=draft["id"]))
    compared = api.get(f"{T}/alignments/{draft['id']}/what-if")
    assert compared.status_code == 200 and compared.data["moved_accounts"] == 0
    assert {row["territory"] for row in compared.data["balance"]} == {"US", "West", "East"}


@pytest.mark.parametrize("path", ["/alignments", "/violations", "/exceptions"])
def test_list_queries_do_not_grow_with_rows(org, api_as, active_map, path,
                                            django_assert_max_num_queries):
    api = api_as(org.admin)
    api.get(T + path)
    with django_assert_max_num_queries(12):
        assert api.get(T + path).status_code == 200


def test_a_territorys_parts_are_named_on_their_own(org, api_as, territory_map):
    api = api_as(org.admin)
    west, east = territory_map.west.pk, territory_map.east.pk
    created = api.post(f"{T}/{west}/rules", {"conditions": [
        {"field": "postal_code", "op": "prefix", "values": ["97"]}]})
    assert created.status_code == 201, created.data
    url = f"/api/v1{T}/rules/{created.data['id']}"
    assert created["Location"] == url
    changed = api.patch(f"{T}/rules/{created.data['id']}", {
        "combine": "any", "version": created.data["version"]})
    assert changed.status_code == 200 and changed.data["combine"] == "any"
    stale = api.patch(f"{T}/rules/{created.data['id']}", {
        "combine": "all", "version": created.data["version"]})
    assert_problem(stale, 409)
    history = api.get(f"{T}/rules/{created.data['id']}/audit").data["items"]
    assert [entry["action"] for entry in history][:2] == ["update", "create"]
    export = api.client.get(f"/api/v1{T}/{west}/rules/export.csv", headers=api.headers)
    assert export.status_code == 200 and "97" in b"".join(export.streaming_content).decode()
    # A rep reads the rules of their own territory only, listed or one by one.
    rep = api_as(org.west_rep)
    assert rep.get(f"{T}/rules/{created.data['id']}").status_code == 200
    east_rule = territory_map.east.rules.first()
    assert_problem(rep.get(f"{T}/rules/{east_rule.pk}"), 404)
    # Named accounts: added under the territory, removed on their own with the version.
    account = make_account(org.east_rep, name="Named Co")
    named = api.post(f"{T}/{east}/named-accounts", {"account_id": account.pk})
    assert named.status_code == 201 and named["Location"].endswith(
        f"{T}/named-accounts/{named.data['id']}")
    assert [n["account_id"] for n in api.get(f"{T}/{east}/named-accounts").data] == [account.pk]
    assert_problem(api.delete(f"{T}/named-accounts/{named.data['id']}"), 428)
    gone = api.delete(f"{T}/named-accounts/{named.data['id']}?version={named.data['version']}")
    assert gone.status_code == 204
    assert api.get(f"{T}/{east}/named-accounts").data == []
