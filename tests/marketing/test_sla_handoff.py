"""The first-touch SLA and its escalation; handoff transitions and who may make them."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from salesplan.customers.models import Lead
from salesplan.marketing import routing, sla
from salesplan.marketing.models import LeadEvent, LeadHandoff
from tests.factories import make_activity, make_lead

pytestmark = pytest.mark.django_db


def routed(org, state="CA", hours_ago=10):
    lead = make_lead(org.marketer, state=state, country="US")
    routing.route_lead(lead, now=timezone.now() - timedelta(hours=hours_ago))
    lead.refresh_from_db()
    return lead


def test_a_breach_tells_the_owners_manager_once(org, territory_map, policy, capsys,
                                               django_capture_on_commit_callbacks):
    org.west_manager.email = "west.manager@example.com"
    org.west_manager.save()
    lead = routed(org)  # routed 10 h ago, due within 4 h
    with django_capture_on_commit_callbacks(execute=True):
        call_command("marketing", "escalate")
    assert "1 escalation(s)" in capsys.readouterr().out
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["west.manager@example.com"]
    assert str(lead) in mail.outbox[0].subject
    from salesplan.collab.models import Notification

    [notice] = Notification.objects.filter(recipient=org.west_manager)
    assert str(lead) in notice.text and notice.url == f"/leads/{lead.pk}/"
    handoff = LeadHandoff.objects.get(lead=lead)
    assert handoff.escalated_at is not None
    assert LeadEvent.objects.filter(lead=lead, kind="escalated").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        call_command("marketing", "escalate")
    assert "0 escalation(s)" in capsys.readouterr().out
    assert len(mail.outbox) == 1
    assert Notification.objects.filter(recipient=org.west_manager).count() == 1


def test_a_first_touch_by_the_owner_stops_the_clock(org, territory_map, policy):
    lead = routed(org)
    make_activity(lead.owner, lead=lead)
    assert sla.escalate() == []
    assert LeadHandoff.objects.get(lead=lead).first_touch_at is not None


def test_someone_elses_activity_is_not_a_first_touch(org, territory_map, policy):
    lead = routed(org)
    make_activity(org.west_manager, lead=lead)
    [escalation] = sla.escalate()
    assert escalation.lead == lead and escalation.manager == org.west_manager


def test_not_yet_due_and_closed_leads_are_not_escalated(org, territory_map, policy):
    routed(org, hours_ago=1)  # due in 3 h
    closed = routed(org)
    LeadHandoff.objects.filter(lead=closed).update(stage="disqualified")
    assert sla.escalate() == []


def test_the_handoff_moves_through_its_stages(org, territory_map, policy):
    lead = routed(org, hours_ago=0)
    client = Client()
    client.force_login(lead.owner)
    base = f"/api/v1/marketing/leads/{lead.pk}"
    assert client.post(f"{base}/qualify").status_code == 422  # must be accepted first
    body = client.post(f"{base}/accept").json()
    assert body["stage"] == "sal" and "qualify" in body["transitions"]
    assert client.post(f"{base}/qualify").json()["stage"] == "sql"
    refused = client.post(f"{base}/disqualify", data={"reason": ""},
                          content_type="application/json")
    assert refused.status_code == 422 and "reason" in refused.json()["errors"]
    done = client.post(f"{base}/disqualify", data={"reason": "No budget this year"},
                       content_type="application/json").json()
    assert done["stage"] == "disqualified" and done["reason"] == "No budget this year"
    assert Lead.objects.get(pk=lead.pk).status == "unqualified"
    kinds = [e["kind"] for e in client.get(f"{base}/handoff").json()["events"]]
    assert kinds.count("stage") == 3 and "routed" in kinds


def test_convert_turns_the_lead_into_an_account(org, territory_map, policy):
    lead = routed(org, hours_ago=0)
    LeadHandoff.objects.filter(lead=lead).update(stage="sql")
    client = Client()
    client.force_login(lead.owner)
    assert client.post(f"/api/v1/marketing/leads/{lead.pk}/convert").json()["stage"] == \
        "converted"
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.converted_account is not None


def test_other_teams_reps_cannot_see_or_move_the_handoff(org, territory_map, policy):
    lead = routed(org, hours_ago=0)  # a West lead
    client = Client()
    client.force_login(org.east_rep)
    assert client.post(f"/api/v1/marketing/leads/{lead.pk}/accept").status_code == 404
    assert client.get(reverse("web:marketing:lead_panel", args=[lead.pk])).status_code == 404
    assert LeadHandoff.objects.get(lead=lead).stage == "mql"
    client.force_login(org.marketer)  # sees every lead, but accepting is sales' job
    assert client.post(f"/api/v1/marketing/leads/{lead.pk}/accept").status_code == 403
    assert LeadHandoff.objects.get(lead=lead).stage == "mql"
    client.force_login(org.west_manager)  # the owner's manager may
    assert client.post(f"/api/v1/marketing/leads/{lead.pk}/accept").status_code == 200


def test_marketing_sends_a_recycled_lead_back_to_sales(org, territory_map, policy):
    lead = routed(org, hours_ago=0)
    client = Client()
    client.force_login(lead.owner)
    client.post(f"/api/v1/marketing/leads/{lead.pk}/recycle", data={"reason": "Too early"},
                content_type="application/json")
    assert client.post(f"/api/v1/marketing/leads/{lead.pk}/requalify").status_code == 403
    client.force_login(org.marketer)
    body = client.post(f"/api/v1/marketing/leads/{lead.pk}/requalify").json()
    assert body["stage"] == "mql" and not body["queued"]


def test_the_lead_panel_shows_stage_clock_and_log_and_moves_by_htmx(org, territory_map, policy):
    lead = routed(org, hours_ago=0)
    client = Client()
    client.force_login(lead.owner)
    panel = client.get(reverse("web:marketing:lead_panel", args=[lead.pk]))
    html = panel.content.decode()
    assert panel.status_code == 200 and html.startswith('<section class="card"')
    assert "Marketing-qualified" in html and "due by" in html and "West" in html
    assert "(3 h 59 min left)" in html or "(4 h 0 min left)" in html
    moved = client.post(reverse("web:marketing:lead_transition", args=[lead.pk, "accept"]),
                        HTTP_HX_REQUEST="true")
    assert moved.status_code == 200 and "Sales-accepted" in moved.content.decode()
