"""The duplicate check on create over the API: 409 problem details naming the matches
the caller may see, and "create anyway" only with a reason, which the audit trail keeps."""

import pytest

from salesplan.core.models import AuditEntry
from salesplan.customers.models import Account, Contact, Lead
from tests.factories import make_account, make_contact, make_lead

pytestmark = pytest.mark.django_db


def test_an_account_with_an_existing_domain_is_refused_with_the_match(org, api_as):
    existing = make_account(org.west_rep, name="Acme Corporation", domain="acme.com")
    api = api_as(org.west_rep)

    answer = api.post("/accounts", {"name": "Totally different", "website": "https://www.ACME.com/about"})

    assert answer.status_code == 409
    assert answer.data["type"].endswith("duplicate")
    assert [d["id"] for d in answer.data["duplicates"]] == [existing.pk]
    assert "same web domain acme.com" in answer.data["duplicates"][0]["reasons"]
    assert answer.data["hidden_matches"] == 0
    assert "Acme Corporation" in answer.data["detail"]
    assert not Account.objects.filter(name="Totally different").exists()


def test_names_match_without_case_punctuation_or_legal_form(org, api_as):
    existing = make_account(org.west_rep, name="Acme, Inc.", domain="")
    api = api_as(org.west_rep)

    assert api.post("/accounts", {"name": "ACME LLC"}).data["duplicates"][0]["id"] == existing.pk
    assert api.post("/accounts", {"name": "The Acme GmbH"}).status_code == 409
    # A different company sharing a word is no duplicate.
    assert api.post("/accounts", {"name": "Acme Rockets Inc"}).status_code == 201


def test_create_anyway_needs_a_reason_and_keeps_it(org, api_as):
    make_account(org.west_rep, name="Globex", domain="globex.com")
    api = api_as(org.west_rep)

    no_reason = api.post("/accounts", {"name": "Globex", "allow_duplicate": True})
    assert no_reason.status_code == 422
    assert "duplicate_reason" in no_reason.data["errors"]

    created = api.post("/accounts", {"name": "Globex", "allow_duplicate": True,
                                     "duplicate_reason": "The Canadian subsidiary"})
    assert created.status_code == 201
    entry = AuditEntry.objects.get(record_type="account", record_id=created.data["id"],
                                   field="duplicate_reason")
    assert entry.new_value == "The Canadian subsidiary"
    assert entry.changed_by == org.west_rep
    history = api.get(f"/accounts/{created.data['id']}/audit")
    assert "The Canadian subsidiary" in history.content.decode()


def test_a_match_the_caller_may_not_see_is_counted_not_named(org, api_as):
    hidden = make_account(org.east_rep, name="Initech", domain="initech.com")
    answer = api_as(org.west_rep).post("/accounts", {"name": "Initech", "domain": "initech.com"})

    assert answer.status_code == 409
    assert answer.data["duplicates"] == []
    assert answer.data["hidden_matches"] == 1
    assert "A record you cannot see matches" in answer.data["detail"]
    assert "Initech" not in answer.data["detail"] and str(hidden.pk) not in answer.data["detail"]
    # Someone who sees it is told which it is.
    seen = api_as(org.vp).post("/accounts", {"name": "Initech Ltd"})
    assert [d["id"] for d in seen.data["duplicates"]] == [hidden.pk]


def test_contacts_match_on_email_without_case_and_on_the_phone_number(org, api_as):
    by_email = make_contact(org.west_rep, email="pat@acme.com")
    by_phone = make_contact(org.west_rep, email="other@acme.com", phone="+1 (415) 555-0100")
    api = api_as(org.west_rep)

    email = api.post("/contacts", {"first_name": "P", "last_name": "Q", "email": "PAT@Acme.com"})
    assert email.status_code == 409
    assert [d["id"] for d in email.data["duplicates"]] == [by_email.pk]
    phone = api.post("/contacts", {"first_name": "P", "last_name": "Q",
                                   "phone": "415.555.0100"})
    assert [d["id"] for d in phone.data["duplicates"]] == [by_phone.pk]
    assert api.post("/contacts", {"first_name": "P", "last_name": "Q",
                                  "email": "new@acme.com", "phone": "415 555 0199"}
                    ).status_code == 201
    assert Contact.objects.count() == 3


def test_leads_match_on_email_and_phone(org, api_as):
    existing = make_lead(org.marketer, email="lee@example.org", phone="020 7946 0018")
    api = api_as(org.marketer)

    answer = api.post("/leads", {"first_name": "L", "last_name": "E", "phone": "02079460018"})
    assert answer.status_code == 409
    assert answer.data["duplicates"][0] == {"type": "lead", "id": existing.pk,
                                            "name": str(existing), "reasons": ["same phone"]}
    forced = api.post("/leads", {"first_name": "L", "last_name": "E", "email": "lee@example.org",
                                 "allow_duplicate": True, "duplicate_reason": "Second inbox"})
    assert forced.status_code == 201
    assert Lead.objects.filter(email="lee@example.org").count() == 2


def test_the_refusal_says_why_in_the_problem_detail(org, api_as):
    answer = api_as(org.executive).post("/accounts", {"name": "Anything"})
    assert answer.status_code == 403
    assert "read-only access" in answer.data["detail"]
