"""Territory-boundary violations in quality control come from the territories app, and
their fix (give the record to the territory's owner) is for managers."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from salesplan.customers.models import Account
from salesplan.quality.selectors import territory_items
from salesplan.quality.services import apply_fix

from ..factories import make_account
from ..territories.conftest import active_map, territory_map  # noqa: F401 - fixtures


def test_violations_listed_and_fixed_by_a_manager(org, active_map, api_as):  # noqa: F811
    misplaced = make_account(org.east_rep, name="Misplaced", postal_code="94105")
    from salesplan.territories.assignment import run_full_assignment

    run_full_assignment(active_map.alignment)
    names = {row["name"] for row in territory_items(org.east_rep)}
    assert "Misplaced" in names and "Bay Co" not in names
    listed = api_as(org.east_manager).get("/quality/territory-violations")
    assert listed.status_code == 200
    assert misplaced.pk in {row["record_id"] for row in listed.data}
    with pytest.raises(PermissionDenied):
        apply_fix("territory_violation", misplaced.pk, by=org.east_rep,
                  data={"kind": "account"})
    assert Account.objects.get(pk=misplaced.pk).owner == org.east_rep
    client = Client()
    client.force_login(org.admin)
    page = client.get(reverse("web:quality:territory"))
    assert "Give to" in page.content.decode()
    response = client.post(reverse("web:quality:fix", args=["territory_violation", misplaced.pk]),
                           {"kind": "account"}, headers={"HX-Request": "true"})
    assert "Fixed" in response.content.decode()
    assert Account.objects.get(pk=misplaced.pk).owner == org.west_rep
