"""Friendly refusals: the 403 page says why and offers a way back; the executive (read
only) sees no write control on the CRM pages and reads every one of them."""

import re

import pytest

from salesplan.core.registry import refusal_reason
from tests.factories import make_account, make_activity, make_contact, make_lead, make_opportunity

WRITE_CONTROLS = [
    re.compile(r'href="[^"]*/new/[^"]*"'),  # New account / contact / lead / deal / activity
    re.compile(r'href="[^"]*/edit/"'),
    re.compile(r'href="[^"]*/delete/"'),
    re.compile(r'href="/imports/"'),  # Import (upload)
    re.compile(r"Plan an activity|New import|Log a call|Convert</a>|Mark done|Close won"),
    re.compile(r'action="[^"]*/(move|done|close|convert)/'),
]


@pytest.fixture
def records(org):
    account = make_account(org.west_rep, name="Acme")
    return {
        "account": account,
        "contact": make_contact(org.west_rep, account=account),
        "lead": make_lead(org.west_rep),
        "opportunity": make_opportunity(org.west_rep, account=account),
        "activity": make_activity(org.executive, account=account, subject="Own call"),
    }


def executive_pages(records) -> list[str]:
    pages = ["/", "/my-day/", "/accounts/", "/contacts/", "/leads/", "/opportunities/",
             "/activities/", "/pipeline/", "/jobs/"]
    plural = {"opportunity": "opportunities", "activity": "activities"}
    pages += [f"/{plural.get(kind, kind + 's')}/{obj.pk}/" for kind, obj in records.items()]
    return pages


def test_the_executive_reads_every_crm_page_and_sees_no_write_control(login, org, records):
    client = login(org.executive)
    for url in executive_pages(records):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        for control in WRITE_CONTROLS:
            assert not control.search(page), (url, control.search(page).group(0))


def test_a_rep_still_sees_the_controls_the_executive_does_not(login, org, records):
    client = login(org.west_rep)
    page = client.get(f"/accounts/{records['account'].pk}/").content.decode()
    assert "New contact" in page and "New opportunity" in page and "/edit/" in page
    assert "Plan an activity" in client.get("/my-day/").content.decode()
    assert 'href="/imports/"' in client.get("/accounts/").content.decode()


def test_the_refusal_page_says_why_and_offers_a_way_back(login, org, records):
    client = login(org.executive)
    response = client.get(f"/accounts/{records['account'].pk}/edit/",
                          HTTP_REFERER="http://testserver/accounts/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "Executives have read-only access" in page or "executives have read-only access" in page
    assert "You may not change this account" in page
    assert 'href="http://testserver/accounts/"' in page and "Go back" in page
    assert 'href="/"' in page  # and home, always

    upload = client.get("/imports/")
    assert upload.status_code == 403
    assert "read-only access" in upload.content.decode()


def test_the_refusal_names_who_may_act_instead(login, org):
    client = login(org.marketer)
    response = client.get("/accounts/new/", HTTP_REFERER="https://elsewhere.example/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "You may not create this account: only admins, managers or reps may." in page
    assert "elsewhere.example" not in page  # no way "back" to another site


def test_an_owner_only_action_says_so(org):
    contact = make_contact(org.west_rep2)
    assert refusal_reason(org.west_rep, "contact", "delete", contact) == (
        "You may not delete this contact: only its owner, or admins or managers, may.")
