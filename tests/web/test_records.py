"""Record pages: create and edit through services, errors next to fields, access rules."""

import pytest

from salesplan.customers.models import Account, Contact
from salesplan.pipeline.models import Opportunity
from tests.factories import make_account, make_contact, make_lead, make_opportunity


def test_create_account_through_the_form(login, org):
    client = login(org.west_rep)
    page = client.get("/accounts/new/").content.decode()
    assert '<label for="id_name">Name' in page and ">Save</button>" in page
    response = client.post("/accounts/new/", {"name": "Acme", "lifecycle": "prospect",
                                              "currency": "USD", "country": "US"})
    account = Account.objects.get(name="Acme")
    assert response["Location"] == f"/accounts/{account.pk}/"
    assert account.owner == org.west_rep
    assert client.get(response["Location"]).status_code == 200


def test_field_error_is_shown_next_to_the_field_and_nothing_is_saved(login, org):
    client = login(org.west_rep)
    response = client.post("/accounts/new/", {"name": "", "lifecycle": "prospect",
                                              "currency": "USD", "country": "US",
                                              "website": "not a url"})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["name"] and form.errors["website"]
    page = response.content.decode()
    assert 'id="id_name_error"' in page and 'aria-invalid="true"' in page
    assert not Account.objects.exists()


def test_service_refusal_lands_on_its_field(login, org):
    """A parent the rep cannot see is refused by the service, next to the parent field."""
    hidden = make_account(org.east_rep, name="East Corp")
    client = login(org.west_rep)
    response = client.post("/accounts/new/", {"name": "Acme", "lifecycle": "prospect",
                                              "currency": "USD", "country": "US",
                                              "parent": hidden.pk})
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    assert not Account.objects.filter(name="Acme").exists()


def test_edit_saves_and_records_history(login, org):
    account = make_account(org.west_rep, name="Before")
    client = login(org.west_rep)
    page = client.get(f"/accounts/{account.pk}/edit/").content.decode()
    assert 'name="version" value="1"' in page
    response = client.post(f"/accounts/{account.pk}/edit/", {
        "name": "After", "lifecycle": "customer", "currency": "USD", "country": "US",
        "version": 1})
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.version) == ("After", 2)
    detail = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "Change history" in detail and "Before" in detail


def test_stale_edit_is_refused_with_a_reload_message(login, org):
    account = make_account(org.west_rep, name="Before")
    Account.objects.filter(pk=account.pk).update(version=2, name="Someone else")
    client = login(org.west_rep)
    response = client.post(f"/accounts/{account.pk}/edit/", {
        "name": "Mine", "lifecycle": "prospect", "currency": "USD", "country": "US",
        "version": 1})
    assert response.status_code == 200
    assert "Reload the page" in response.content.decode()
    account.refresh_from_db()
    assert account.name == "Someone else"


@pytest.mark.parametrize("kind", ["account", "contact", "lead", "opportunity"])
def test_another_teams_record_is_not_found_and_unchanged(login, org, kind):
    account = make_account(org.east_rep, name="East Corp")
    record = {"account": account, "contact": make_contact(org.east_rep, account),
              "lead": make_lead(org.east_rep),
              "opportunity": make_opportunity(org.east_rep, account)}[kind]
    plural = {"account": "accounts", "contact": "contacts", "lead": "leads",
              "opportunity": "opportunities"}[kind]
    client = login(org.west_rep)
    assert client.get(f"/{plural}/{record.pk}/").status_code == 404
    assert client.get(f"/{plural}/{record.pk}/edit/").status_code == 404
    version = record.version
    response = client.post(f"/{plural}/{record.pk}/edit/", {"name": "Hijack",
                                                            "last_name": "Hijack"})
    assert response.status_code == 404
    record.refresh_from_db()
    assert record.version == version
    assert client.post(f"/log/{kind}/{record.pk}/", {"kind": "call",
                                                     "subject": "x"}).status_code == 404


def test_executive_sees_but_cannot_change(login, org):
    account = make_account(org.west_rep, name="Acme")
    client = login(org.executive)
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "Acme" in page and f"/accounts/{account.pk}/edit/" not in page
    assert "New account" not in client.get("/accounts/").content.decode()
    assert client.get(f"/accounts/{account.pk}/edit/").status_code == 403
    response = client.post(f"/accounts/{account.pk}/edit/", {
        "name": "Changed", "lifecycle": "prospect", "currency": "USD", "country": "US"})
    assert response.status_code == 403
    assert client.post("/accounts/new/", {"name": "New", "lifecycle": "prospect",
                                          "currency": "USD", "country": "US"}).status_code == 403
    account.refresh_from_db()
    assert account.name == "Acme" and Account.objects.count() == 1


