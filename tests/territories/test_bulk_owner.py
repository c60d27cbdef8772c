"""A bulk change of owner respects the territory boundaries, row by row."""

import pytest

from salesplan.customers.models import Account

pytestmark = pytest.mark.django_db


def test_a_new_owner_outside_the_territory_is_refused_per_row(
        org, active_map, api_as, django_capture_on_commit_callbacks):
    bay, nyc = Account.objects.get(name="Bay Co"), Account.objects.get(name="Manhattan Co")
    body = {"action": "change_owner", "ids": [bay.pk, nyc.pk],
            "values": {"owner": org.west_rep.pk}}
    preview = api_as(org.admin).post("/accounts/bulk", body).data
    assert preview["will_change"] == 1
    assert [(r["id"], "belongs to East" in r["reason"]) for r in preview["refused"]] == [
        (nyc.pk, True)]
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_as(org.admin).post("/accounts/bulk", {**body, "preview": False})
    result = api_as(org.admin).get(f"/jobs/{answer.data['id']}").data["result"]
    outcome = {r["id"]: (r["status"], r["reason"]) for r in result["rows"]}
    assert outcome[bay.pk] == ("done", "")
    assert outcome[nyc.pk][0] == "refused" and "belongs to East" in outcome[nyc.pk][1]
    bay.refresh_from_db()
    nyc.refresh_from_db()
    assert bay.owner_id == org.west_rep.pk and nyc.owner_id == org.admin.pk
