"""Shared fixtures: an organisation with two regions, managers, reps and the other roles."""

import os
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from salesplan.org.models import Role, Team, User

from .factories import PASSWORD, make_team, make_user

# No property test depends on the machine's speed: Hypothesis's per-example deadline and
# its "generation is slow" health check both fail on a loaded 2-core machine, so neither
# applies. CI explores the same examples on every run, so a red build is reproducible and
# a green one stays green; developers' runs keep exploring new examples.
_SPEED_FREE = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
hypothesis_settings.register_profile("speed_free", **_SPEED_FREE)
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True, **_SPEED_FREE)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "speed_free")


@pytest.fixture(autouse=True, scope="session")
def clock_at_hour():
    """SALESPLAN_TEST_CLOCK_AT=HH:MM runs the whole suite from that UTC time of today's
    date, the clock then ticking on. CI runs one database's suite at 02:30 UTC, when the
    date in UTC is a day ahead of the Americas' (the demo company is in Chicago), so a
    "today" taken in UTC anywhere fails whatever hour CI happens to start."""
    at = os.environ.get("SALESPLAN_TEST_CLOCK_AT")
    if not at:
        yield
        return
    import time_machine

    hour, minute = (int(part) for part in at.split(":"))
    now = datetime.now(UTC)
    with time_machine.travel(now.replace(hour=hour, minute=minute), tick=True):
        yield


# The schema fuzz runs only when asked for (CI's own step sets SALESPLAN_FUZZ=1): left
# out of collection otherwise, so no other run reports it as skipped.
collect_ignore = [] if os.environ.get("SALESPLAN_FUZZ") else ["api/test_schema_fuzz.py"]


@dataclass
class Org:
    """Two sibling teams under one region, so cross-team access can be tested."""

    region: Team
    west: Team
    east: Team
    admin: User
    vp: User  # manages the region, so sees both teams
    west_manager: User
    east_manager: User
    west_rep: User
    west_rep2: User
    east_rep: User
    marketer: User
    executive: User
    password: str = PASSWORD


@pytest.fixture(autouse=True)
def seeded_by_migrations(request):
    """Each database test starts with what the migrations seed (the default pipelines and
    approval matrix). A transactional test ends by flushing every table, which would
    leave the tests after it on the same worker without them, depending on the order."""
    uses_database = request.node.get_closest_marker("django_db") is not None or {
        "db", "transactional_db"} & set(request.fixturenames)
    if not uses_database:
        yield
        return
    from importlib import import_module

    from django.apps import apps

    request.getfixturevalue("django_db_setup")  # the test database, never the real one
    with request.getfixturevalue("django_db_blocker").unblock():
        import_module("salesplan.pipeline.migrations.0002_default_pipelines").create_pipelines(
            apps, None)
        import_module("salesplan.proposals.migrations.0002_default_approval_matrix"
                      ).create_rules(apps, None)
    yield


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: ids are reused between tests, so cached
    visibility or login-failure counts from one test must not leak into the next."""
    from django.core.cache import cache

    from salesplan.core.clock import forget_company_time_zone

    cache.clear()
    forget_company_time_zone()
    yield
    cache.clear()


@pytest.fixture
def org(db) -> Org:
    region = make_team("Region")
    west = make_team("West", parent=region)
    east = make_team("East", parent=region)
    admin = make_user(Role.ADMIN, region, username="admin")
    vp = make_user(Role.MANAGER, region, username="vp")
    west_manager = make_user(Role.MANAGER, west, username="westmgr")
    east_manager = make_user(Role.MANAGER, east, username="eastmgr")
    region.manager, west.manager, east.manager = vp, west_manager, east_manager
    for t in (region, west, east):
        t.save()
    return Org(
        region=region, west=west, east=east, admin=admin, vp=vp,
        west_manager=west_manager, east_manager=east_manager,
        west_rep=make_user(Role.REP, west, username="westrep"),
        west_rep2=make_user(Role.REP, west, username="westrep2"),
        east_rep=make_user(Role.REP, east, username="eastrep"),
        marketer=make_user(Role.MARKETING, region, username="marketer"),
        executive=make_user(Role.EXECUTIVE, region, username="exec"),
    )
