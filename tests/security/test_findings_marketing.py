"""Review finding on the routing queue: a manager assigned to himself, then deleted, a
queued lead he could not see, and the queue showed every waiting lead to every manager."""

import json

import pytest
from django.urls import reverse

from salesplan.core.errors import NotFound
from salesplan.customers.models import Lead
from salesplan.marketing import routing, services
from salesplan.marketing.models import LeadHandoff, MarketingPolicy
from salesplan.territories.models import Alignment

from ..factories import make_lead

API = "/api/v1/marketing"


@pytest.fixture
def queued(org) -> Lead:
    """A lead marketing captured that no territory covers: it waits in the queue."""
    Alignment.objects.create(name="FY", status=Alignment.Status.ACTIVE)
    MarketingPolicy.current()
    lead = make_lead(org.marketer, last_name="Hidden-Waiting", company="Secret Prospects Inc",
                     state="TX", country="US")
    routing.route_lead(lead)
    assert LeadHandoff.objects.get(lead=lead).queued
    return lead


def test_a_manager_cannot_assign_a_queued_lead_he_cannot_see(org, client, queued):
    row = Lead.objects.filter(pk=queued.pk).values().get()
    with pytest.raises(NotFound):
        services.assign_from_queue(queued, org.west_manager, by=org.west_manager)
    client.force_login(org.west_manager)
    assert client.get(f"/api/v1/leads/{queued.pk}").status_code == 404
    answer = client.post(f"{API}/queue/{queued.pk}/assign",
                         data=json.dumps({"rep_id": org.west_manager.pk}),
                         content_type="application/json")
    assert answer.status_code == 404
    assert "Hidden-Waiting" not in answer.content.decode()
    page = client.post(reverse("web:marketing:queue_assign", args=[queued.pk]),
                       {"rep": org.west_manager.pk})
    assert page.status_code == 404
    assert Lead.objects.filter(pk=queued.pk).values().get() == row
    assert LeadHandoff.objects.get(lead=queued).queued
    # So he never owns it, and cannot delete it.
    assert client.delete(f"/api/v1/leads/{queued.pk}").status_code == 404
    assert Lead.objects.filter(pk=queued.pk).exists()


def test_the_queue_shows_a_manager_only_the_leads_he_may_see(org, client, queued):
    client.force_login(org.west_manager)
    assert client.get(f"{API}/queue").json() == []
    page = client.get(reverse("web:marketing:queue")).content.decode()
    assert "Hidden-Waiting" not in page and "Secret Prospects" not in page
    client.force_login(org.marketer)
    assert [r["lead_id"] for r in client.get(f"{API}/queue").json()] == [queued.pk]
    done = client.post(f"{API}/queue/{queued.pk}/assign",
                       data=json.dumps({"rep_id": org.west_rep.pk}),
                       content_type="application/json")
    assert done.status_code == 200 and done.json()["owner_id"] == org.west_rep.pk


def test_a_queue_action_on_an_invisible_lead_answers_404_like_a_missing_one(org, client):
    hidden = make_lead(org.east_rep, last_name="Eastern")  # not queued, not his
    client.force_login(org.west_manager)
    answers = [client.post(f"{API}/queue/{pk}/assign",
                           data=json.dumps({"rep_id": org.west_rep.pk}),
                           content_type="application/json") for pk in (hidden.pk, 999999)]
    assert [a.status_code for a in answers] == [404, 404]
