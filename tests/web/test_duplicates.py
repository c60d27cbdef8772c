"""The duplicate prompt on the create pages: the likely duplicates with links to open
them, hidden ones only counted, and "create anyway" only with a reason."""

from salesplan.core.models import AuditEntry
from salesplan.customers.models import Account, Contact, Lead
from tests.factories import make_account, make_contact, make_lead

NEW_ACCOUNT = {"lifecycle": "prospect", "currency": "USD", "country": "US"}


def test_an_existing_domain_shows_the_prompt_with_a_link_and_saves_nothing(login, org):
    existing = make_account(org.west_rep, name="Acme Corporation", domain="acme.com")
    client = login(org.west_rep)

    response = client.post("/accounts/new/", {**NEW_ACCOUNT, "name": "Acme West",
                                              "domain": "www.acme.com"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Likely duplicate" in page
    assert f'href="/accounts/{existing.pk}/"' in page and "Acme Corporation" in page
    assert "same web domain acme.com" in page
    assert 'name="allow_duplicate"' in page and 'name="duplicate_reason"' in page
    assert not Account.objects.filter(name="Acme West").exists()


def test_the_create_anyway_choice_appears_only_after_a_match(login, org):
    page = login(org.west_rep).get("/accounts/new/").content.decode()
    assert 'name="allow_duplicate"' not in page


def test_a_normalised_name_matches_on_the_page_too(login, org):
    existing = make_account(org.west_rep, name="Müller GmbH", domain="")
    response = login(org.west_rep).post("/accounts/new/", {**NEW_ACCOUNT, "name": "MÜLLER, gmbh"})
    assert f'href="/accounts/{existing.pk}/"' in response.content.decode()


def test_create_anyway_needs_a_reason_which_the_history_shows(login, org):
    make_account(org.west_rep, name="Globex", domain="globex.com")
    client = login(org.west_rep)
    form = {**NEW_ACCOUNT, "name": "Globex", "domain": "globex.com", "allow_duplicate": "on"}

    refused = client.post("/accounts/new/", form)
    assert refused.status_code == 200
    assert refused.context["form"].errors["duplicate_reason"]
    assert Account.objects.filter(name="Globex").count() == 1

    saved = client.post("/accounts/new/", {**form, "duplicate_reason": "Separate legal entity"})
    assert saved.status_code == 302
    created = Account.objects.filter(name="Globex").latest("pk")
    assert AuditEntry.objects.get(record_type="account", record_id=created.pk,
                                  field="duplicate_reason").new_value == "Separate legal entity"
    assert "Separate legal entity" in client.get(saved["Location"]).content.decode()


def test_a_hidden_match_is_mentioned_without_details(login, org):
    hidden = make_account(org.east_rep, name="Initech", domain="initech.com")
    response = login(org.west_rep).post("/accounts/new/", {**NEW_ACCOUNT, "name": "Initech"})
    page = response.content.decode()
    assert "A record you cannot see matches" in page
    assert f"/accounts/{hidden.pk}/" not in page and "initech.com" not in page
    assert not Account.objects.filter(owner=org.west_rep).exists()


def test_contact_and_lead_pages_check_email_and_phone(login, org):
    contact = make_contact(org.west_rep, email="jo@acme.com")
    lead = make_lead(org.west_rep, phone="(212) 555-0142")
    client = login(org.west_rep)

    page = client.post("/contacts/new/", {"first_name": "Jo", "last_name": "Doe",
                                          "email": "JO@acme.com"}).content.decode()
    assert f'href="/contacts/{contact.pk}/"' in page
    page = client.post("/leads/new/", {"first_name": "Jo", "last_name": "Doe",
                                       "phone": "212-555-0142", "status": "new",
                                       "source": "other", "country": "US"}).content.decode()
    assert f'href="/leads/{lead.pk}/"' in page
    assert Contact.objects.count() == 1 and Lead.objects.count() == 1


def test_new_contact_and_new_deal_on_an_account_start_from_it(login, org):
    account = make_account(org.west_rep, name="Acme")
    client = login(org.west_rep)
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert f'href="/contacts/new/?account={account.pk}"' in page
    assert f'href="/opportunities/new/?account={account.pk}"' in page
    for url in ("/contacts/new/", "/opportunities/new/"):
        form = client.get(url, {"account": account.pk}).context["form"]
        assert form["account"].value() == account
        assert "Acme" in client.get(url, {"account": account.pk}).content.decode()


def test_the_prompt_adds_the_new_details_to_the_existing_record(login, org):
    existing = make_account(org.west_rep, name="Acme Corporation", domain="acme.com",
                            industry="", city="Denver")
    client = login(org.west_rep)
    typed = {**NEW_ACCOUNT, "name": "Acme Corp", "domain": "acme.com", "industry": "Pharma",
             "city": "Boston"}
    prompt = client.post("/accounts/new/", typed).content.decode()
    assert f'formaction="/accounts/{existing.pk}/merge-details/"' in prompt

    merged = client.post(f"/accounts/{existing.pk}/merge-details/", typed, follow=True)
    existing.refresh_from_db()
    # What it lacked is added; what it had is kept and named for the person to check.
    assert (existing.industry, existing.city, existing.name) == (
        "Pharma", "Denver", "Acme Corporation")
    assert existing.version == 2
    page = merged.content.decode()
    assert "Added to Acme Corporation: Industry." in page
    assert "Kept its own Name, City" in page
    assert Account.objects.count() == 1
    assert AuditEntry.objects.get(record_type="account", record_id=existing.pk,
                                  field="industry").new_value == "Pharma"


def test_details_are_added_only_where_the_person_may_change(login, org):
    theirs = make_account(org.east_rep, name="Initech", domain="initech.com", industry="")
    client = login(org.west_rep)
    refused = client.post(f"/accounts/{theirs.pk}/merge-details/",
                          {**NEW_ACCOUNT, "name": "Initech", "industry": "Software"})
    assert refused.status_code in (403, 404)
    theirs.refresh_from_db()
    assert (theirs.industry, theirs.version) == ("", 1)
