"""Routing: the covering territory's owners, round-robin order, least-loaded, capacity,
and the queue (with its reason) when nobody can take the lead."""

from datetime import date

import pytest

from salesplan.customers.models import Lead
from salesplan.marketing import routing, services
from salesplan.marketing.models import LeadEvent, LeadHandoff, RepCapacity, RoutingMethod
from salesplan.territories.models import MemberRole, TerritoryMember
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def lead(org, state="CA", **fields):
    return make_lead(org.marketer, state=state, country="US", **fields)


def test_lead_goes_to_an_owner_of_the_covering_territory(org, territory_map, policy):
    new = lead(org, state="NY")
    decision = routing.route_lead(new)
    new.refresh_from_db()
    assert decision.territory_id == territory_map.east.pk
    assert new.owner == org.east_rep
    handoff = LeadHandoff.objects.get(lead=new)
    assert handoff.territory == territory_map.east and not handoff.queued
    assert (handoff.sla_due_at - handoff.routed_at).total_seconds() == 4 * 3600
    event = LeadEvent.objects.get(lead=new, kind="routed")
    assert event.assigned_to == org.east_rep and "East" in event.message


def test_round_robin_takes_turns_in_a_stable_order(org, territory_map, policy):
    owners = []
    for _ in range(5):
        new = lead(org)
        routing.route_lead(new)
        new.refresh_from_db()
        owners.append(new.owner)
    first, second = sorted([org.west_rep, org.west_rep2], key=lambda u: u.pk)
    assert owners == [first, second, first, second, first]


def test_least_loaded_picks_the_rep_with_fewest_open_leads(org, territory_map, policy):
    policy.routing_method = RoutingMethod.LEAST_LOADED
    policy.save()
    for _ in range(3):
        make_lead(org.west_rep, state="CA")
    make_lead(org.west_rep2, state="CA")
    make_lead(org.west_rep2, state="CA", status="unqualified")  # closed: does not count
    new = lead(org)
    routing.route_lead(new)
    new.refresh_from_db()
    assert new.owner == org.west_rep2


def test_a_rep_at_capacity_is_skipped(org, territory_map, policy):
    RepCapacity.objects.create(user=org.west_rep, max_open_leads=2)
    make_lead(org.west_rep, state="CA")
    make_lead(org.west_rep, state="CA")
    for _ in range(3):
        new = lead(org)
        routing.route_lead(new)
        new.refresh_from_db()
        assert new.owner == org.west_rep2


def test_everyone_at_capacity_queues_the_lead_with_the_reason(org, territory_map, policy):
    policy.default_capacity = 1
    policy.save()
    make_lead(org.east_rep, state="NY")
    new = lead(org, state="NY")
    decision = routing.route_lead(new)
    new.refresh_from_db()
    assert decision.queued and new.owner == org.marketer
    handoff = LeadHandoff.objects.get(lead=new)
    assert handoff.queued
    assert "at capacity" in handoff.queue_reason and "1/1" in handoff.queue_reason
    assert handoff.sla_due_at is None  # no clock while nobody owns it


def test_no_covering_territory_queues_with_the_address(org, territory_map, policy):
    new = lead(org, state="WA", postal_code="98101")
    routing.route_lead(new)
    handoff = LeadHandoff.objects.get(lead=new)
    assert handoff.queued
    assert "No territory" in handoff.queue_reason and "WA" in handoff.queue_reason
    assert LeadEvent.objects.filter(lead=new, kind="queued").count() == 1


def test_territory_without_owner_queues(org, territory_map, policy):
    new = lead(org, state="TX")
    routing.route_lead(new)
    handoff = LeadHandoff.objects.get(lead=new)
    assert handoff.queued and handoff.territory == territory_map.texas
    assert "no current owner" in handoff.queue_reason


def test_parent_territory_owner_takes_leads_of_an_unstaffed_child(org, territory_map, policy):
    territory_map.texas.parent = territory_map.west
    territory_map.texas.save()
    new = lead(org, state="TX")
    routing.route_lead(new)
    new.refresh_from_db()
    assert new.owner in (org.west_rep, org.west_rep2)
    assert "via West" in LeadEvent.objects.get(lead=new, kind="routed").message


