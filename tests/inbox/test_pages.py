"""The inbox page, the header's badge and the delivery form; the data migration that
addressed existing approval steps to people."""

from importlib import import_module

import pytest
from django.apps import apps
from django.test import Client

from salesplan.inbox import services as inbox
from salesplan.inbox.models import InboxItem, InboxSettings, Kind
from salesplan.proposals import services as proposals
from salesplan.proposals.models import Approval

from ..proposals.conftest import stored_quote

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_lists_only_ones_own_items_by_kind_and_the_badge_polls(org):
    inbox.post(org.west_rep, Kind.LEAD, "lead:1", title="New lead: Lee One", url="/leads/1/")
    inbox.post(org.west_rep, Kind.MENTION, "comment:1", title="Ann mentioned you")
    inbox.post(org.east_rep, Kind.LEAD, "lead:2", title="New lead: Not yours")
    page = client_of(org.west_rep).get("/inbox/").content.decode()
    assert "New lead: Lee One" in page and "Ann mentioned you" in page
    assert "Not yours" not in page
    only_leads = client_of(org.west_rep).get("/inbox/?kind=lead").content.decode()
    assert "New lead: Lee One" in only_leads and "Ann mentioned you" not in only_leads
    badge = client_of(org.west_rep).get("/inbox/badge/").content.decode()
    assert 'hx-trigger="every 20s"' in badge and "data-inbox-count>2<" in badge


def test_dismissing_from_the_page_is_for_ones_own_items_only(org):
    mine = inbox.post(org.west_rep, Kind.MENTION, "comment:1", title="Ann mentioned you")
    assert mine is not None
    assert client_of(org.east_rep).post(f"/inbox/{mine.pk}/dismiss/").status_code == 404
    assert InboxItem.objects.get(pk=mine.pk).closed_at is None
    response = client_of(org.west_rep).post(f"/inbox/{mine.pk}/dismiss/")
    assert response.status_code == 302
    assert InboxItem.objects.get(pk=mine.pk).closed_how == "dismissed"


def test_the_delivery_form_carries_its_version(org):
    client = client_of(org.west_rep)
    version = inbox.settings_of(org.west_rep).version
    client.post("/inbox/preferences/", {"delivery_lead": "digest", "version": version})
    assert InboxSettings.objects.get(user=org.west_rep).delivery_of("lead") == "digest"
    stale = client.post("/inbox/preferences/", {"delivery_lead": "email", "version": version},
                        follow=True)
    assert "changed" in stale.content.decode().lower()
    assert InboxSettings.objects.get(user=org.west_rep).delivery_of("lead") == "digest"


def test_the_migration_addresses_waiting_steps_to_the_managers_above_the_owner(org):
    quote = stored_quote(org.west_rep, [("RT-100", "4", "100", "25", "60")])
    proposals.submit_quote(quote, by=org.west_rep)
    Approval.objects.update(assignee=None)  # as they were: a level, no person
    decided = stored_quote(org.west_rep2, [("RT-100", "4", "100", "15", "60")])
    proposals.submit_quote(decided, by=org.west_rep2)
    done = Approval.objects.get(quote_version__quote=decided)
    proposals.approve(done, by=org.west_manager)
    Approval.objects.filter(pk=done.pk).update(assignee=None)
    migration = import_module("salesplan.proposals.migrations.0006_address_existing_approvals")
    migration.address(apps, None)
    steps = Approval.objects.filter(quote_version__quote=quote).order_by("step")
    assert [a.assignee for a in steps] == [org.west_manager, org.vp]
    assert Approval.objects.get(pk=done.pk).assignee == org.west_manager
