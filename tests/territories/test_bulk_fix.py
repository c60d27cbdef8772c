"""Bulk "fix boundary violations" from the account list: each chosen account goes to its
territory's owner, previewed first, then a job with a per-row outcome."""

import pytest

from salesplan.customers.models import Account

pytestmark = pytest.mark.django_db


def test_violating_accounts_go_to_their_territorys_owner(
        org, active_map, api_as, django_capture_on_commit_callbacks):
    bay, nyc, austin = (Account.objects.get(name=n) for n in ("Bay Co", "Manhattan Co",
                                                               "Austin Co"))
    body = {"action": "fix_boundaries", "ids": [bay.pk, nyc.pk, austin.pk]}
    preview = api_as(org.admin).post("/accounts/bulk", body).data
    assert preview["will_change"] == 2 and preview["will_refuse"] == 1
    assert {(r["name"], r["after"]) for r in preview["sample"]} >= {
        ("Bay Co", str(org.west_rep)), ("Manhattan Co", str(org.east_rep))}
    assert preview["refused"][0]["id"] == austin.pk
    assert "does not break the boundaries" in preview["refused"][0]["reason"]
    assert Account.objects.get(pk=bay.pk).owner_id == org.admin.pk  # the preview changed nothing
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_as(org.admin).post("/accounts/bulk", {**body, "preview": False})
    assert answer.status_code == 202
    result = api_as(org.admin).get(f"/jobs/{answer.data['id']}").data["result"]
    outcome = {r["id"]: r["status"] for r in result["rows"]}
    assert outcome == {bay.pk: "done", nyc.pk: "done", austin.pk: "refused"}
    assert Account.objects.get(pk=bay.pk).owner_id == org.west_rep.pk
    assert Account.objects.get(pk=nyc.pk).owner_id == org.east_rep.pk
    assert Account.objects.get(pk=austin.pk).owner_id == org.admin.pk


def test_only_who_may_fix_violations_starts_it(org, active_map, api_as):
    bay = Account.objects.get(name="Bay Co")
    answer = api_as(org.west_rep).post("/accounts/bulk", {"action": "fix_boundaries",
                                                          "ids": [bay.pk]})
    assert answer.status_code == 403
    assert Account.objects.get(pk=bay.pk).owner_id == org.admin.pk


def test_without_an_active_map_the_request_says_why(org, api_as):
    answer = api_as(org.admin).post("/accounts/bulk", {"action": "fix_boundaries",
                                                       "ids": [1]})
    assert answer.status_code == 422 and "No territory map is active" in str(answer.data)
