"""A manager's list count, read in parts (their team's records, then the rest of their
territories' accounts' records), is the count of what they see."""

import pytest

from salesplan.core.listing import capped_count
from salesplan.org.models import Role
from salesplan.pipeline.models import Opportunity
from salesplan.territories.assignment import run_full_assignment

from ..factories import make_account, make_opportunity, make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(org, active_map):
    """The west rep's three deals and the east rep's two; a rep of another team owns a
    deal on a West account, one on an East account and one outside the map."""
    outsider = make_user(Role.REP, make_team("Elsewhere"), username="outsider")
    for _ in range(3):
        make_opportunity(org.west_rep)
    for _ in range(2):
        make_opportunity(org.east_rep)
    for postal_code in ("94107", "10013", "73301"):
        make_opportunity(outsider, make_account(outsider, postal_code=postal_code))
    run_full_assignment(active_map.alignment)
    return outsider


def test_a_managers_count_in_parts_is_the_count_of_what_they_see(org, deals):
    seen = Opportunity.objects.visible_to(org.vp)
    assert seen.disjoint_parts() is not None
    assert seen.order_by().count() == 7  # the team's five, two on the map's accounts
    for cap, expected in ((3, (3, True)), (5, (5, True)), (6, (6, True)), (7, (7, False)),
                          (50, (7, False))):
        assert capped_count(seen, cap) == expected, cap


def test_filters_after_the_visibility_rule_apply_to_every_part(org, deals):
    seen = Opportunity.objects.visible_to(org.vp)
    assert capped_count(seen.filter(owner=deals), 50) == (2, False)
    assert capped_count(seen.filter(owner=org.east_rep), 50) == (2, False)
    assert capped_count(seen.filter(account__postal_code="10013"), 50) == (1, False)


def test_a_reps_count_is_one_query(org, deals, django_assert_num_queries):
    seen = Opportunity.objects.visible_to(org.west_rep)
    assert seen.disjoint_parts() is None
    expected = seen.order_by().count()
    with django_assert_num_queries(1):
        assert capped_count(seen, 50) == (expected, False)


def test_the_managers_list_page_shows_the_count(client, org, deals):
    client.force_login(org.vp)
    assert client.get("/opportunities/").context["count"] == 7



def test_the_rest_of_a_managers_territories_is_read_from_their_accounts(
        org, deals, monkeypatch):
    """The part the team does not own holds exactly the other owners' deals on the map's
    accounts; with the territory accounts too many to list, PostgreSQL looks those deals
    up from the accounts (one array) rather than testing every deal's account."""
    from django.db import connection

    from salesplan.territories import selectors as territory_selectors

    listed = set(Opportunity.objects.visible_to(org.vp).disjoint_parts()[1])
    monkeypatch.setattr(territory_selectors, "LISTED_ACCOUNTS", 1)
    owned, rest = Opportunity.objects.visible_to(org.vp).disjoint_parts()
    assert set(rest) == listed
    assert {d.owner_id for d in rest} == {deals.pk}
    assert {d.account.postal_code for d in rest} == {"94107", "10013"}
    assert not set(owned) & set(rest)
    _, by_owner_rest = Opportunity.objects.visible_by_owner(org.vp)
    assert set(by_owner_rest[0]) == listed
    for part in (rest, by_owner_rest[0]):
        sql = str(part.query)
        assert ("= ANY(ARRAY(SELECT" in sql) == (connection.vendor == "postgresql"), sql
