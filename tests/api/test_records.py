"""Create, read, change and delete each record type over the API."""

import pytest

from .resources import IDS, RESOURCES


@pytest.mark.parametrize("resource", RESOURCES, ids=IDS)
def test_manager_creates_reads_changes_and_deletes(org, api_as, resource):
    api = api_as(org.west_manager)
    created = api.post(resource.path, resource.body(org.west_manager))
    assert created.status_code == 201, created.data
    record = created.data
    assert record["owner_id"] == org.west_manager.pk and record["version"] == 1
    assert created["Location"] == f"/api/v1{resource.path}/{record['id']}"
    for field, value in resource.body(org.west_manager).items():
        if not field.endswith("_id") and field != "due_at":
            assert record[field] == value

    fetched = api.get(f"{resource.path}/{record['id']}")
    assert fetched.status_code == 200 and fetched.data == record
    listed = api.get(resource.path, limit=500)
    assert record["id"] in [row["id"] for row in listed.data["items"]]

    field, value = resource.change
    changed = api.patch(f"{resource.path}/{record['id']}", {field: value, "version": 1})
    assert changed.status_code == 200, changed.data
    assert changed.data[field] == value and changed.data["version"] == 2
    obj = resource.model.objects.get(pk=record["id"])
    assert str(getattr(obj, field)) == value

    audit = api.get(f"{resource.path}/{record['id']}/audit")
    assert [(e["action"], e["field"]) for e in audit.data["items"]] == [
        ("update", field), ("create", "")]
    assert audit.data["items"][0]["changed_by_id"] == org.west_manager.pk

    deleted = api.delete(f"{resource.path}/{record['id']}")
    assert deleted.status_code == 204
    assert not resource.model.objects.filter(pk=record["id"]).exists()
    assert api.get(f"{resource.path}/{record['id']}").status_code == 404


def test_money_is_a_decimal_string_with_its_currency(org, api_as):
    api = api_as(org.west_rep)
    body = RESOURCES[3].body(org.west_rep) | {"amount": "1000000000000.10", "currency": "JPY"}
    created = api.post("/opportunities", body)
    assert created.status_code == 201, created.data
    assert created.data["amount"] == "1000000000000.10"
    assert created.data["currency"] == "JPY"


def test_activity_time_without_offset_is_company_time(org, api_as):
    from salesplan.org.models import Company

    company = Company.current()
    company.time_zone = "America/New_York"
    company.save()
    from django.core.cache import cache

    cache.delete("company-time-zone")
    api = api_as(org.west_rep)
    body = RESOURCES[4].body(org.west_rep) | {"due_at": "2027-01-10T09:30:00"}
    created = api.post("/activities", body)
    assert created.status_code == 201, created.data
    assert created.data["due_at"].startswith("2027-01-10T14:30:00")  # 09:30 EST in UTC
