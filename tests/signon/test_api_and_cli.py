"""The group mappings over the API (admins, with versions) and the `salesplan signon`
command."""

from io import StringIO

import pytest
from django.core.management import call_command

from salesplan.core.models import AuditEntry
from salesplan.signon import two_factor
from salesplan.signon.models import GroupMapping

from ..api.conftest import api_as, assert_problem  # noqa: F401 - the API caller fixture
from .test_two_factor import enrol


@pytest.mark.django_db
def test_admins_map_groups_over_the_api(org, api_as):  # noqa: F811
    admin = api_as(org.admin)
    created = admin.post("/signon/mappings", {"group": "sales-west", "role": "rep",
                                              "team_id": org.west.pk})
    assert created.status_code == 201, created.data
    assert created.data["team"] == "West"
    mapping_id, version = created.data["id"], created.data["version"]
    assert AuditEntry.objects.filter(record_type="groupmapping", record_id=mapping_id,
                                     action="create").exists()

    assert_problem(admin.patch(f"/signon/mappings/{mapping_id}", {"role": "manager"}), 428)
    changed = admin.patch(f"/signon/mappings/{mapping_id}", {"role": "manager",
                                                             "version": version})
    assert changed.status_code == 200 and changed.data["role"] == "manager"
    assert_problem(admin.patch(f"/signon/mappings/{mapping_id}", {"role": "rep",
                                                                  "version": version}), 409)
    assert GroupMapping.objects.get(pk=mapping_id).role == "manager"

    assert_problem(admin.post("/signon/mappings", {"group": "sales-west", "role": "rep"}),
                   422, "group")
    assert_problem(admin.post("/signon/mappings", {"group": "g", "role": "boss"}), 422, "role")
    assert admin.call("delete", f"/signon/mappings/{mapping_id}?version={version + 1}"
                      ).status_code == 204
    assert not GroupMapping.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["vp", "west_rep", "marketer", "executive"])
def test_only_admins_see_or_change_mappings(org, api_as, who):  # noqa: F811
    caller = api_as(getattr(org, who))
    assert caller.get("/signon/mappings").status_code == 403
    assert caller.post("/signon/mappings", {"group": "g", "role": "admin"}).status_code == 403
    assert not GroupMapping.objects.exists()


@pytest.mark.django_db
def test_everyone_reads_their_own_two_factor_status(org, api_as):  # noqa: F811
    assert api_as(org.executive).get("/signon/two-factor").data == {
        "enabled": False, "required": False, "recovery_codes_left": 0}


@pytest.mark.django_db
def test_the_command_maps_groups_and_resets_two_factor(org):
    out = StringIO()
    call_command("signon", "map", "sales-east", "--role", "rep", "--team", "East", stdout=out)
    call_command("signon", "map", "sales-east", "--role", "manager", stdout=out)
    call_command("signon", "mappings", stdout=out)
    assert "sales-east\trole=manager\tteam=-" in out.getvalue()
    enrol(org.west_rep)
    call_command("signon", "reset-2fa", "westrep", stdout=out)
    assert not two_factor.has_two_factor(org.west_rep)
    call_command("signon", "policy", "--require-admin-2fa", "on", stdout=out)
    assert "required for admins: on" in out.getvalue()
    call_command("signon", "unmap", "sales-east", stdout=out)
    assert not GroupMapping.objects.exists()
