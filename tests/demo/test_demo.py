"""The demo company: builds quickly, is the same for the same seed, and its data holds
together the way the rest of the product expects (history, my day, geography)."""

from datetime import UTC, date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
import zipcodes
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from salesplan.activities.models import Activity
from salesplan.activities.selectors import my_day
from salesplan.customers.models import Account, Contact, Lead
from salesplan.demo.build import build_demo
from salesplan.org.models import Company, Role, User
from salesplan.pipeline.models import Opportunity, OpportunityChange, Stage, StageKind

pytestmark = pytest.mark.django_db


def _fingerprint() -> dict:
    return {
        "counts": [m.objects.count() for m in (Account, Contact, Lead, Opportunity,
                                               OpportunityChange, Activity, User)],
        "first_accounts": list(Account.objects.order_by("id").values_list(
            "name", "postal_code", "tier", "potential")[:20]),
        "first_deals": list(Opportunity.objects.order_by("id").values_list(
            "name", "amount", "close_date", "stage__name")[:20]),
        "reps": sorted(User.objects.filter(role=Role.REP).values_list("username", flat=True)),
    }


def test_command_builds_the_company_and_prints_the_logins():
    out = StringIO()
    call_command("demo", accounts=200, seed=3, stdout=out)
    text = out.getvalue()
    assert "vp" in text and "manager.west" in text and "password: demo" in text
    company = Company.current()
    assert company.name == "Northwind Industrial Supply"
    assert company.fiscal_year_start_month == 2 and company.time_zone == "America/Chicago"
    assert company.holidays.filter(name="Thanksgiving").count() >= 3
    assert Account.objects.count() == 200
    assert 30 <= User.objects.filter(role=Role.REP).count() <= 50
    vp = User.objects.get(username="vp")
    assert vp.check_password("demo")
    # The VP sees every deal; a regional manager only their region's.
    west = User.objects.get(username="manager.west")
    assert Opportunity.objects.visible_to(vp).count() == Opportunity.objects.count()
    assert 0 < Opportunity.objects.visible_to(west).count() < Opportunity.objects.count()


def test_refuses_a_non_empty_database_without_reset():
    call_command("demo", accounts=20, stdout=StringIO())
    with pytest.raises(CommandError, match="--reset"):
        call_command("demo", accounts=20, stdout=StringIO())
    call_command("demo", accounts=30, reset=True, stdout=StringIO())
    assert Account.objects.count() == 30


def test_same_seed_same_company():
    # Small chunks, so the build crosses several chunk (transaction) boundaries.
    build_demo(seed=11, accounts=150, chunk_accounts=40)
    first = _fingerprint()
    build_demo(seed=11, accounts=150, reset=True, chunk_accounts=40)
    assert _fingerprint() == first
    # Generating in a forked child process gives the very same company.
    build_demo(seed=11, accounts=150, reset=True, chunk_accounts=40, parallel=False)
    assert _fingerprint() == first
    build_demo(seed=12, accounts=150, reset=True)
    assert _fingerprint()["first_accounts"] != first["first_accounts"]


# Built in the evening in Chicago, when UTC's date is already the next day: a deal won
# now closes on the company's day, not UTC's.
@time_machine.travel(datetime(2026, 12, 7, 0, 30, tzinfo=UTC))
def test_every_deal_has_a_stage_history_ending_in_its_stage():
    build_demo(seed=2, accounts=200)
    today = timezone.now().astimezone(ZoneInfo("America/Chicago")).date()
    assert today == date(2026, 12, 6)
    stages = {s.pk: s for s in Stage.objects.all()}
    history: dict[int, list[OpportunityChange]] = {}
    for change in OpportunityChange.objects.filter(field="stage").order_by("changed_at", "id"):
        history.setdefault(change.opportunity_id, []).append(change)
    deals = list(Opportunity.objects.all())
    assert len(deals) > 600
    for deal in deals:
        steps = history[deal.pk]
        assert steps[0].from_stage_id is None
        for before, after in zip(steps, steps[1:], strict=False):
            assert after.from_stage_id == before.to_stage_id
            assert after.changed_at >= before.changed_at
        assert steps[-1].to_stage_id == deal.stage_id
        assert all(stages[s.to_stage_id].pipeline_id == deal.pipeline_id for s in steps)
        assert deal.status == stages[deal.stage_id].kind
        assert deal.probability == stages[deal.stage_id].probability
        if deal.status == StageKind.OPEN:
            assert deal.closed_at is None and deal.close_date > today
        else:
            assert deal.closed_at == steps[-1].changed_at and deal.close_date <= today
    won = sum(d.status == StageKind.WON for d in deals)
    closed = sum(d.status != StageKind.OPEN for d in deals)
    assert 0.15 < won / closed < 0.45
    # The history's close-date changes are slips; a deal won early through an accepted
    # quote is pulled in to the day it closed.
    slipped = OpportunityChange.objects.filter(field="close_date")
    assert slipped.exists()
    assert all(c.to_close_date > c.from_close_date or c.to_close_date == today
               and c.opportunity.status == StageKind.WON for c in slipped)


def test_every_rep_has_a_day_to_work():
    build_demo(seed=4, accounts=200)
    with timezone.override(ZoneInfo("America/Chicago")):
        for rep in User.objects.filter(role=Role.REP):
            assert Activity.objects.filter(owner=rep, done=True).exists() or \
                Account.objects.filter(owner=rep).count() < 3
            if not Account.objects.filter(owner=rep).exists():
                # In a 200-account demo a rep's ZIP territory can hold no account at all;
                # with nothing to work on there is no day to plan.
                continue
            day = my_day(rep)
            assert day["today"], f"{rep} has nothing due today"
            assert day["overdue"], f"{rep} has nothing overdue"
            assert all(a.account.owner_id == rep.pk for a in day["today"])


def test_accounts_sit_at_real_zip_codes_with_coordinates():
    build_demo(seed=6, accounts=200)
    real = {z["zip_code"]: z for z in zipcodes.list_all()}
    for account in Account.objects.all():
        place = real[account.postal_code]
        assert place["state"] == account.state and place["city"] == account.city
        assert place["zip_code_type"] != "MILITARY"
        assert abs(float(account.latitude) - float(place["lat"])) < 1e-4
        assert abs(float(account.longitude) - float(place["long"])) < 1e-4
        assert account.owner.team.parent.name.endswith("region")
        assert account.name_key == account.name.lower()[:200]
