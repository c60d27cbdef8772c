"""A rep's own limit of open leads: read by whoever plans routing, set by the rep's
manager or an admin, with its version; routing respects it."""

import pytest

from salesplan.marketing.models import RepCapacity
from tests.api.conftest import api_as as api_caller
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


api_as = api_caller  # the API caller fixture, shared with tests/api


def _rows(api, user):
    answer = api(user).get("/marketing/capacity")
    assert answer.status_code == 200, answer.data
    return {row["user_id"]: row for row in answer.data}


def test_a_manager_sees_the_reps_of_his_team_with_their_open_leads(org, api_as, policy):
    make_lead(org.west_rep)
    rows = _rows(api_as, org.west_manager)
    assert set(rows) == {org.west_rep.pk, org.west_rep2.pk}
    mine = rows[org.west_rep.pk]
    assert mine["max_open_leads"] == policy.default_capacity and mine["own_limit"] is False
    assert mine["open_leads"] == 1 and mine["version"] is None
    assert set(_rows(api_as, org.admin)) >= {org.west_rep.pk, org.east_rep.pk}


def test_a_manager_sets_clears_and_is_refused_a_stale_version(org, api_as, policy):
    api = api_as(org.west_manager)
    url = f"/marketing/capacity/{org.west_rep.pk}"
    first = api.call("put", url, {"max_open_leads": 3})
    assert first.status_code == 200 and first.data["max_open_leads"] == 3
    assert first.data["own_limit"] is True
    version = first.data["version"]
    # Changing a limit someone set needs the version read: missing 428, stale 409.
    assert api.call("put", url, {"max_open_leads": 9}).status_code == 428
    second = api.call("put", url, {"max_open_leads": 5, "version": version})
    assert second.status_code == 200 and second.data["version"] == version + 1
    stale = api.call("put", url, {"max_open_leads": 7, "version": version})
    assert stale.status_code == 409
    assert RepCapacity.objects.get(user=org.west_rep).max_open_leads == 5
    cleared = api.call("put", url, {"max_open_leads": None, "version": version + 1})
    assert cleared.data["own_limit"] is False
    assert cleared.data["max_open_leads"] == policy.default_capacity
    assert not RepCapacity.objects.filter(user=org.west_rep).exists()


def test_only_the_reps_manager_or_an_admin_sets_it(org, api_as, policy):
    url = f"/marketing/capacity/{org.west_rep.pk}"
    # Another team's manager does not see the rep: the same 404 as a missing one.
    assert api_as(org.east_manager).call("put", url, {"max_open_leads": 1}).status_code == 404
    for refused in (org.west_rep, org.marketer, org.executive):
        answer = api_as(refused).call("put", url, {"max_open_leads": 1})
        assert answer.status_code in (403, 404), (refused, answer.status_code)
    assert not RepCapacity.objects.exists()
    assert api_as(org.admin).call("put", url, {"max_open_leads": 2}).status_code == 200


def test_bad_limits_are_refused_naming_the_field(org, api_as, policy):
    url = f"/marketing/capacity/{org.west_rep.pk}"
    for bad in (-1, 100_001, 1.5, True, "many"):
        answer = api_as(org.west_manager).call("put", url, {"max_open_leads": bad})
        assert answer.status_code == 422, bad
        assert "max_open_leads" in str(answer.data), bad
    assert not RepCapacity.objects.exists()
