"""Deleting records from their pages: who sees the button, the confirmation step, refusals."""

import pytest

from salesplan.activities.models import Activity
from salesplan.core.models import AuditEntry
from salesplan.customers.models import Account, Contact, Lead
from salesplan.pipeline.models import Opportunity
from tests.factories import (
    make_account,
    make_activity,
    make_contact,
    make_lead,
    make_opportunity,
)

RECORDS = {
    "account": (Account, "accounts", lambda owner: make_account(owner)),
    "contact": (Contact, "contacts", lambda owner: make_contact(owner)),
    "lead": (Lead, "leads", lambda owner: make_lead(owner)),
    "opportunity": (Opportunity, "opportunities", lambda owner: make_opportunity(owner)),
    "activity": (Activity, "activities", lambda owner: make_activity(owner)),
}


@pytest.mark.parametrize("resource", RECORDS)
def test_manager_confirms_then_deletes_a_team_members_record(login, org, resource):
    model, plural, make = RECORDS[resource]
    record = make(org.west_rep)
    client = login(org.west_manager)
    detail = client.get(f"/{plural}/{record.pk}/").content.decode()
    assert f'href="/{plural}/{record.pk}/delete/"' in detail and "hx-confirm=" in detail

    confirm = client.get(f"/{plural}/{record.pk}/delete/")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert model.objects.filter(pk=record.pk).exists(), "asking must not delete"

    response = client.post(f"/{plural}/{record.pk}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == f"/{plural}/"
    assert "deleted" in response.content.decode()
    assert not model.objects.filter(pk=record.pk).exists()
    assert AuditEntry.objects.filter(record_type=resource, record_id=record.pk,
                                     action="delete").exists()


def test_rep_cannot_delete_an_account(login, org):
    account = make_account(org.west_rep)
    client = login(org.west_rep)
    assert "/delete/" not in client.get(f"/accounts/{account.pk}/").content.decode()
    assert client.get(f"/accounts/{account.pk}/delete/").status_code == 403
    assert client.post(f"/accounts/{account.pk}/delete/").status_code == 403
    assert Account.objects.filter(pk=account.pk).exists()


def test_rep_deletes_own_contact_and_executive_deletes_nothing(login, org):
    contact = make_contact(org.west_rep)
    executive = login(org.executive)
    assert "/delete/" not in executive.get(f"/contacts/{contact.pk}/").content.decode()
    assert executive.post(f"/contacts/{contact.pk}/delete/").status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert login(org.west_rep).post(f"/contacts/{contact.pk}/delete/").status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_another_teams_record_is_not_found_and_stays(login, org):
    contact = make_contact(org.west_rep)
    client = login(org.east_manager)
    assert client.get(f"/contacts/{contact.pk}/delete/").status_code == 404
    assert client.post(f"/contacts/{contact.pk}/delete/").status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_account_with_opportunities_is_kept_and_the_reason_shown(login, org):
    deal = make_opportunity(org.west_rep)
    client = login(org.west_manager)
    response = client.post(f"/accounts/{deal.account_id}/delete/")
    assert response.status_code == 200
    assert "This account has opportunities" in response.content.decode()
    assert Account.objects.filter(pk=deal.account_id).exists()


def test_htmx_delete_after_the_dialog_redirects_the_page(login, org):
    deal = make_opportunity(org.west_rep)
    client = login(org.west_manager)
    refused = client.post(f"/accounts/{deal.account_id}/delete/", HTTP_HX_REQUEST="true")
    assert refused["HX-Redirect"] == f"/accounts/{deal.account_id}/"
    page = client.get(f"/accounts/{deal.account_id}/").content.decode()
    assert "This account has opportunities" in page
    deleted = client.post(f"/opportunities/{deal.pk}/delete/", HTTP_HX_REQUEST="true")
    assert deleted["HX-Redirect"] == "/opportunities/"
    assert not Opportunity.objects.filter(pk=deal.pk).exists()


def test_delete_is_get_or_post_only(login, org):
    lead = make_lead(org.west_rep)
    response = login(org.west_manager).put(f"/leads/{lead.pk}/delete/")
    assert response.status_code == 405
    assert Lead.objects.filter(pk=lead.pk).exists()
