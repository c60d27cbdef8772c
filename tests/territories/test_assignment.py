"""Assignment runs, reasons, incremental re-assignment and the background job."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from salesplan.core.models import BackgroundJob
from salesplan.customers.models import Account
from salesplan.customers.services import create_account, update_account
from salesplan.territories import services
from salesplan.territories.assignment import run_full_assignment
from salesplan.territories.models import AccountTerritory, AssignmentConflict, BoundaryRule

from ..factories import make_account
from .conftest import grant_map


def assigned(alignment, account):
    return dict(AccountTerritory.objects.filter(alignment=alignment, account=account)
                .values_list("territory__name", "reason"))


def test_full_run_assigns_with_reasons(org, territory_map):
    bay = make_account(org.admin, postal_code="94107")
    nyc = make_account(org.admin, postal_code="10013")
    nowhere = make_account(org.admin, postal_code="73301")
    result = run_full_assignment(territory_map.alignment)
    counts = {k: result[k] for k in ("accounts", "assigned", "conflicts", "unclaimed")}
    assert counts == {"accounts": 3, "assigned": 2, "conflicts": 0, "unclaimed": 1}
    assert assigned(territory_map.alignment, bay) == {"West": "postal code 94* in rule 1 of West"}
    assert assigned(territory_map.alignment, nyc) == {
        "East": "postal code 10000–10299 in rule 1 of East"}
    assert assigned(territory_map.alignment, nowhere) == {}
    territory_map.alignment.refresh_from_db()
    assert territory_map.alignment.results_current
    assert territory_map.alignment.unclaimed_count == 1


def test_assignment_job_reports_progress(org, territory_map, django_capture_on_commit_callbacks):
    for code in ("94107", "10001", "94110"):
        make_account(org.admin, postal_code=code)
    with django_capture_on_commit_callbacks(execute=True):
        grant_map(org.west_manager)
        job = services.start_assignment(territory_map.alignment, by=org.west_manager)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.message
    assert job.percent == 100 and job.result["assigned"] == 3
    assert "Assigned 3 territories to 3 accounts" in job.message


def test_reps_cannot_run_or_edit_territories(org, territory_map):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.start_assignment(territory_map.alignment, by=org.west_rep)
    with pytest.raises(PermissionDenied):
        services.create_territory(territory_map.alignment, by=org.executive, data={"name": "X"})


def test_rule_change_reassigns_only_affected_accounts_and_matches_full_run(org, territory_map):
    accounts = [make_account(org.admin, postal_code=code)
                for code in ("94107", "94301", "10013", "10500", "73301")]
    run_full_assignment(territory_map.alignment)
    rule = territory_map.east.rules.get()
    services.update_rule(rule, by=org.admin, conditions=[
        {"field": "postal_code", "op": "range", "values": ["10000", "10999"]}])
    territory_map.alignment.refresh_from_db()
    assert territory_map.alignment.results_current
    incremental = set(AccountTerritory.objects.filter(alignment=territory_map.alignment)
                      .values_list("account_id", "territory_id", "reason"))
    run_full_assignment(territory_map.alignment)
    full = set(AccountTerritory.objects.filter(alignment=territory_map.alignment)
               .values_list("account_id", "territory_id", "reason"))
    assert incremental == full
    assert assigned(territory_map.alignment, accounts[3]) == {
        "East": "postal code 10000–10999 in rule 1 of East"}


def test_new_and_edited_accounts_are_assigned_at_once(org, active_map):
    account = create_account(by=org.admin, data={"name": "New Co", "postal_code": "94016"})
    assert assigned(active_map.alignment, account) == {"West": "postal code 94* in rule 1 of West"}
    update_account(account, by=org.admin, data={"postal_code": "10020"})
    assert set(assigned(active_map.alignment, account)) == {"East"}


def test_priority_and_named_accounts(org, active_map):
    bay = Account.objects.get(name="Bay Co")
    key = services.create_territory(active_map.alignment, by=org.admin,
                                    data={"name": "Key accounts", "type": "named_account"})
    services.set_named_account(key, bay, by=org.admin)
    assert assigned(active_map.alignment, bay) == {
        "West": "postal code 94* in rule 1 of West",
        "Key accounts": "named account of Key accounts"}
    services.set_named_account(active_map.west, bay, by=org.admin, include=False)
    assert set(assigned(active_map.alignment, bay)) == {"Key accounts"}


def test_ties_are_listed_as_conflicts(org, active_map):
    bay = Account.objects.get(name="Bay Co")
    other = services.create_territory(active_map.alignment, by=org.admin,
                                      data={"name": "Peninsula", "parent": active_map.region.pk})
    services.set_named_account(other, bay, by=org.admin)
    services.set_named_account(active_map.west, bay, by=org.admin)
    conflict = AssignmentConflict.objects.get(alignment=active_map.alignment, account=bay)
    assert sorted(conflict.territory_ids) == sorted([other.pk, active_map.west.pk])
    assert assigned(active_map.alignment, bay) == {}


@pytest.mark.parametrize("conditions, field_name, text", [
    ([{"field": "postal_code", "op": "range", "values": ["9400", "94999"]}], "postal_code",
     "same number of characters"),
    ([{"field": "colour", "values": ["red"]}], "colour", "Unknown field"),
    ([{"field": "state", "values": ["CA"]}, {"field": "state", "values": ["NY"]}], "state",
     "cannot both be true"),
    ([{"field": "postal_code", "op": "prefix", "values": ["941"]}], None,
     "overlaps rule 1 of West"),
])
def test_bad_rules_are_refused_and_nothing_is_saved(org, territory_map, conditions, field_name,
                                                    text):
    east = territory_map.east
    before = BoundaryRule.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.create_rule(east, by=org.admin, conditions=conditions)
    message = " ".join(caught.value.message_dict["conditions"])
    assert text in message and "Rule 2 of East" in message
    if field_name:
        assert field_name in message
    assert BoundaryRule.objects.count() == before


def test_cycles_and_members_without_user_are_refused(org, territory_map):
    with pytest.raises(ValidationError) as caught:
        services.update_territory(territory_map.region, by=org.admin,
                                  data={"parent": territory_map.west.pk})
    assert "cannot contain itself" in caught.value.message_dict["parent"][0]
    territory_map.region.refresh_from_db()
    assert territory_map.region.parent_id is None
    with pytest.raises(ValidationError) as caught:
        services.add_member(territory_map.west, by=org.admin, user=None)
    assert "user" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.add_member(territory_map.west, by=org.admin, user=org.west_rep,
                            start_date=date(2026, 5, 1), end_date=date(2026, 4, 1))
    assert "end_date" in caught.value.message_dict


def test_account_values_match_rules_whatever_their_case_and_spacing(org, territory_map):
    ny = services.create_territory(territory_map.alignment, by=org.admin, data={
        "name": "New York software", "type": "vertical"})
    services.create_rule(ny, by=org.admin, conditions=[
        {"field": "state", "values": ["ny"]}, {"field": "industry", "values": ["Software"]}])
    account = make_account(org.admin, state=" ny", industry="SOFTWARE ", postal_code="10001")
    run_full_assignment(territory_map.alignment)
    assert set(assigned(territory_map.alignment, account)) == {"East", "New York software"}
    services.update_territory(ny, by=org.admin, data={"name": "NY software"})
    assert assigned(territory_map.alignment, account)["NY software"] == (
        "state NY and industry software in rule 1 of NY software")


def test_deleting_an_account_or_territory_removes_its_assignments(org, territory_map):
    from salesplan.customers.services import delete_account

    bay = make_account(org.admin, postal_code="94107")
    nyc = make_account(org.admin, postal_code="10013")
    run_full_assignment(territory_map.alignment)
    delete_account(bay, by=org.admin)
    assert not AccountTerritory.objects.filter(account_id=bay.pk).exists()
    services.delete_territory(territory_map.east, by=org.admin)
    assert not AccountTerritory.objects.filter(account=nyc).exists()
