"""Who may do what in marketing, through the pages and the API; the pages themselves."""

import pytest
from django.test import Client
from django.urls import reverse

from salesplan.marketing import routing, selectors, services
from salesplan.marketing.models import Campaign, CaptureForm, LeadHandoff
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


CAMPAIGN = {"name": "Trade show", "type": "event", "channel": "event", "budget": "12000",
            "actual_cost": "9500.50", "currency": "EUR"}


def test_marketing_creates_campaigns_reps_and_managers_cannot(org):
    for user in (org.west_rep, org.west_manager, org.executive):
        response = client_for(user).post("/api/v1/marketing/campaigns", data=CAMPAIGN,
                                         content_type="application/json")
        assert response.status_code == 403
    assert not Campaign.objects.exists()
    created = client_for(org.marketer).post("/api/v1/marketing/campaigns", data=CAMPAIGN,
                                            content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert body["actual_cost"] == "9500.50" and body["currency"] == "EUR"
    assert body["owner_id"] == org.marketer.pk
    # Everyone reads campaigns.
    assert client_for(org.east_rep).get(f"/api/v1/marketing/campaigns/{body['id']}").json()[
        "name"] == "Trade show"


def test_campaign_input_errors_name_the_field(org):
    client = client_for(org.marketer)
    bad = client.post("/api/v1/marketing/campaigns",
                      data={**CAMPAIGN, "start_date": "2026-05-01", "end_date": "2026-04-01"},
                      content_type="application/json")
    assert bad.status_code == 422 and "end_date" in bad.json()["errors"]
    negative = client.post("/api/v1/marketing/campaigns", data={**CAMPAIGN, "budget": "-1"},
                           content_type="application/json")
    assert negative.status_code == 422 and "budget" in negative.json()["errors"]
    assert not Campaign.objects.exists()


def test_a_rep_cannot_change_a_campaign_through_the_page(org, campaign):
    response = client_for(org.west_rep).post(
        reverse("web:marketing:campaign", args=[campaign.pk]),
        {"action": "edit", "edit-name": "Hijacked"})
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.name == "Spring webinar"


def test_members_by_email_and_their_visibility(org, campaign):
    west_lead = make_lead(org.west_rep, email="w@example.com")
    make_lead(org.east_rep, email="e@example.com")
    added, unknown = services.add_members_by_email(
        campaign, by=org.marketer, emails=["W@example.com", "e@example.com", "x@example.com"],
        response="opened")
    assert added == 2 and unknown == ["x@example.com"]
    seen = [m.lead for m in selectors.members(campaign, org.west_rep)]
    assert seen == [west_lead]
    assert len(selectors.members(campaign, org.marketer)) == 2
    assert len(selectors.members(campaign, org.vp)) == 2


def test_forms_are_for_marketing_only_and_show_the_embed_snippet(org, capture_form):
    assert client_for(org.west_manager).get("/api/v1/marketing/forms").status_code == 403
    assert client_for(org.west_rep).get(
        reverse("web:marketing:form", args=[capture_form.pk])).status_code == 403
    page = client_for(org.marketer).get(reverse("web:marketing:form", args=[capture_form.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert f"/marketing/f/{capture_form.key}/" in html and "website_url" in html


def test_creating_a_form_checks_its_fields(org, campaign):
    client = client_for(org.marketer)
    bad = client.post("/api/v1/marketing/forms", data={
        "name": "Bad", "fields": ["salary"]}, content_type="application/json")
    assert bad.status_code == 422 and "fields" in bad.json()["errors"]
    hidden = client.post("/api/v1/marketing/forms", data={
        "name": "Bad", "fields": ["company"], "required_fields": ["phone"]},
        content_type="application/json")
    assert hidden.status_code == 422 and "required_fields" in hidden.json()["errors"]
    page = client.post(reverse("web:marketing:forms"), {
        "name": "Newsletter", "campaign": campaign.pk, "shown_fields": ["company"],
        "source": "web", "response": "responded", "queue_owner": org.marketer.pk,
        "rate_limit": 10, "thank_you": "Thanks"})
    assert page.status_code == 302
    assert CaptureForm.objects.get(name="Newsletter").fields == ["company"]


def test_feedback_and_queue_are_refused_to_reps(org):
    rep = client_for(org.west_rep)
    assert rep.get("/api/v1/marketing/feedback").status_code == 403
    assert rep.get("/api/v1/marketing/queue").status_code == 403
    assert rep.get(reverse("web:marketing:queue")).status_code == 403
    assert rep.post("/api/v1/marketing/queue/route").status_code == 403


def test_sla_board_shows_managers_their_teams_only(org, territory_map, policy):
    west = make_lead(org.marketer, state="CA")
    east = make_lead(org.marketer, state="NY")
    routing.route_lead(west)
    routing.route_lead(east)
    rows = client_for(org.west_manager).get("/api/v1/marketing/sla").json()
    assert [r["lead_id"] for r in rows] == [west.pk]
    assert {r["lead_id"] for r in client_for(org.vp).get("/api/v1/marketing/sla").json()} == \
        {west.pk, east.pk}
    assert client_for(org.east_rep).get("/api/v1/marketing/sla").json()[0]["lead_id"] == east.pk


def test_feedback_counts_outcomes_reasons_and_sla(org, territory_map, policy, campaign):
    leads = [make_lead(org.marketer, state="CA") for _ in range(3)]
    for lead in leads:
        routing.route_lead(lead)
    LeadHandoff.objects.filter(lead__in=leads).update(campaign=campaign)
    LeadHandoff.objects.filter(lead=leads[0]).update(stage="converted")
    LeadHandoff.objects.filter(lead=leads[1]).update(stage="disqualified", reason="Student")
    from tests.factories import make_activity

    leads[2].refresh_from_db()
    make_activity(leads[2].owner, lead=leads[2])  # touched at once: within the SLA
    body = client_for(org.marketer).get("/api/v1/marketing/feedback").json()
    [row] = body["rows"]
    assert (row["name"], row["leads"], row["converted"], row["disqualified"], row["open"]) == \
        ("Spring webinar", 3, 1, 1, 1)
    assert row["conversion_rate"] == 50.0
    assert (row["sla_compliance"], row["avg_hours_to_first_touch"]) == (100.0, 0.0)
    assert body["reasons"] == [{"name": "Spring webinar", "stage": "Disqualified",
                                "reason": "Student", "count": 1}]
    by_source = client_for(org.marketer).get("/api/v1/marketing/feedback?group=source").json()
    assert by_source["rows"][0]["leads"] == 3


def test_pages_render_for_their_roles(org, territory_map, policy, capture_form):
    routing.route_lead(make_lead(org.marketer, state="TX"))
    marketer = client_for(org.marketer)
    for name in ("campaigns", "attribution", "forms", "queue", "sla", "feedback", "policy"):
        assert marketer.get(reverse(f"web:marketing:{name}")).status_code == 200, name
    assert b"no current owner" in marketer.get(reverse("web:marketing:queue")).content
    rep = client_for(org.west_rep)
    for name in ("campaigns", "sla", "policy"):
        assert rep.get(reverse(f"web:marketing:{name}")).status_code == 200, name
    assert rep.get(reverse("web:marketing:attribution")).status_code == 403


def test_policy_is_changed_by_marketing_not_by_reps(org, policy):
    payload = {"sla_hours": 8, "routing_method": "least_loaded", "default_capacity": 30,
               "version": policy.version}
    assert client_for(org.west_rep).put("/api/v1/marketing/policy", data=payload,
                                        content_type="application/json").status_code == 403
    changed = client_for(org.marketer).put("/api/v1/marketing/policy", data=payload,
                                           content_type="application/json")
    assert changed.status_code == 200
    assert changed.json() == {**payload, "version": policy.version + 1}


def test_dashboard_card_per_role(org, territory_map, policy):
    lead = make_lead(org.marketer, state="NY")
    routing.route_lead(lead)
    rep_card = selectors.dashboard_card(org.east_rep)
    assert rep_card is not None and ("Leads to accept", 1) in rep_card["figures"]
    assert selectors.dashboard_card(org.marketer)["figures"][0] == (
        "Leads in the last 30 days", 1)
    assert selectors.dashboard_card(org.executive) is None
    from django.template.loader import render_to_string

    html = render_to_string("marketing/_dashboard_card.html", {"card": rep_card})
    assert "Leads to accept" in html


def test_contacts_in_campaigns_follow_contact_visibility(org, campaign):
    from tests.factories import make_account, make_contact

    contact = make_contact(org.west_rep, make_account(org.west_rep), email="c@example.com")
    # Marketing reads contacts to build the audience; it adds them by address.
    assert services.add_members_by_email(campaign, by=org.marketer,
                                         emails=["c@example.com", "nobody@example.com"]
                                         ) == (1, ["nobody@example.com"])
    services.record_response(campaign, contact=contact, response="attended")
    assert [m.contact for m in selectors.members(campaign, org.west_rep)] == [contact]
    assert [m.contact for m in selectors.members(campaign, org.marketer)] == [contact]
    assert list(selectors.members(campaign, org.east_rep)) == []
    assert selectors.response_counts(campaign) == {"attended": 1}


def test_anonymous_visitors_reach_only_the_public_form(client, capture_form):
    assert client.get("/api/v1/marketing/campaigns").status_code == 401
    assert client.get("/api/v1/marketing/sla").status_code == 401
    response = client.get(reverse("web:marketing:campaigns"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get(reverse("web:marketing:public_form",
                              args=[capture_form.key])).status_code == 200
    assert client.get(reverse("web:marketing:public_form", args=["guess"])).status_code == 404
