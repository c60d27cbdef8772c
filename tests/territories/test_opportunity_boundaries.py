"""Opportunities respect territory boundaries the way accounts do."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from salesplan.core.clock import company_today
from salesplan.pipeline.models import Opportunity
from salesplan.pipeline.services import create_opportunity, update_opportunity
from salesplan.territories import services
from salesplan.territories.assignment import assign_account

from ..factories import make_account, make_opportunity


@pytest.fixture
def east_account_of_west_rep(org, active_map):
    """An account in East that the west rep still owns (and so can see)."""
    account = make_account(org.west_rep, name="Stray Co", postal_code="10020", state="NY")
    assign_account(account.pk)
    return account


def test_rep_cannot_create_an_opportunity_outside_their_territory(org, east_account_of_west_rep):
    with pytest.raises(PermissionDenied, match="belongs to East"):
        create_opportunity(by=org.west_rep, data={"name": "Stray deal",
                                                  "account": east_account_of_west_rep.pk})
    assert not Opportunity.objects.filter(name="Stray deal").exists()


def test_rep_cannot_edit_an_opportunity_outside_their_territory(org, east_account_of_west_rep):
    deal = make_opportunity(org.west_rep, east_account_of_west_rep, name="Old deal")
    with pytest.raises(PermissionDenied, match="boundary exception"):
        update_opportunity(deal, by=org.west_rep, data={"name": "Renamed"})
    deal.refresh_from_db()
    assert deal.name == "Old deal"


def test_approved_exception_lets_the_rep_work_the_deal(org, east_account_of_west_rep):
    exception = services.request_exception(
        by=org.west_rep, account=east_account_of_west_rep, reason="Long-standing contact",
        until=company_today() + timedelta(days=30))
    services.approve_exception(exception, by=org.admin)
    deal = create_opportunity(by=org.west_rep, data={"name": "Allowed deal",
                                                     "account": east_account_of_west_rep.pk})
    update_opportunity(deal, by=org.west_rep, data={"name": "Allowed deal, renamed"})
    assert Opportunity.objects.get(pk=deal.pk).name == "Allowed deal, renamed"


def test_rep_works_deals_inside_their_territory(org, active_map):
    bay = make_account(org.west_rep, name="Bay Two", postal_code="94110")
    assign_account(bay.pk)
    deal = create_opportunity(by=org.west_rep, data={"name": "Bay deal", "account": bay.pk})
    assert deal.owner == org.west_rep
