"""Territory pages: managers edit, reps read only what they may see, bad rules are
refused next to the field, and activating from the page is one recorded step."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from salesplan.core.models import BackgroundJob
from salesplan.customers.models import Account
from salesplan.territories import services
from salesplan.territories.assignment import run_full_assignment
from salesplan.territories.models import (
    Alignment,
    BoundaryException,
    BoundaryRule,
    Realignment,
    Territory,
    TerritoryMember,
)

from .conftest import grant_map


@pytest.fixture
def as_user(client):
    def _as(user):
        client.force_login(user)
        return client
    return _as


def url(name, *args):
    return reverse(f"web:territories:{name}", args=args)


def test_manager_sees_the_tree_with_badges_and_the_territory_page(org, active_map, as_user):
    Account.objects.filter(name="Bay Co").update(latitude=Decimal("37.77"),
                                                  longitude=Decimal("-122.42"))
    draft = services.create_alignment(by=org.admin, name="FY28", copy_from=active_map.alignment)
    grant_map(org.vp)
    client = as_user(org.vp)
    page = client.get(url("tree")).content.decode()
    assert "West" in page and "East" in page and ">Active<" in page
    assert 'href="/territories/"' in page  # the nav link
    # The map draws the account where it is (longitude, latitude), in the West's area.
    assert "[-122.42, 37.77, 0]" in page and "[-123.0, 37.0, 1.0, 0]" in page
    assert "Geographic · 2 accounts" in page  # the region counts the accounts below it
    draft_page = client.get(url("tree"), {"alignment": draft.pk}).content.decode()
    assert ">Draft<" in draft_page and "Activate FY28" in draft_page
    west = client.get(url("territory", active_map.west.pk)).content.decode()
    assert "Bay Co" in west
    assert "Manhattan Co" not in west
    assert "Rule 1" in west and "postal code starts with 94" in west and "Add member" in west


def test_rep_reads_but_cannot_edit_and_sees_no_neighbouring_accounts(org, active_map, as_user):
    client = as_user(org.west_rep)
    # A neighbour's territory page (members, goal, bookings) is not the rep's to open,
    # nor the region's, which sums the neighbour's figures.
    assert client.get(url("territory", active_map.east.pk)).status_code == 404
    assert client.get(url("territory", active_map.region.pk)).status_code == 404
    assert as_user(org.east_manager).get(url("territory", active_map.west.pk)).status_code == 200
    client = as_user(org.west_rep)
    assert "Bay Co" in client.get(url("territory", active_map.west.pk)).content.decode()
    response = client.post(url("territory_edit", active_map.west.pk),
                           {"name": "Mine now", "type": "geographic", "priority": 5})
    assert response.status_code == 403
    assert client.post(url("rule_create", active_map.west.pk), {
        "combine": "all", "field_0": "state", "op_0": "in", "values_0": "NY"}).status_code == 403
    assert client.post(url("member_add", active_map.west.pk), {
        "user": org.west_rep.pk, "role": "owner"}).status_code == 403
    assert client.post(url("member_add", active_map.east.pk), {
        "user": org.west_rep.pk, "role": "owner"}).status_code == 404
    assert client.post(url("alignment_activate", active_map.alignment.pk), {
        "ownership": "move", "version": active_map.alignment.version}).status_code == 403
    assert Territory.objects.get(pk=active_map.west.pk).name == "West"
    assert not TerritoryMember.objects.filter(territory=active_map.east,
                                              user=org.west_rep).exists()


def test_rule_editor_refuses_a_malformed_postal_range_next_to_the_field(org, territory_map,
                                                                         as_user):
    client = as_user(org.west_manager)
    before = BoundaryRule.objects.count()
    response = client.post(url("rule_create", territory_map.west.pk), {
        "combine": "all", "field_0": "postal_code", "op_0": "range", "values_0": "94999-94000"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_values_0_error"' in page and "starts after it ends" in page
    assert BoundaryRule.objects.count() == before


def test_rule_editor_saves_a_good_rule_and_previews_the_count(org, territory_map, as_user):
    from ..factories import make_account

    make_account(org.admin, name="Oakland Co", postal_code="94607")
    make_account(org.admin, name="Fresno Co", postal_code="93721")
    client = as_user(org.west_manager)
    preview = client.post(url("rule_preview"), {
        "combine": "all", "field_0": "postal_code", "op_0": "range", "values_0": "94600-94699"})
    assert "<strong>1</strong> account match" in preview.content.decode()
    response = client.post(url("rule_create", territory_map.west.pk), {
        "combine": "all", "field_0": "postal_code", "op_0": "range", "values_0": "94600-94699",
        "field_1": "state", "op_1": "in", "values_1": "CA"})
    assert response.status_code == 302
    rule = territory_map.west.rules.order_by("-position").first()
    assert rule.conditions == [
        {"field": "postal_code", "op": "range", "values": ["94600", "94699"]},
        {"field": "state", "op": "in", "values": ["CA"]}]


def test_activation_from_the_page_records_a_realignment(org, active_map, as_user,
                                                        django_capture_on_commit_callbacks):
    draft = services.create_alignment(by=org.admin, name="FY28", copy_from=active_map.alignment)
    run_full_assignment(draft)
    grant_map(org.vp)
    client = as_user(org.vp)
    preview = client.get(f"/territories/alignments/{draft.pk}/activate/preview/",
                         {"ownership": "move"})
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', preview.content.decode())[1]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("alignment_activate", draft.pk), {
            "ownership": "move", "version": draft.version, "fingerprint": fingerprint})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Alignment.Status.ACTIVE
    done = Realignment.objects.get(alignment=draft)
    assert done.previous_id == active_map.alignment.pk and done.ownership == "move"
    assert done.changed_by == org.vp


def test_run_assignment_starts_a_job_and_links_to_its_page(org, territory_map, as_user):
    grant_map(org.vp)
    client = as_user(org.vp)
    response = client.post(url("alignment_assign", territory_map.alignment.pk))
    job = BackgroundJob.objects.get(kind="territory_assignment")
    assert response.status_code == 302 and response.url == f"/jobs/{job.pk}/"
    assert client.get(response.url).status_code == 200


def test_violation_is_fixed_in_one_step(org, active_map, as_user):
    client = as_user(org.vp)
    page = client.get(url("violations")).content.decode()
    assert "Bay Co" in page and "Give to" in page  # the admin owns an account in West
    bay = Account.objects.get(name="Bay Co")
    response = client.post(url("violation_fix"), {"kind": "account", "record_id": bay.pk})
    assert response.status_code == 302
    bay.refresh_from_db()
    assert bay.owner == org.west_rep


def test_boundary_exception_requested_by_a_rep_and_approved_by_the_manager(org, active_map,
                                                                           as_user):
    from ..factories import make_account

    mine = make_account(org.west_rep, name="Rep's old account", postal_code="10005")
    client = as_user(org.west_rep)
    response = client.post(url("exceptions"), {"account": mine.pk, "reason": "My contact",
                                               "until": "2099-01-01"})
    assert response.status_code == 302
    exception = BoundaryException.objects.get(account=mine)
    assert client.post(url("exception_decide", exception.pk, "approve"),
                       {"version": exception.version}).status_code == 403
    manager = as_user(org.west_manager)
    assert "My contact" in manager.get(url("exceptions")).content.decode()
    manager.post(url("exception_decide", exception.pk, "approve"),
                 {"note": "fine", "version": exception.version})
    exception.refresh_from_db()
    assert exception.status == BoundaryException.Status.APPROVED


def test_what_if_lists_moved_accounts(org, active_map, as_user):
    draft = services.create_alignment(by=org.admin, name="FY28", copy_from=active_map.alignment)
    services.delete_rule(draft.territories.get(name="West").rules.get(), by=org.admin)
    from salesplan.territories.assignment import run_full_assignment

    run_full_assignment(draft)
    page = as_user(org.vp).get(url("what_if", draft.pk)).content.decode()
    assert "Bay Co" in page and "Manhattan Co" not in page and "Before and after" in page


def test_every_territory_page_opens_for_a_manager(org, active_map, as_user):
    grant_map(org.vp)
    client = as_user(org.vp)
    rule = active_map.west.rules.get()
    pages = [url("alignment_create"), url("territory_create", active_map.alignment.pk),
             url("territory_edit", active_map.west.pk), url("rule_create", active_map.west.pk),
             url("rule_edit", rule.pk), url("violations"), url("exceptions"),
             url("territory", active_map.region.pk) + "?formula=prior_bookings&period_start="
             "2027-01-01&period_end=2027-12-31&growth=0.1"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert "style=" not in response.content.decode(), page  # the CSP forbids inline styles
    edit = client.get(url("rule_edit", rule.pk)).content.decode()
    assert 'value="94"' in edit  # the rule's condition is filled in
    region = client.get(pages[-1]).content.decode()
    assert "Proposed goal" in region and "Save these goals" in region


def test_territory_page_queries_do_not_grow_with_its_accounts(org, active_map, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from salesplan.territories.assignment import assign_account

    from ..factories import make_account

    client = as_user(org.vp)
    page = url("territory", active_map.west.pk)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page).status_code == 200
        return len(captured)

    client.get(page)  # warm the caches (company settings, territory scopes)
    few = queries()
    for i in range(12):
        account = make_account(org.west_rep, name=f"West {i}", postal_code=f"941{i:02d}",
                               latitude=Decimal("37.7") + i, longitude=Decimal("-122.4"))
        assign_account(account.pk)
    many = queries()
    assert many == few
    assert "West 11" in client.get(page).content.decode()


def test_manager_names_an_account_into_a_territory_and_removes_it(org, active_map, as_user):
    from salesplan.territories.models import NamedAccount

    from ..factories import make_account

    austin = make_account(org.west_rep, name="Dallas Co", state="TX", postal_code="75001")
    draft = services.create_alignment(by=org.admin, name="FY28", copy_from=active_map.alignment)
    west = draft.territories.get(name="West")
    client = as_user(org.west_manager)
    page = client.get(url("territory", west.pk)).content.decode()
    assert "Name the account" in page
    client.post(url("named_add", west.pk), {"account": austin.pk, "include": "1"})
    named = NamedAccount.objects.get(territory=west)
    assert named.account == austin and named.include
    assert "Dallas Co" in client.get(url("territory", west.pk)).content.decode()
    # A rep may not name accounts; nothing changes.
    assert as_user(org.west_rep).post(url("named_remove", named.pk),
                                      {"version": named.version}).status_code == 403
    assert NamedAccount.objects.filter(pk=named.pk).exists()
    client = as_user(org.west_manager)
    client.post(url("named_remove", named.pk), {"version": named.version})
    assert not NamedAccount.objects.filter(territory=west).exists()


def test_every_violation_shown_is_fixed_through_a_preview(org, active_map, as_user):
    client = as_user(org.admin)
    page = client.get(url("violations")).content.decode()
    assert "Fix every account shown (preview first)" in page
    bay = Account.objects.get(name="Bay Co")
    preview = client.post("/accounts/bulk/", {"ids": [bay.pk], "action": "fix_boundaries",
                                              "step": "preview"}).content.decode()
    assert "<dd data-will-change>1</dd>" in preview and str(org.west_rep) in preview
    bay.refresh_from_db()
    assert bay.owner == org.admin
    rep_page = as_user(org.west_rep).get(url("violations")).content.decode()
    assert "Fix every account shown" not in rep_page
