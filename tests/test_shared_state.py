"""State several server processes share: what one process changes, another sees.

Every cache that outlives a request is either in the shared cache (the database cache
table or Redis; here the test cache stands for it) under a version stamp a change
replaces, or held by a process for a few seconds at most. Another process is played
here by what it leaves in the shared cache, or by its own process memory."""

import time
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import transaction

from salesplan.core import clock
from salesplan.core.shared_versions import current_version, new_version
from salesplan.org import services_people
from salesplan.org.models import Company
from salesplan.org.selectors import team_tree_version, visible_owner_ids
from tests.factories import make_team, make_user

pytestmark = pytest.mark.django_db


def test_a_stamp_the_cache_dropped_is_never_used_again():
    seen = {current_version("things")}
    new_version("things")
    seen.add(current_version("things"))
    cache.delete("version:things")  # culled from a full cache table, or Redis restarted
    assert current_version("things") not in seen
    assert current_version("things") == current_version("things")


def test_a_team_change_reaches_a_manager_another_process_had_cached(
        org, django_capture_on_commit_callbacks):
    from salesplan.org.models import Role

    newcomer = make_user(Role.REP, make_team("Elsewhere"), username="newcomer")
    assert newcomer.pk not in visible_owner_ids(org.west_manager)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services_people.update_person(newcomer, by=org.admin, data={"team": org.west},
                                      expected_version=newcomer.version)
        # Before the commit another process reads the old team tree and caches it
        # under the stamp it finds (with Redis it already finds the new one).
        cache.set(f"visible-owners:{org.west_manager.pk}:{team_tree_version()}",
                  [org.west_manager.pk], 300)
    assert newcomer.pk in visible_owner_ids(org.west_manager)


def test_a_territory_member_added_in_one_process_is_seen_by_another(
        org, django_capture_on_commit_callbacks):
    from salesplan.territories import services as territory_services
    from salesplan.territories.models import Alignment, Territory
    from salesplan.territories.selectors import member_territory_ids, scope_version
    from tests.territories.conftest import grant_map

    alignment = Alignment.objects.create(name="FY", status=Alignment.Status.ACTIVE)
    west = Territory.objects.create(alignment=alignment, name="West")
    assert member_territory_ids(org.west_rep) == []
    grant_map(org.west_manager)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        territory_services.add_member(west, by=org.west_manager, user=org.west_rep)
        cache.set(f"territory-scope:{org.west_rep.pk}:{scope_version()}:"
                  f"{clock.company_today().isoformat()}", [], 300)
    assert member_territory_ids(org.west_rep) == [west.pk]


def test_a_time_zone_change_drops_the_zone_another_process_shared(
        django_capture_on_commit_callbacks):
    company = Company.current()
    company.time_zone = "Europe/Paris"
    company.save()
    assert clock.company_time_zone() == "Europe/Paris"
    # Another process changed the zone to Chicago and a third cached it; this process
    # still remembers Paris, and sets Paris back.
    Company.objects.filter(pk=company.pk).update(time_zone="America/Chicago")
    cache.set("company-time-zone", "America/Chicago", 60)
    with django_capture_on_commit_callbacks(execute=True):
        company.save()
    clock._local[:] = [0.0, None]  # a fourth process, remembering nothing
    assert clock.company_time_zone() == "Europe/Paris"


def test_a_paused_form_stops_taking_submissions_in_every_process_within_seconds(
        org, monkeypatch):
    from salesplan.marketing import capture
    from salesplan.marketing import services as marketing

    campaign = marketing.create_campaign(by=org.marketer, data={
        "name": "Webinar", "type": "webinar", "channel": "email", "status": "active",
        "budget": "100", "actual_cost": "0", "currency": "USD"})
    form = marketing.create_form(by=org.marketer, data={
        "name": "Sign-up", "campaign": campaign, "fields": [], "response": "registered"})
    assert capture.active_form(form.key) is not None
    other_process_memory = dict(capture._forms)
    form.is_active = False
    form.save()  # in this process the form is forgotten at once
    assert capture.active_form(form.key) is None
    capture._forms.update(other_process_memory)
    now = time.monotonic()
    monkeypatch.setattr(capture, "time", SimpleNamespace(
        time=time.time, monotonic=lambda: now + capture.FORM_SECONDS + 0.01))
    assert capture.active_form(form.key) is None
