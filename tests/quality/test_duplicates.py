"""The duplicate scan over the database, dismissing pairs, and merges that keep history."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salesplan.activities.models import Activity
from salesplan.core.audit import history_for
from salesplan.core.errors import NotFound
from salesplan.core.models import AuditEntry
from salesplan.customers.models import Account, Contact, Lead
from salesplan.pipeline.models import Opportunity
from salesplan.quality.merging import dismiss_pair, merge_records
from salesplan.quality.models import DuplicateCandidate, DuplicateStatus, Merge
from salesplan.quality.scanning import run_scan
from salesplan.quality.selectors import visible_pairs

from ..factories import make_account, make_activity, make_contact, make_lead, make_opportunity


def pairs(record_type: str) -> set[tuple[int, int]]:
    return set(DuplicateCandidate.objects.filter(record_type=record_type,
                                                 status=DuplicateStatus.OPEN)
               .values_list("left_id", "right_id"))


def test_contact_scan_finds_known_pairs_and_not_distinct_people(org):
    acme = make_account(org.west_rep, name="Acme")
    other = make_account(org.west_rep, name="Other")
    john = make_contact(org.west_rep, acme, first_name="John", last_name="Smith",
                        email="john.smith@acme.com")
    jon = make_contact(org.west_rep, other, first_name="Jon", last_name="Smith",
                       email="JOHN.SMITH@acme.com")
    ann = make_contact(org.west_rep, acme, first_name="Ann", last_name="Lee", email="a@x.com")
    anne = make_contact(org.west_rep, acme, first_name="Anne", last_name="Lee", email="b@y.com")
    # two different Mary Joneses at different companies share only the name
    make_contact(org.west_rep, acme, first_name="Mary", last_name="Jones", email="m@one.com")
    make_contact(org.west_rep, other, first_name="Mary", last_name="Jones", email="m@two.com")
    scan = run_scan("contact")
    assert pairs("contact") == {tuple(sorted((john.pk, jon.pk))),
                                tuple(sorted((ann.pk, anne.pk)))}
    assert scan.records == 6 and scan.candidates == 2
    pair = DuplicateCandidate.objects.get(left_id=min(john.pk, jon.pk))
    assert "same e-mail" in pair.reasons


def test_account_and_lead_scans(org):
    a = make_account(org.west_rep, name="Globex, Inc.", domain="globex.com")
    b = make_account(org.west_rep, name="GLOBEX Corporation", domain="globex.com")
    make_account(org.west_rep, name="Initech", domain="initech.com")
    run_scan("account")
    assert pairs("account") == {tuple(sorted((a.pk, b.pk)))}
    first = make_lead(org.west_rep, first_name="Dana", last_name="Scully", phone="415 555 0199",
                      email="dana@fbi.example.org", company="FBI")
    second = make_lead(org.west_rep, first_name="Dana", last_name="Scully",
                       phone="(415) 555-0199", email="dscully@home.example.org", company="")
    make_lead(org.west_rep, first_name="Fox", last_name="Mulder", phone="415 555 0100")
    run_scan("lead")
    assert pairs("lead") == {tuple(sorted((first.pk, second.pk)))}


def test_a_dismissed_pair_stays_dismissed_on_rescan(org):
    acme = make_account(org.west_rep)
    a = make_contact(org.west_rep, acme, first_name="Pat", last_name="Lee", email="p@a.com")
    b = make_contact(org.west_rep, acme, first_name="Pat", last_name="Lee", email="q@a.com")
    run_scan("contact")
    pair = DuplicateCandidate.objects.get()
    with pytest.raises(NotFound):
        dismiss_pair(pair, by=org.east_rep)
    dismiss_pair(pair, by=org.west_rep)
    run_scan("contact")
    assert DuplicateCandidate.objects.get().status == DuplicateStatus.DISMISSED
    assert pairs("contact") == set()
    assert a.pk != b.pk


def test_pairs_are_listed_only_when_both_records_are_visible(org):
    mine = make_contact(org.west_rep, None, first_name="Pat", last_name="Lee", email="p@a.com")
    theirs = make_contact(org.east_rep, None, first_name="Pat", last_name="Lee",
                          email="p@a.com")
    run_scan("contact")
    assert visible_pairs(org.west_rep, "contact").count() == 0
    assert visible_pairs(org.east_rep, "contact").count() == 0
    assert visible_pairs(org.vp, "contact").count() == 1
    assert visible_pairs(org.executive, "contact").count() == 1
    assert mine.pk != theirs.pk


def test_merging_accounts_moves_every_related_record_and_keeps_history(org):
    survivor = make_account(org.west_rep, name="Acme", domain="acme.com", industry="")
    merged = make_account(org.west_rep, name="ACME Inc", domain="acme.com",
                          industry="Manufacturing")
    child = make_account(org.west_rep, name="Acme Europe", parent=merged)
    contact = make_contact(org.west_rep, merged)
    deal = make_opportunity(org.west_rep, account=merged, contact=contact)
    call = make_activity(org.west_rep, merged, opportunity=deal)
    lead = make_lead(org.west_rep)
    Lead.objects.filter(pk=lead.pk).update(converted_account=merged, converted_contact=contact)
    run_scan("account")
    assert DuplicateCandidate.objects.filter(record_type="account").count() == 1
    record = merge_records(by=org.west_manager, record_type="account",
                           survivor_id=survivor.pk, merged_id=merged.pk,
                           keep_from_merged=["industry"])
    assert not Account.objects.filter(pk=merged.pk).exists()
    survivor.refresh_from_db()
    assert survivor.industry == "Manufacturing" and survivor.name == "Acme"
    assert Contact.objects.get(pk=contact.pk).account_id == survivor.pk
    assert Opportunity.objects.get(pk=deal.pk).account_id == survivor.pk
    assert Activity.objects.get(pk=call.pk).account_id == survivor.pk
    assert Account.objects.get(pk=child.pk).parent_id == survivor.pk
    assert Lead.objects.get(pk=lead.pk).converted_account_id == survivor.pk
    assert record.moved == {"contact.account": 1, "opportunity.account": 1,
                            "activity.account": 1, "account.parent": 1,
                            "lead.converted_account": 1}
    assert record.merged_values["name"] == "ACME Inc"
    assert record.kept_from_merged == ["industry"]
    # both records' histories tell the story; the merged record's remains readable
    assert history_for(survivor).filter(field="merged").exists()
    assert history_for(survivor).filter(field="industry", new_value="Manufacturing").exists()
    assert AuditEntry.objects.filter(record_type="account", record_id=merged.pk,
                                     field="merged_into").exists()
    assert AuditEntry.objects.filter(record_type="account", record_id=merged.pk,
                                     action="delete").exists()
    assert DuplicateCandidate.objects.get(record_type="account").status == DuplicateStatus.MERGED


def test_merging_contacts_moves_deals_activities_and_lead_links(org):
    acme = make_account(org.west_rep)
    survivor = make_contact(org.west_rep, acme, first_name="Pat", last_name="Lee", phone="")
    merged = make_contact(org.west_rep, acme, first_name="Pat", last_name="Lee",
                          phone="415 555 0101")
    deal = make_opportunity(org.west_rep, account=acme, contact=merged)
    meeting = make_activity(org.west_rep, acme, contact=merged)
    lead = make_lead(org.west_rep)
    Lead.objects.filter(pk=lead.pk).update(converted_contact=merged)
    merge_records(by=org.west_rep, record_type="contact", survivor_id=survivor.pk,
                  merged_id=merged.pk, keep_from_merged=["phone"])
    survivor.refresh_from_db()
    assert survivor.phone == "415 555 0101"
    assert Opportunity.objects.get(pk=deal.pk).contact_id == survivor.pk
    assert Activity.objects.get(pk=meeting.pk).contact_id == survivor.pk
    assert Lead.objects.get(pk=lead.pk).converted_contact_id == survivor.pk
    assert Merge.objects.get().merged_values["phone"] == "415 555 0101"


def test_merging_leads_moves_activities(org):
    survivor = make_lead(org.west_rep)
    merged = make_lead(org.west_rep)
    call = make_activity(org.west_rep, lead=merged)
    merge_records(by=org.west_rep, record_type="lead", survivor_id=survivor.pk,
                  merged_id=merged.pk)
    assert Activity.objects.get(pk=call.pk).lead_id == survivor.pk
    assert not Lead.objects.filter(pk=merged.pk).exists()


def test_merge_is_refused_without_rights_and_changes_nothing(org):
    acme = make_account(org.west_rep)
    survivor = make_contact(org.west_rep, acme)
    merged = make_contact(org.west_rep2, acme)
    deal = make_opportunity(org.west_rep2, account=acme, contact=merged)
    # a rep sees (and may merge away) only their own contacts
    with pytest.raises(NotFound):
        merge_records(by=org.west_rep, record_type="contact", survivor_id=survivor.pk,
                      merged_id=merged.pk)
    with pytest.raises(NotFound):
        merge_records(by=org.east_rep, record_type="contact", survivor_id=survivor.pk,
                      merged_id=merged.pk)
    # reps may not delete accounts at all, so they cannot merge them
    other = make_account(org.west_rep)
    with pytest.raises(PermissionDenied):
        merge_records(by=org.west_rep, record_type="account", survivor_id=acme.pk,
                      merged_id=other.pk)
    with pytest.raises(ValidationError):
        merge_records(by=org.admin, record_type="contact", survivor_id=survivor.pk,
                      merged_id=merged.pk, keep_from_merged=["version"])
    assert Contact.objects.filter(pk=merged.pk).exists()
    assert Opportunity.objects.get(pk=deal.pk).contact_id == merged.pk
    assert not Merge.objects.exists()


def test_a_converted_lead_is_not_merged_away(org):
    survivor = make_lead(org.west_rep)
    converted = make_lead(org.west_rep)
    Lead.objects.filter(pk=converted.pk).update(status="converted")
    with pytest.raises(ValidationError) as error:
        merge_records(by=org.admin, record_type="lead", survivor_id=survivor.pk,
                      merged_id=converted.pk)
    assert "merged_id" in error.value.message_dict
    assert Lead.objects.filter(pk=converted.pk).exists()


def test_a_child_survivor_of_its_merged_parent(org):
    parent = make_account(org.west_rep, name="Acme Group")
    child = make_account(org.west_rep, name="Acme", parent=parent)
    merge_records(by=org.admin, record_type="account", survivor_id=child.pk,
                  merged_id=parent.pk)
    child.refresh_from_db()
    assert child.parent_id is None
