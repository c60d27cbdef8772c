"""Review findings on territories: managers re-territoried the company and other regions,
a rep read every territory through the what-if, the executive wrote exceptions, and an
exception on a hidden account told the rep that it exists."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound
from salesplan.customers.models import Account
from salesplan.territories import services
from salesplan.territories.assignment import run_full_assignment
from salesplan.territories.models import (
    AccountTerritory,
    Alignment,
    BoundaryException,
    BoundaryRule,
    Realignment,
    Territory,
    TerritoryMember,
)

from ..api.conftest import assert_problem
from ..factories import make_account
from ..territories.conftest import build_map, grant_map

T = "/territories"


@pytest.fixture
def active_map(org):
    make_account(org.west_rep, name="Bay Co", postal_code="94107")
    make_account(org.east_rep, name="Manhattan Co", postal_code="10013", state="NY")
    territory_map = build_map(org)
    run_full_assignment(territory_map.alignment)
    services.activate_alignment(territory_map.alignment, by=org.admin)
    return territory_map


def _draft(org, active_map) -> Alignment:
    draft = services.create_alignment(by=org.admin, name="FY28", copy_from=active_map.alignment)
    run_full_assignment(draft)
    return draft


def test_a_team_manager_cannot_create_run_or_activate_a_company_alignment(
        org, api_as, active_map):
    draft = _draft(org, active_map)
    api = api_as(org.west_manager)
    alignments = Alignment.objects.count()
    assert_problem(api.post(f"{T}/alignments", {"name": "Mine"}), 403)
    assert_problem(api.post(f"{T}/alignments/{draft.pk}/assign"), 403)
    assert_problem(api.post(f"{T}/alignments/{draft.pk}/activate",
                            {"ownership": "move", "version": draft.version}), 403)
    assert Alignment.objects.count() == alignments
    draft.refresh_from_db()
    assert draft.status == Alignment.Status.DRAFT
    assert not Realignment.objects.filter(alignment=draft).exists()


def test_an_admins_grant_lets_a_manager_activate(org, api_as, active_map):
    draft = _draft(org, active_map)
    grant_map(org.west_manager)
    done = api_as(org.west_manager).post(f"{T}/alignments/{draft.pk}/activate",
                                         {"ownership": "stay", "version": draft.version})
    assert done.status_code == 200, done.data


def test_another_regions_manager_cannot_touch_a_west_territory(org, api_as, active_map):
    west = active_map.west
    rule = west.rules.get()
    member = TerritoryMember.objects.get(territory=west, user=org.west_rep)
    accounts = AccountTerritory.objects.filter(territory=west).count()
    api = api_as(org.east_manager)
    assert_problem(api.delete(f"{T}/rules/{rule.pk}?version={rule.version}"), 403)
    assert_problem(api.delete(f"{T}/members/{member.pk}?version={member.version}"), 403)
    assert_problem(api.delete(f"{T}/{west.pk}?version={west.version}"), 403)
    assert_problem(api.post(f"{T}/{west.pk}/members", {"user_id": org.east_rep.pk}), 403)
    assert Territory.objects.filter(pk=west.pk).exists()
    assert BoundaryRule.objects.filter(pk=rule.pk).exists()
    assert TerritoryMember.objects.filter(pk=member.pk).exists()
    assert AccountTerritory.objects.filter(territory=west).count() == accounts


def test_a_manager_changes_his_own_part_of_the_hierarchy(org, active_map):
    east = active_map.east
    rule = services.create_rule(east, by=org.east_manager, conditions=[
        {"field": "postal_code", "op": "prefix", "values": ["11"]}])
    services.delete_rule(rule, by=org.east_manager)
    # ...but not above it, and not with another team's people.
    with pytest.raises(PermissionDenied):
        services.update_territory(active_map.region, by=org.east_manager,
                                  data={"priority": 3})
    with pytest.raises(PermissionDenied):
        services.add_member(east, by=org.east_manager, user=org.west_rep2)
    # The region's manager manages every territory below the region.
    services.update_territory(active_map.west, by=org.vp, data={"priority": 2})


def test_a_rep_reads_no_what_if(org, api_as, client, active_map):
    draft = _draft(org, active_map)
    assert_problem(api_as(org.west_rep).get(f"{T}/alignments/{draft.pk}/what-if"), 403)
    client.force_login(org.west_rep)
    page = client.get(reverse("web:territories:what_if", args=[draft.pk]))
    assert page.status_code == 403
    assert "Manhattan Co" not in page.content.decode()
    tree = client.get(reverse("web:territories:tree"), {"alignment": draft.pk})
    assert reverse("web:territories:what_if", args=[draft.pk]) not in tree.content.decode()


def test_the_executive_requests_no_exception(org, api_as, client, active_map):
    nyc = Account.objects.get(name="Manhattan Co")
    until = (company_today() + timedelta(days=7)).isoformat()
    assert_problem(api_as(org.executive).post(f"{T}/exceptions", {
        "account_id": nyc.pk, "reason": "Just looking", "until": until}), 403)
    client.force_login(org.executive)
    url = reverse("web:territories:exceptions")
    assert client.post(url, {"account": nyc.pk, "reason": "x", "until": until}
                       ).status_code == 403
    assert "Ask for an exception" not in client.get(url).content.decode()
    assert not BoundaryException.objects.exists()


def test_an_exception_on_a_hidden_account_answers_like_a_missing_one(org, api_as, active_map):
    hidden = Account.objects.get(name="Manhattan Co")  # the East rep's
    until = (company_today() + timedelta(days=7)).isoformat()
    api = api_as(org.west_rep)
    answers = [api.post(f"{T}/exceptions", {"account_id": pk, "reason": "r", "until": until})
               for pk in (hidden.pk, 999999)]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].data["title"] == answers[1].data["title"]
    assert "Manhattan" not in answers[0].content.decode()
    with pytest.raises(NotFound):
        services.request_exception(by=org.west_rep, account=hidden, reason="r",
                                   until=company_today())
    assert not BoundaryException.objects.exists()
