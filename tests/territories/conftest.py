"""A small territory map over the shared org: a US region with West (ZIP 94…) and East
(ZIP 10…) territories, worked by the west and east reps."""

from dataclasses import dataclass

import pytest
from django.core.cache import cache

from salesplan.core.registry import grant
from salesplan.territories import services
from salesplan.territories.assignment import run_full_assignment
from salesplan.territories.models import Alignment, Territory

from ..api.conftest import api_as  # noqa: F401 - the API caller fixture, shared
from ..factories import make_account


@pytest.fixture(autouse=True)
def fresh_cache():
    # Ids are reused between tests (rolled-back transactions); cached scopes must not leak.
    cache.clear()
    yield
    cache.clear()


@dataclass
class Map:
    alignment: Alignment
    region: Territory
    west: Territory
    east: Territory


def build_map(org, name="FY27") -> Map:
    alignment = services.create_alignment(by=org.admin, name=name)
    region = services.create_territory(alignment, by=org.admin,
                                       data={"name": "US", "type": "geographic"})
    west = services.create_territory(alignment, by=org.admin,
                                     data={"name": "West", "parent": region.pk})
    east = services.create_territory(alignment, by=org.admin,
                                     data={"name": "East", "parent": region.pk})
    services.create_rule(west, by=org.admin, conditions=[
        {"field": "postal_code", "op": "prefix", "values": ["94"]}])
    services.create_rule(east, by=org.admin, conditions=[
        {"field": "postal_code", "op": "range", "values": ["10000", "10299"]}])
    services.add_member(west, by=org.admin, user=org.west_rep)
    services.add_member(west, by=org.admin, user=org.west_rep2, role="overlay")
    services.add_member(east, by=org.admin, user=org.east_rep)
    services.add_member(region, by=org.admin, user=org.vp, role="manager")
    return Map(alignment, region, west, east)


def grant_map(user) -> None:
    """An admin's grant: this user may create, run, optimise and activate company-wide
    alignments (by default only admins may)."""
    for action in ("create", "change", "assign", "optimise", "activate"):
        grant(user, "alignment", action)


@pytest.fixture
def territory_map(org) -> Map:
    return build_map(org)


@pytest.fixture
def active_map(org, territory_map) -> Map:
    """The map activated, with one account in each territory owned by the admin."""
    make_account(org.admin, name="Bay Co", postal_code="94107")
    make_account(org.admin, name="Manhattan Co", postal_code="10013", state="NY")
    make_account(org.admin, name="Austin Co", postal_code="73301", state="TX")
    run_full_assignment(territory_map.alignment)
    services.activate_alignment(territory_map.alignment, by=org.admin)
    territory_map.alignment.refresh_from_db()
    return territory_map


@pytest.fixture(params=[("listed", 2_000), ("subquery", 2_000), ("subquery", 1)],
                ids=["listed", "subquery", "past-the-window"])
def search_form(request, monkeypatch):
    """For the global search and the pickers: territory accounts named to the database
    or as a subquery; matches read through the window of the first keys or, with a
    window of one, mostly past it."""
    from salesplan.search import selectors as search_selectors
    from salesplan.territories import selectors as territory_selectors

    scope, window = request.param
    if scope == "subquery":
        monkeypatch.setattr(territory_selectors, "LISTED_ACCOUNTS", 0)
    monkeypatch.setattr(search_selectors, "WALKED_RANGE", window)
    return request.param
