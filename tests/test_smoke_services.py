from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from salesplan.core.errors import NotFound, StaleVersion
from salesplan.customers.models import Account
from salesplan.customers.services import convert_lead, create_account, update_account
from salesplan.pipeline.models import OpportunityChange
from salesplan.pipeline.services import move_opportunity, update_opportunity

from .factories import make_account, make_lead, make_opportunity


def test_rep_creates_account_owned_by_self(org):
    account = create_account(by=org.west_rep, data={"name": "Acme"})
    assert account.owner == org.west_rep
    assert Account.objects.visible_to(org.west_manager).filter(pk=account.pk).exists()
    assert not Account.objects.visible_to(org.east_manager).filter(pk=account.pk).exists()
    assert Account.objects.visible_to(org.vp).filter(pk=account.pk).exists()


def test_rep_cannot_edit_other_team_account(org):
    account = make_account(org.east_rep)
    with pytest.raises(NotFound):  # he does not even see it
        update_account(account, by=org.west_rep, data={"name": "Hijacked"})
    account.refresh_from_db()
    assert account.name != "Hijacked"


def test_stale_version_changes_nothing(org):
    account = make_account(org.west_rep, name="Before")
    update_account(account, by=org.west_rep, data={"name": "First"}, expected_version=1)
    with pytest.raises(StaleVersion):
        update_account(account, by=org.west_rep, data={"name": "Second"}, expected_version=1)
    account.refresh_from_db()
    assert (account.name, account.version) == ("First", 2)


def test_stage_move_and_amount_change_are_recorded(org):
    opp = make_opportunity(org.west_rep)
    stage = opp.pipeline.stages.get(position=2)
    move_opportunity(opp, stage, by=org.west_rep)
    opp.refresh_from_db()
    update_opportunity(opp, by=org.west_rep, data={"amount": Decimal("12500.50")})
    changes = list(OpportunityChange.objects.filter(opportunity=opp).order_by("id"))
    assert [c.field for c in changes] == ["stage", "amount"]
    assert changes[0].to_stage == stage and changes[0].changed_by == org.west_rep
    assert changes[1].from_amount == Decimal("10000.00")
    assert changes[1].to_amount == Decimal("12500.50")


def test_lost_needs_reason(org):
    opp = make_opportunity(org.west_rep)
    lost = opp.pipeline.stages.get(kind="lost")
    with pytest.raises(ValidationError) as err:
        move_opportunity(opp, lost, by=org.west_rep)
    assert "lost_reason" in err.value.message_dict


def test_convert_lead_creates_account_contact_and_deal(org):
    lead = make_lead(org.west_rep, company="Globex", website="https://globex.example")
    result = convert_lead(lead, by=org.west_rep)
    lead.refresh_from_db()
    assert lead.status == "converted"
    assert result.account.name == "Globex" and result.account.domain == "globex.example"
    assert result.contact.account == result.account
    assert result.opportunity.account == result.account
