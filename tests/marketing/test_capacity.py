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


def test_the_capacity_page_sets_and_clears_a_reps_limit(org, client, policy):
    make_lead(org.west_rep)
    client.force_login(org.west_manager)
    page = client.get("/marketing/capacity/").content.decode()
    assert str(org.west_rep) in page and str(org.east_rep) not in page
    url = f"/marketing/capacity/{org.west_rep.pk}/"
    assert f'action="{url}"' in page
    saved = client.post(url, {"max_open_leads": "4", "version": ""}, follow=True)
    limit = RepCapacity.objects.get(user=org.west_rep)
    assert limit.max_open_leads == 4 and "saved" in saved.content.decode()
    # A limit someone set is replaced only with the version the page was drawn with.
    refused = client.post(url, {"max_open_leads": "9", "version": str(limit.version - 1)},
                          HTTP_REFERER="/marketing/capacity/", follow=True)
    assert "changed by someone else" in refused.content.decode()
    assert client.post(url, {"max_open_leads": "9"}).status_code in (302, 409)
    assert RepCapacity.objects.get(user=org.west_rep).max_open_leads == 4
    bad = client.post(url, {"max_open_leads": "many", "version": str(limit.version)},
                      follow=True).content.decode()
    assert "whole number" in bad and RepCapacity.objects.get(user=org.west_rep).max_open_leads == 4
    client.post(url, {"max_open_leads": "", "clear": "1", "version": str(limit.version)})
    assert not RepCapacity.objects.filter(user=org.west_rep).exists()


def test_the_capacity_page_is_for_managers_and_admins(org, client, policy):
    client.force_login(org.west_rep)
    assert client.get("/marketing/capacity/").status_code == 403
    assert client.post(f"/marketing/capacity/{org.west_rep.pk}/",
                       {"max_open_leads": "1"}).status_code == 403
    client.force_login(org.marketer)  # reads the limits, sets none
    page = client.get("/marketing/capacity/")
    assert page.status_code == 200 and b'href="/marketing/capacity/"' in page.content
    assert b'action="/marketing/capacity/' not in page.content
    assert client.post(f"/marketing/capacity/{org.west_rep.pk}/",
                       {"max_open_leads": "1"}).status_code == 403
    client.force_login(org.east_manager)  # another team's rep looks missing
    assert client.post(f"/marketing/capacity/{org.west_rep.pk}/",
                       {"max_open_leads": "1"}).status_code == 404
    assert not RepCapacity.objects.exists()