def test_account_page_shows_related_records(login, org):
    parent = make_account(org.west_rep, name="Parent Co")
    child = make_account(org.west_rep, name="Child Co", parent=parent)
    make_contact(org.west_rep, parent, first_name="Ann", last_name="Buyer")
    make_opportunity(org.west_rep, parent, name="Big deal")
    page = login(org.west_rep).get(f"/accounts/{parent.pk}/").content.decode()
    assert "Ann Buyer" in page and "Big deal" in page and "Child Co" in page
    assert f"/accounts/{child.pk}/" in page


def test_account_page_lists_only_the_visible_children_by_name(login, org):
    parent = make_account(org.west_rep, name="Parent Co")
    make_account(org.west_rep2, name="Zeta Branch", parent=parent)
    make_account(org.west_rep, name="Alpha Branch", parent=parent)
    make_account(org.east_rep, name="Hidden Branch", parent=parent)
    make_account(org.west_rep, name="Unrelated Co")
    rep_page = login(org.west_rep).get(f"/accounts/{parent.pk}/").content.decode()
    assert "Alpha Branch" in rep_page and "Zeta Branch" not in rep_page
    assert "Hidden Branch" not in rep_page and "Unrelated Co" not in rep_page
    manager_page = login(org.west_manager).get(f"/accounts/{parent.pk}/").content.decode()
    assert manager_page.index("Alpha Branch") < manager_page.index("Zeta Branch")
    assert "Hidden Branch" not in manager_page
    lone = make_account(org.west_rep, name="Lone Co")
    assert "Child accounts" not in login(org.west_rep).get(
        f"/accounts/{lone.pk}/").content.decode()


def test_contact_form_with_account_picked_by_lookup(login, org):
    account = make_account(org.west_rep, name="Acme")
    client = login(org.west_rep)
    suggestions = client.get("/lookup/accounts/", {"account_search": "ac"}).content.decode()
    assert f'data-lookup-id="{account.pk}"' in suggestions
    response = client.post("/contacts/new/", {"first_name": "Jo", "last_name": "Doe",
                                              "account": account.pk,
                                              "account_search": "Acme"})
    assert response.status_code == 302
    assert Contact.objects.get(last_name="Doe").account == account


def test_lookup_offers_only_visible_records(login, org):
    make_account(org.east_rep, name="Acme East")
    page = login(org.west_rep).get("/lookup/accounts/", {"q": "acme"}).content.decode()
    assert "Acme East" not in page


def test_typed_but_unpicked_lookup_asks_to_choose(login, org):
    client = login(org.west_rep)
    response = client.post("/contacts/new/", {"last_name": "Doe", "account": "",
                                              "account_search": "Acm"})
    assert "Choose one of the suggestions" in str(response.context["form"].errors["account"])
    assert not Contact.objects.exists()


def test_new_opportunity_defaults_pipeline_and_stage(login, org):
    account = make_account(org.west_rep, name="Acme")
    response = login(org.west_rep).post("/opportunities/new/", {
        "name": "Acme expansion", "account": account.pk, "amount": "5000", "currency": "USD",
        "close_date": "2027-01-31", "forecast_category": "pipeline"})
    assert response.status_code == 302
    deal = Opportunity.objects.get(name="Acme expansion")
    assert deal.stage.position == 0 and deal.owner == org.west_rep


def test_contact_picker_offers_only_the_chosen_accounts_people(login, org):
    acme, other = make_account(org.west_rep, name="Acme"), make_account(org.west_rep)
    make_contact(org.west_rep, acme, first_name="Pat", last_name="Acme")
    make_contact(org.west_rep, other, first_name="Pat", last_name="Other")
    client = login(org.west_rep)
    form = client.get("/opportunities/new/").content.decode()
    assert 'id="id_account_value"' in form and 'hx-include="#id_account_value"' in form
    page = client.get("/lookup/contacts/", {"contact_search": "pat",
                                            "account": acme.pk}).content.decode()
    assert "Pat Acme" in page and "Pat Other" not in page
    unfiltered = client.get("/lookup/contacts/", {"contact_search": "pat",
                                                  "account": ""}).content.decode()
    assert "Pat Acme" in unfiltered and "Pat Other" in unfiltered
    bad = client.get("/lookup/contacts/", {"q": "pat", "account": "9" * 30}).content.decode()
    assert "Pat" not in bad


def test_opportunity_with_another_accounts_contact_is_refused(login, org):
    acme, other = make_account(org.west_rep, name="Acme"), make_account(org.west_rep)
    stranger = make_contact(org.west_rep, other)
    response = login(org.west_rep).post("/opportunities/new/", {
        "name": "Acme expansion", "account": acme.pk, "contact": stranger.pk,
        "amount": "5000", "currency": "USD", "close_date": "2027-01-31",
        "forecast_category": "pipeline"})
    assert response.status_code == 200
    assert "does not belong" in str(response.context["form"].errors["contact"])
    assert not Opportunity.objects.filter(name="Acme expansion").exists()
