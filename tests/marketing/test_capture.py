"""Lead capture: the public JSON endpoint and the HTML form page — validation naming the
field, the honeypot, rate limiting per address, de-duplication and routing."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from salesplan.customers.models import Lead
from salesplan.marketing.models import CampaignMember, CaptureSubmission, LeadHandoff
from tests.factories import make_account, make_contact, make_lead

pytestmark = pytest.mark.django_db

GOOD = {"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com",
        "company": "Analytical", "state": "CA", "country": "us"}


def post(form, body, ip="203.0.113.7"):
    return Client().post(f"/api/v1/marketing/capture/{form.key}", data=json.dumps(body),
                         content_type="application/json", REMOTE_ADDR=ip)


def test_a_submission_becomes_a_routed_lead_of_the_campaign(org, capture_form):
    response = post(capture_form, GOOD)
    assert response.status_code == 202, response.content
    lead = Lead.objects.get(email="ada@example.com")
    assert response.json()["submission_id"] is not None
    assert lead.country == "US" and lead.source == "web"
    assert lead.owner in (org.west_rep, org.west_rep2)
    handoff = LeadHandoff.objects.get(lead=lead)
    assert handoff.stage == "mql" and handoff.campaign == capture_form.campaign
    member = CampaignMember.objects.get(lead=lead)
    assert member.campaign == capture_form.campaign and member.response == "registered"
    assert member.responded_at is not None


@pytest.mark.parametrize(("body", "field"), [
    ({**GOOD, "email": "not-an-email"}, "email"),
    ({k: v for k, v in GOOD.items() if k != "last_name"}, "last_name"),
    ({k: v for k, v in GOOD.items() if k != "state"}, "state"),  # required by this form
    ({**GOOD, "country": "USA"}, "country"),
    ({**GOOD, "company": "x" * 201}, "company"),
    ({**GOOD, "phone": "555"}, "phone"),  # not a field of this form
    ({**GOOD, "first_name": ["Ada"]}, "first_name"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(capture_form, body, field):
    response = post(capture_form, body)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert not Lead.objects.exists() and not CampaignMember.objects.exists()


def test_malformed_json_is_a_400(capture_form):
    response = Client().post(f"/api/v1/marketing/capture/{capture_form.key}", data="{oops",
                             content_type="application/json")
    assert response.status_code == 400 and "body" in response.json()["errors"]


def test_unknown_or_paused_form_is_a_404(capture_form):
    assert post(type("F", (), {"key": "nope"})(), GOOD).status_code == 404
    capture_form.is_active = False
    capture_form.save()
    assert post(capture_form, GOOD).status_code == 404


def test_the_honeypot_swallows_bots_without_saving(capture_form):
    response = post(capture_form, {**GOOD, "website_url": "http://spam.example"})
    assert response.status_code == 202 and response.json()["submission_id"] is None
    assert not Lead.objects.exists()


def test_a_flood_from_one_address_gets_429_but_others_still_get_through(capture_form, one_minute):
    for i in range(5):  # the form allows 5 a minute per address
        assert post(capture_form, {**GOOD, "email": f"a{i}@example.com"}).status_code == 202
    refused = post(capture_form, {**GOOD, "email": "flood@example.com"})
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 61
    assert not Lead.objects.filter(email="flood@example.com").exists()
    other = post(capture_form, {**GOOD, "email": "real@example.com"}, ip="198.51.100.9")
    assert other.status_code == 202
    assert Lead.objects.filter(email="real@example.com").exists()


def test_a_known_email_updates_the_lead_instead_of_duplicating(org, capture_form):
    existing = make_lead(org.west_rep, email="ada@example.com", company="Old name", state="CA")
    LeadHandoff.objects.create(lead=existing, stage="sal", stage_changed_at=existing.created_at)
    response = post(capture_form, GOOD)
    assert response.status_code == 202
    assert Lead.objects.filter(email="ada@example.com").count() == 1
    existing.refresh_from_db()
    assert existing.company == "Analytical" and existing.owner == org.west_rep
    assert existing.version == 2
    assert CampaignMember.objects.get(lead=existing).response == "registered"
    assert LeadHandoff.objects.get(lead=existing).stage == "sal"  # still with sales


def test_a_known_contact_gets_the_response_and_no_lead_is_made(org, capture_form):
    contact = make_contact(org.east_rep, make_account(org.east_rep), email="ada@example.com")
    response = post(capture_form, GOOD)
    assert response.status_code == 202
    submission = CaptureSubmission.objects.get(pk=response.json()["submission_id"])
    assert submission.outcome == "contact" and submission.contact == contact
    assert not Lead.objects.exists()
    member = CampaignMember.objects.get(contact=contact)
    assert member.response == "registered" and member.campaign == capture_form.campaign


def test_a_recycled_lead_that_responds_again_goes_back_to_sales(org, capture_form):
    existing = make_lead(org.marketer, email="ada@example.com", state="NY")
    LeadHandoff.objects.create(lead=existing, stage="recycled", reason="no budget",
                               stage_changed_at=existing.created_at)
    post(capture_form, {**GOOD, "state": "NY"})
    existing.refresh_from_db()
    handoff = LeadHandoff.objects.get(lead=existing)
    assert handoff.stage == "mql" and existing.owner == org.east_rep


def test_the_public_form_page_needs_no_login_and_names_wrong_fields(org, capture_form):
    url = reverse("web:marketing:public_form", args=[capture_form.key])
    client = Client(enforce_csrf_checks=True)
    page = client.get(url)
    assert page.status_code == 200 and b'name="website_url"' in page.content
    bad = client.post(url, {"first_name": "Bo", "last_name": "", "email": "bo@example.com",
                            "state": "CA"})
    assert bad.status_code == 422 and b'id="err_last_name"' in bad.content
    done = client.post(url, {"first_name": "Bo", "last_name": "Diddley",
                             "email": "bo@example.com", "state": "CA", "company": "Chess"})
    assert done.status_code == 200 and capture_form.thank_you.encode() in done.content
    assert Lead.objects.get(email="bo@example.com").company == "Chess"


def test_behind_trusted_proxies_the_limit_counts_the_visitor_not_the_proxy(capture_form,
                                                                            settings,
                                                                            one_minute):
    settings.MARKETING_TRUSTED_PROXIES = 1

    def from_visitor(ip, email, spoof=""):
        forwarded = f"{spoof}, {ip}" if spoof else ip
        return Client().post(f"/api/v1/marketing/capture/{capture_form.key}",
                             data=json.dumps({**GOOD, "email": email}),
                             content_type="application/json", REMOTE_ADDR="10.0.0.1",
                             HTTP_X_FORWARDED_FOR=forwarded)

    for i in range(5):  # a flood from one visitor, forging a different address each time
        assert from_visitor("198.51.100.1", f"f{i}@example.com", spoof=f"1.1.1.{i}"
                            ).status_code == 202
    assert from_visitor("198.51.100.1", "f9@example.com", spoof="9.9.9.9").status_code == 429
    assert from_visitor("198.51.100.2", "other@example.com").status_code == 202
