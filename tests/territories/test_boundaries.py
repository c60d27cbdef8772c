"""Territories decide what reps see and where they may work; exceptions and violations."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salesplan.activities.models import Activity
from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound
from salesplan.core.models import AuditEntry
from salesplan.customers.models import Account, Contact
from salesplan.customers.services import create_account, update_account
from salesplan.pipeline.models import Opportunity
from salesplan.territories import services
from salesplan.territories.models import BoundaryException
from salesplan.territories.selectors import violations

from ..factories import make_account, make_activity, make_contact, make_opportunity


def names(queryset):
    return set(queryset.values_list("name", flat=True))


@pytest.fixture(params=["listed", "subquery"])
def account_scope_form(request, monkeypatch):
    """A territory's accounts reach the database as a list of ids when few, else as a
    subquery: both must show the same records."""
    from salesplan.territories import selectors

    if request.param == "subquery":
        monkeypatch.setattr(selectors, "LISTED_ACCOUNTS", 0)
    return request.param


def test_neighbouring_reps_see_their_own_territory_only(org, active_map, account_scope_form):
    bay, nyc = Account.objects.get(name="Bay Co"), Account.objects.get(name="Manhattan Co")
    make_contact(org.admin, bay, last_name="Bayperson")
    make_contact(org.admin, nyc, last_name="Newyorker")
    make_opportunity(org.admin, bay, name="Bay deal")
    make_opportunity(org.admin, nyc, name="NYC deal")
    make_activity(org.admin, bay, subject="Bay call")
    make_activity(org.admin, nyc, subject="NYC call")
    assert names(Account.objects.visible_to(org.west_rep)) == {"Bay Co"}
    assert names(Account.objects.visible_to(org.east_rep)) == {"Manhattan Co"}
    assert set(Contact.objects.visible_to(org.west_rep).values_list("last_name", flat=True)) == {
        "Bayperson"}
    assert names(Opportunity.objects.visible_to(org.east_rep)) == {"NYC deal"}
    assert set(Activity.objects.visible_to(org.west_rep).values_list("subject", flat=True)) == {
        "Bay call"}
    # A member of the parent territory sees everything below it.
    assert names(Account.objects.visible_to(org.vp)) >= {"Bay Co", "Manhattan Co"}


def test_visible_parts_split_what_a_rep_sees_into_owned_and_territory(org, active_map,
                                                                    account_scope_form):
    bay, nyc = Account.objects.get(name="Bay Co"), Account.objects.get(name="Manhattan Co")
    make_opportunity(org.west_rep, bay, name="Own in territory")
    make_opportunity(org.west_rep, nyc, name="Own outside territory")
    make_opportunity(org.admin, bay, name="Colleague's in territory")
    make_opportunity(org.admin, nyc, name="Colleague's outside territory")
    visible = names(Opportunity.objects.visible_to(org.west_rep))
    assert visible == {"Own in territory", "Own outside territory", "Colleague's in territory"}
    parts = [names(p) for p in Opportunity.objects.visible_parts(org.west_rep)]
    assert set().union(*parts) == visible
    assert sum(map(len, parts)) == len(visible)  # the parts are disjoint
    assert parts == [{"Own in territory", "Own outside territory"},
                     {"Colleague's in territory"}]
    # Filters given before the split stay on every part.
    assert [names(p) for p in Opportunity.objects.filter(
        name__startswith="Colleague").visible_parts(org.west_rep)] == [
        set(), {"Colleague's in territory"}]
    # People who see everything get one part, people who see nothing none.
    assert [names(p) for p in Opportunity.objects.visible_parts(org.admin)] == [
        names(Opportunity.objects.all())]
    org.west_rep.is_active = False
    assert Opportunity.objects.visible_parts(org.west_rep) == []


def test_ended_membership_and_drafts_give_no_visibility(org, active_map):
    member = active_map.west.members.get(user=org.west_rep)
    yesterday = company_today() - timedelta(days=1)
    services.update_member(member, by=org.admin, data={"start_date": yesterday - timedelta(30),
                                                       "end_date": yesterday})
    assert names(Account.objects.visible_to(org.west_rep)) == set()
    draft = services.create_alignment(by=org.admin, name="FY28", copy_from=active_map.alignment)
    assert draft.territories.count() == 3
    assert names(Account.objects.visible_to(org.east_rep)) == {"Manhattan Co"}


def test_rep_cannot_create_or_edit_outside_their_territory(org, active_map):
    with pytest.raises(PermissionDenied, match="belongs to East"):
        create_account(by=org.west_rep, data={"name": "Sneaky", "postal_code": "10001"})
    assert not Account.objects.filter(name="Sneaky").exists()
    mine = create_account(by=org.west_rep, data={"name": "Mine", "postal_code": "94110"})
    with pytest.raises(PermissionDenied):
        update_account(mine, by=org.west_rep, data={"postal_code": "10001"})
    mine.refresh_from_db()
    assert mine.postal_code == "94110"
    # Accounts no territory claims are open to everyone.
    create_account(by=org.west_rep, data={"name": "Texan", "postal_code": "73301"})


def test_approved_exception_lets_a_rep_work_outside_and_is_audited(org, active_map):
    nyc = Account.objects.get(name="Manhattan Co")
    Account.objects.filter(pk=nyc.pk).update(owner=org.west_rep)  # his, outside his territory
    until = company_today() + timedelta(days=30)
    request = services.request_exception(by=org.west_rep, account=nyc, reason="Met at event",
                                         until=until)
    with pytest.raises(NotFound):  # not the rep's manager: not even shown to him
        services.approve_exception(request, by=org.east_manager)
    with pytest.raises(PermissionDenied):
        services.approve_exception(request, by=org.west_rep)
    services.approve_exception(request, by=org.west_manager)
    assert request.status == BoundaryException.Status.APPROVED
    assert request.approved_by == org.west_manager
    services.check_boundary(org.west_rep, nyc)  # no error now
    assert AuditEntry.objects.filter(record_type="boundaryexception", record_id=request.pk,
                                     field="status", new_value="approved").exists()
    with pytest.raises(ValidationError):
        services.reject_exception(request, by=org.west_manager)


def test_exception_needs_reason_and_future_date(org, active_map):
    nyc = Account.objects.get(name="Manhattan Co")
    Account.objects.filter(pk=nyc.pk).update(owner=org.west_rep)
    with pytest.raises(ValidationError) as caught:
        services.request_exception(by=org.west_rep, account=nyc, reason=" ",
                                   until=company_today())
    assert "reason" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        services.request_exception(by=org.west_rep, account=nyc, reason="x",
                                   until=company_today(), rep=org.east_rep)


def test_violations_list_and_one_step_fix(org, active_map):
    bay = Account.objects.get(name="Bay Co")  # owned by the admin: not a West member
    deal = make_opportunity(org.east_rep, bay, name="Poached deal")
    found = {(v.kind, v.record_id): v for v in violations(org.admin)}
    assert ("account", bay.pk) in found and ("opportunity", deal.pk) in found
    assert found[("account", bay.pk)].territory_owner_id == org.west_rep.pk
    assert found[("opportunity", deal.pk)].territory_id == active_map.west.pk
    services.fix_violation(by=org.admin, kind="account", record_id=bay.pk)
    services.fix_violation(by=org.admin, kind="opportunity", record_id=deal.pk)
    bay.refresh_from_db()
    deal.refresh_from_db()
    assert bay.owner == org.west_rep and deal.owner == org.west_rep
    remaining = {(v.kind, v.record_id) for v in violations(org.admin)}
    assert ("account", bay.pk) not in remaining and ("opportunity", deal.pk) not in remaining
    with pytest.raises(ValidationError):
        services.fix_violation(by=org.admin, kind="account", record_id=bay.pk)


def test_approved_exception_clears_the_violation(org, active_map):
    nyc = Account.objects.get(name="Manhattan Co")
    update_account(nyc, by=org.admin, data={"owner": org.west_rep})
    assert any(v.record_id == nyc.pk for v in violations(org.admin))
    request = services.request_exception(by=org.west_manager, rep=org.west_rep, account=nyc,
                                         reason="Customer asked", until=company_today())
    services.approve_exception(request, by=org.admin)
    assert not any(v.record_id == nyc.pk for v in violations(org.admin))


def test_reps_see_only_violations_they_can_see(org, active_map):
    make_account(org.east_rep, name="Misplaced", postal_code="94105")
    services.assignment.run_full_assignment(active_map.alignment)
    # East rep: their own misplaced account and East's; never West's Bay Co.
    assert {v.name for v in violations(org.east_rep)} == {"Misplaced", "Manhattan Co"}
    assert {v.name for v in violations(org.west_rep)} == {"Misplaced", "Bay Co"}
