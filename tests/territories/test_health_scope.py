"""Customer health and renewals for a territory's members: the accounts they own and
their territories' accounts owned by others, nothing else, whether the territory's
accounts are named to the database as ids or as a subquery."""

from datetime import timedelta
from decimal import Decimal

import pytest

from salesplan.core.clock import company_today
from salesplan.customers.models import Account
from salesplan.health import selectors, services
from salesplan.org.models import Role
from salesplan.pipeline.models import Pipeline
from salesplan.territories import selectors as territory_selectors

from ..factories import make_account, make_opportunity, make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["listed", "subquery"])
def scope_form(request, monkeypatch):
    if request.param == "subquery":
        monkeypatch.setattr(territory_selectors, "LISTED_ACCOUNTS", 0)
    return request.param


@pytest.fixture
def quiet_accounts(org, active_map):
    """Accounts without any contact (all at risk once scored): two of the west rep's
    own, besides the admin's Bay Co (West), Manhattan Co (East) and Austin Co (no
    territory) of the map."""
    own = [make_account(org.west_rep, name=f"West own {i}") for i in range(2)]
    services.compute_health()
    return own


def _names(rows) -> set[str]:
    return {row.account.name for row in rows}


def test_visible_pks_name_the_accounts_visible_to_shows(org, active_map, scope_form):
    make_account(org.west_rep, name="West own")
    make_account(org.east_rep, name="East own")
    inactive = make_user(Role.REP, org.west, username="gone", is_active=False)
    outsider = make_user(Role.REP, make_team("Elsewhere"), username="outsider")
    for user in (org.west_rep, org.west_rep2, org.east_rep, org.vp, org.west_manager,
                 org.marketer, org.admin, org.executive, inactive, outsider):
        pks = Account.objects.visible_pks(user)
        seen = set(Account.objects.visible_to(user).values_list("name", flat=True))
        named = set(Account.objects.all().values_list("name", flat=True)) if pks is None \
            else set(Account.objects.filter(pk__in=pks).values_list("name", flat=True))
        assert named == seen, user.username
    assert Account.objects.visible_pks(org.executive) is None
    assert set(Account.objects.filter(pk__in=Account.objects.visible_pks(org.west_rep))
               .values_list("name", flat=True)) == {"West own", "Bay Co"}


def test_at_risk_list_and_count_hold_own_and_territory_accounts(org, quiet_accounts,
                                                                 scope_form):
    expected = {"West own 0", "West own 1", "Bay Co"}
    assert _names(selectors.at_risk_page(org.west_rep).items) == expected
    assert selectors.at_risk_count(org.west_rep) == (3, False)
    assert _names(selectors.at_risk_page(org.east_rep).items) == {"Manhattan Co"}
    assert selectors.at_risk_count(org.east_rep) == (1, False)
    # The West team's manager, no territory member: their team's own accounts only.
    assert selectors.at_risk_count(org.west_manager) == (2, False)
    assert selectors.at_risk_count(org.executive) == (5, False)


def test_at_risk_pages_follow_on_across_own_and_territory_accounts(org, quiet_accounts,
                                                                    scope_form):
    first = selectors.at_risk_page(org.west_rep, sort="name", limit=2)
    assert [r.account.name for r in first.items] == ["Bay Co", "West own 0"]
    second = selectors.at_risk_page(org.west_rep, sort="name", cursor=first.next_cursor,
                                    limit=2)
    assert [r.account.name for r in second.items] == ["West own 1"]
    assert second.next_cursor is None


def test_renewals_of_a_territory_account_owned_by_someone_else(org, active_map,
                                                               scope_form):
    today = company_today()
    bay = Account.objects.get(name="Bay Co")
    won_stage = Pipeline.objects.get(is_default=True).stages.get(kind="won").position
    year_ago = today - timedelta(days=365)
    theirs = make_opportunity(org.admin, bay, stage_position=won_stage,
                              amount=Decimal("9000"), close_date=year_ago + timedelta(days=12))
    mine = make_opportunity(org.west_rep, make_account(org.west_rep), stage_position=won_stage,
                            close_date=year_ago + timedelta(days=20))
    renewal = Pipeline.objects.get(kind="renewal")
    upcoming = make_opportunity(org.admin, bay, pipeline=renewal,
                                close_date=today + timedelta(days=3))
    rows, total = selectors.renewals(org.west_rep, today=today, days=30)
    assert total == 3
    assert [(r.opportunity.pk, r.kind) for r in rows] == [
        (upcoming.pk, "open_renewal"), (theirs.pk, "anniversary"), (mine.pk, "anniversary")]
    rows, total = selectors.renewals(org.west_rep, today=today, days=30, limit=2)
    assert total == 3 and [r.opportunity.pk for r in rows] == [upcoming.pk, theirs.pk]
    assert selectors.renewals(org.east_rep, today=today, days=30) == ([], 0)
    assert selectors.renewals(org.vp, today=today, days=30)[1] == 3


def test_a_managers_at_risk_list_in_every_order(org, active_map, quiet_accounts, scope_form):
    """A team's list is read along each order's index (the health row's, or the
    account's name): it holds the same accounts, and its pages follow on."""
    from salesplan.territories import services as territory_services

    territory_services.add_member(active_map.west, by=org.admin, user=org.west_manager,
                                  role="manager")
    expected = {"West own 0", "West own 1", "Bay Co"}
    assert selectors.at_risk_count(org.west_manager) == (3, False)
    for sort in selectors.AT_RISK_SORTS:
        first = selectors.at_risk_page(org.west_manager, sort=sort, limit=2)
        rest = selectors.at_risk_page(org.west_manager, sort=sort, limit=2,
                                      cursor=first.next_cursor)
        assert [len(first.items), len(rest.items)] == [2, 1], sort
        assert _names(first.items) | _names(rest.items) == expected, sort