def test_no_active_alignment_queues(org, policy):
    new = lead(org)
    routing.route_lead(new)
    assert LeadHandoff.objects.get(lead=new).queue_reason == \
        "There is no active territory alignment."


def test_route_pending_routes_imported_leads_and_retries_the_queue(org, territory_map, policy):
    imported = lead(org, state="CA")  # created elsewhere, never routed
    waiting = lead(org, state="TX")
    routing.route_lead(waiting)
    assert routing.route_pending() == {"routed": 1, "queued": 1}
    imported.refresh_from_db()
    assert imported.owner in (org.west_rep, org.west_rep2)
    # Staff Texas: the queued lead is routed on the next pass.
    TerritoryMember.objects.create(territory=territory_map.texas, user=org.east_rep,
                                   role=MemberRole.OWNER, start_date=date(2020, 1, 1))
    assert routing.route_pending() == {"routed": 1, "queued": 0}
    waiting.refresh_from_db()
    assert waiting.owner == org.east_rep


def test_manager_assigns_from_the_queue_within_their_teams(org, territory_map, policy):
    # A lead a West rep entered that no territory covers: his manager may see it.
    new = make_lead(org.west_rep2, state="TX", country="US")
    routing.route_lead(new)
    with pytest.raises(services.PermissionDenied):
        services.assign_from_queue(new, org.east_rep, by=org.west_manager)
    services.assign_from_queue(new, org.west_rep, by=org.west_manager)
    new.refresh_from_db()
    assert new.owner == org.west_rep
    assert not LeadHandoff.objects.get(lead=new).queued
    assert Lead.objects.filter(pk=new.pk, owner=org.west_rep).exists()


def test_cli_and_api_route_pending_leads_and_work_the_queue(org, territory_map, policy,
                                                            capsys):
    from django.core.management import call_command
    from django.test import Client

    imported = lead(org, state="NY")
    stranded = make_lead(org.east_rep, state="TX", country="US")  # the East manager sees it
    call_command("marketing", "route")
    assert "Routed 1 lead(s); 1 waiting in the queue." in capsys.readouterr().out
    imported.refresh_from_db()
    assert imported.owner == org.east_rep
    client = Client()
    client.force_login(org.east_manager)
    [row] = client.get("/api/v1/marketing/queue").json()
    assert row["lead_id"] == stranded.pk and "Texas" in row["queue_reason"]
    refused = client.post(f"/api/v1/marketing/queue/{stranded.pk}/assign",
                          data={"rep_id": org.west_rep.pk}, content_type="application/json")
    assert refused.status_code == 403
    done = client.post(f"/api/v1/marketing/queue/{stranded.pk}/assign",
                       data={"rep_id": org.east_rep.pk}, content_type="application/json")
    assert done.status_code == 200 and done.json()["owner_id"] == org.east_rep.pk
    assert client.get("/api/v1/marketing/queue").json() == []


def test_a_lead_marketing_creates_without_an_owner_is_routed_on_save(
        org, territory_map, policy, django_capture_on_commit_callbacks):
    from salesplan.customers.services import create_lead

    with django_capture_on_commit_callbacks(execute=True):
        routed = create_lead(by=org.marketer, data={"last_name": "Byrne", "state": "NY",
                                                    "country": "US"})
        named = create_lead(by=org.admin, data={"last_name": "Cole", "state": "NY",
                                                "country": "US", "owner": org.west_rep})
        own = create_lead(by=org.east_rep, data={"last_name": "Dunn", "state": "CA",
                                                 "country": "US"})
    routed.refresh_from_db()
    named.refresh_from_db()
    own.refresh_from_db()
    assert routed.owner == org.east_rep
    assert LeadHandoff.objects.get(lead=routed).territory == territory_map.east
    assert named.owner == org.west_rep and not LeadHandoff.objects.filter(lead=named).exists()
    assert own.owner == org.east_rep and not LeadHandoff.objects.filter(lead=own).exists()
