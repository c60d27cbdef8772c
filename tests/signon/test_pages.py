"""The admins' Sign-on page: map groups, set the policy, reset a user's two-factor."""

import pytest
from django.test import Client

from salesplan.signon import two_factor
from salesplan.signon.models import GroupMapping, SignOnPolicy

from .test_two_factor import enrol


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_an_admin_maps_groups_and_sets_the_policy_on_the_page(org):
    admin = client_of(org.admin)
    page = admin.get("/signon/settings/")
    assert page.status_code == 200 and "No group is mapped yet" in page.content.decode()
    assert admin.post("/signon/settings/mappings/add/", {
        "group": "sales-west", "role": "rep", "team": org.west.pk}).status_code == 302
    mapping = GroupMapping.objects.get(group="sales-west")
    assert (mapping.role, mapping.team) == ("rep", org.west)

    duplicate = admin.post("/signon/settings/mappings/add/", {"group": "sales-west",
                                                              "role": "manager"})
    assert duplicate.status_code == 400 and "mapped already" in duplicate.content.decode()

    prefix = f"m{mapping.pk}"
    stale = admin.post(f"/signon/settings/mappings/{mapping.pk}/edit/", {
        f"{prefix}-group": "sales-west", f"{prefix}-role": "manager", "version": 0},
        headers={"referer": "/signon/settings/"})
    assert stale.status_code == 302 and stale["Location"] == "/signon/settings/"
    assert "changed" in admin.get("/signon/settings/").content.decode()
    assert GroupMapping.objects.get(pk=mapping.pk).role == "rep"
    admin.post(f"/signon/settings/mappings/{mapping.pk}/edit/", {
        f"{prefix}-group": "sales-west", f"{prefix}-role": "manager",
        "version": mapping.version})
    assert GroupMapping.objects.get(pk=mapping.pk).role == "manager"

    policy = SignOnPolicy.current()
    admin.post("/signon/settings/policy/", {"require_admin_two_factor": "on",
                                            "version": policy.version})
    assert SignOnPolicy.current().require_admin_two_factor
    # The admin who asked for it, without two-factor, sets it up before anything else.
    assert admin.get("/accounts/")["Location"].startswith("/signon/two-factor/")


@pytest.mark.django_db
def test_an_admin_resets_two_factor_on_the_page(org):
    rep = client_of(org.west_rep)
    enrol(org.west_rep)
    admin = client_of(org.admin)
    assert org.west_rep.username in admin.get("/signon/settings/").content.decode()
    assert rep.post(f"/signon/settings/users/{org.west_rep.pk}/reset/").status_code == 403
    assert two_factor.has_two_factor(org.west_rep)
    admin.post(f"/signon/settings/users/{org.west_rep.pk}/reset/")
    assert not two_factor.has_two_factor(org.west_rep)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["vp", "west_rep", "executive"])
def test_others_do_not_see_the_sign_on_page(org, who):
    client = client_of(getattr(org, who))
    assert client.get("/signon/settings/").status_code == 403
    assert client.post("/signon/settings/mappings/add/", {"group": "g", "role": "admin"}
                       ).status_code == 403
    assert not GroupMapping.objects.exists()
