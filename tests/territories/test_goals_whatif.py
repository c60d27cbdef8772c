"""Goals that add up, the what-if comparison and activation of a draft."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from salesplan.core.clock import company_today
from salesplan.customers.models import Account
from salesplan.territories import goals, services
from salesplan.territories.assignment import run_full_assignment
from salesplan.territories.models import Alignment, Realignment, TerritoryGoal
from salesplan.territories.selectors import what_if

from ..factories import make_account, make_opportunity


@given(total=st.decimals(min_value=0, max_value=10**9, places=2),
       weights=st.lists(st.decimals(min_value=0, max_value=10**6, places=3), min_size=1,
                        max_size=12))
def test_allocation_adds_up_exactly(total, weights):
    parts = goals.allocate(total, weights, "USD")
    assert sum(parts) == total and all(p >= 0 for p in parts)
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        if weight_sum:
            assert abs(part - total * weight / weight_sum) < Decimal("0.01")


def test_largest_remainder_goes_to_the_largest_fraction():
    assert goals.allocate(Decimal("100"), [Decimal(1)] * 3) == [
        Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert goals.allocate(Decimal("10"), [Decimal(1), Decimal(2)], "JPY") == [
        Decimal(3), Decimal(7)]


def test_goals_by_share_of_potential_with_override(org, active_map):
    Account.objects.filter(name="Bay Co").update(potential=Decimal("300000"))
    Account.objects.filter(name="Manhattan Co").update(potential=Decimal("100000"))
    start, end = date(2027, 1, 1), date(2027, 12, 31)
    saved = goals.set_goals(active_map.region, by=org.vp, period_start=start, period_end=end,
                            formula="share_of_potential", total=Decimal("1000000.01"))
    by_name = {g.territory.name: g for g in saved}
    assert by_name["West"].amount == Decimal("750000.01")
    assert by_name["East"].amount == Decimal("250000.00")
    assert by_name["US"].amount == by_name["West"].amount + by_name["East"].amount
    assert "75.0% of" in by_name["West"].explanation
    saved = goals.set_goals(active_map.region, by=org.vp, period_start=start, period_end=end,
                            formula="share_of_potential", total=Decimal("1000000"),
                            overrides={active_map.east.pk: (Decimal("400000"), "New hire")})
    by_name = {g.territory.name: g for g in saved}
    assert by_name["West"].amount == Decimal("600000.00")
    assert by_name["East"].override_reason == "New hire"
    assert TerritoryGoal.objects.count() == 3


def test_goals_that_do_not_add_up_are_refused(org, active_map):
    start, end = date(2027, 1, 1), date(2027, 12, 31)
    with pytest.raises(ValidationError) as caught:
        goals.set_goals(active_map.region, by=org.vp, period_start=start, period_end=end,
                        formula="share_of_potential", total=Decimal("100"),
                        overrides={active_map.east.pk: (Decimal("60"), "x"),
                                   active_map.west.pk: (Decimal("60"), "y")})
    assert "must add up exactly" in caught.value.message_dict["overrides"][0]
    with pytest.raises(ValidationError):
        goals.set_goals(active_map.region, by=org.vp, period_start=start, period_end=end,
                        formula="share_of_potential", total=Decimal("100"),
                        overrides={active_map.east.pk: (Decimal("60"), "")})
    assert not TerritoryGoal.objects.exists()


def test_prior_bookings_formula_and_size(org, active_map):
    bay = Account.objects.get(name="Bay Co")
    won = make_opportunity(org.west_rep, bay, amount=Decimal("5000"))
    from salesplan.pipeline.models import StageKind

    won.status = StageKind.WON
    won.closed_at = timezone.now() - timedelta(days=10)
    won.save()
    today = company_today()
    proposals = goals.propose_goals(active_map.region, period_start=today + timedelta(days=1),
                                    period_end=today + timedelta(days=90),
                                    formula="prior_bookings", growth=Decimal("0.10"))
    amounts = {p.territory.name: p.amount for p in proposals}
    assert amounts == {"East": Decimal("0.00"), "West": Decimal("5500.00")}
    size = goals.territory_size(active_map.west, window_start=today - timedelta(days=30),
                                window_end=today)
    assert size.accounts == 1 and size.bookings == Decimal("5000")
    assert size.members == 2 and size.capacity_calls == 2 * size.selling_days * 6


def test_what_if_lists_moves_and_balance_then_activation_records_it(org, active_map):
    make_account(org.admin, name="Oakland Co", postal_code="94601", potential=Decimal("1000"))
    run_full_assignment(active_map.alignment)
    draft = services.create_alignment(by=org.admin, name="FY28", copy_from=active_map.alignment)
    east = draft.territories.get(name="East")
    services.update_territory(east, by=org.admin, data={"priority": 1})
    services.create_rule(east, by=org.admin, conditions=[
        {"field": "postal_code", "op": "prefix", "values": ["946"]}])
    west = draft.territories.get(name="West")
    run_full_assignment(draft)
    oakland = Account.objects.get(name="Oakland Co")
    make_opportunity(org.admin, oakland, amount=Decimal("700"))
    _won(org.admin, oakland, "250", 30)
    _won(org.admin, oakland, "999", 400)  # over a year ago: not in the bookings column
    from ..factories import make_activity

    for days_ago in (10, 100, 500):  # the last is older than twelve months
        make_activity(org.west_rep, oakland, due_at=timezone.now() - timedelta(days=days_ago))
    make_activity(org.west_rep, Account.objects.get(name="Bay Co"))
    today = company_today()
    goals.set_goals(active_map.region, by=org.vp, period_start=today - timedelta(days=10),
                    period_end=today + timedelta(days=100), formula="share_of_potential",
                    total=Decimal("900"))
    result = what_if(draft)
    assert result.moved_accounts == 1
    move = result.moves[0]
    assert (move["from"], move["to"], move["accounts"]) == ("West", "East", 1)
    assert move["potential"] == Decimal("1000") and move["open_pipeline"] == Decimal("700")
    assert move["bookings"] == Decimal("250")
    balance = {row["territory"]: row for row in result.balance}
    assert (balance["West"]["accounts_before"], balance["West"]["accounts_after"]) == (2, 1)
    assert (balance["West"]["workload_before"], balance["West"]["workload_after"]) == (3, 1)
    assert (balance["East"]["workload_before"], balance["East"]["workload_after"]) == (0, 2)
    assert balance["US"]["goal_before"] == Decimal("900.00")
    assert balance["US"]["goal_after"] is None  # the draft has no goals of its own yet
    assert [s["account"] for s in result.sample] == ["Oakland Co"]
    assert west.pk != active_map.west.pk

    # Activation: one recorded step; ownership moves with the account if asked.
    change = services.activate_alignment(draft, by=org.admin, ownership="move")
    active_map.alignment.refresh_from_db()
    assert active_map.alignment.status == Alignment.Status.ARCHIVED
    draft.refresh_from_db()
    assert draft.status == Alignment.Status.ACTIVE and draft.activated_by == org.admin
    assert change.accounts_moved == 1 and change.previous == active_map.alignment
    oakland.refresh_from_db()
    assert oakland.owner == org.east_rep
    assert Realignment.objects.count() == 2
    assert set(Account.objects.visible_to(org.east_rep).values_list("name", flat=True)) == {
        "Manhattan Co", "Oakland Co"}
    with pytest.raises(ValidationError):
        services.activate_alignment(active_map.alignment, by=org.admin)


def _won(owner, account, amount: str, days_ago: int):
    from salesplan.pipeline.models import StageKind

    won = make_opportunity(owner, account, amount=Decimal(amount))
    won.status = StageKind.WON
    won.closed_at = timezone.now() - timedelta(days=days_ago)
    won.save()
    return won


def test_capacity_times_conversion_formula(org, active_map):
    from ..factories import make_activity

    bay, manhattan = Account.objects.get(name="Bay Co"), Account.objects.get(name="Manhattan Co")
    _won(org.west_rep, bay, "5000", 10)
    _won(org.east_rep, manhattan, "2000", 10)
    recently = timezone.now() - timedelta(days=5)
    for _ in range(2):
        make_activity(org.west_rep, bay, done=True, due_at=recently)
    for kind in ("call", "call", "meeting", "meeting"):
        make_activity(org.east_rep, manhattan, done=True, due_at=recently, kind=kind)
    make_activity(org.east_rep, manhattan, done=False, due_at=recently)  # not done: not counted
    today = company_today()
    start, end = today + timedelta(days=1), today + timedelta(days=90)
    days = goals.selling_days(start, end)
    proposals = goals.propose_goals(active_map.region, period_start=start, period_end=end,
                                    formula="capacity_conversion", calls_per_day=3)
    amounts = {p.territory.name: p.amount for p in proposals}
    # West: 2 members × days × 3 calls × 2,500 booked per call; East: 1 × days × 3 × 500.
    assert amounts == {"West": Decimal(2 * days * 3 * 2500), "East": Decimal(days * 3 * 500)}
    west = next(p for p in proposals if p.territory.name == "West")
    assert "2500.00 booked per call (2 calls and meetings" in west.explanation
    with pytest.raises(ValidationError) as caught:
        goals.propose_goals(active_map.region, period_start=start, period_end=end,
                            formula="capacity_conversion", calls_per_day=0)
    assert "calls_per_day" in caught.value.message_dict


def test_weighted_mix_of_potential_and_prior_bookings(org, active_map):
    Account.objects.filter(name="Bay Co").update(potential=Decimal("300000"))
    Account.objects.filter(name="Manhattan Co").update(potential=Decimal("100000"))
    _won(org.west_rep, Account.objects.get(name="Bay Co"), "5000", 10)
    today = company_today()
    start, end = today + timedelta(days=1), today + timedelta(days=90)
    # West: half of 75% (potential) + half of 100% (bookings) = 87.5% of the goal.
    saved = goals.set_goals(active_map.region, by=org.vp, period_start=start, period_end=end,
                            formula="weighted_mix", total=Decimal("1000"),
                            mix={"share_of_potential": Decimal(1),
                                 "prior_bookings": Decimal(1)})
    by_name = {g.territory.name: g.amount for g in saved}
    assert by_name == {"US": Decimal("1000.00"), "West": Decimal("875.00"),
                       "East": Decimal("125.00")}
    with pytest.raises(ValidationError) as caught:
        goals.propose_goals(active_map.region, period_start=start, period_end=end,
                            formula="weighted_mix", mix={"share_of_potential": Decimal(1)})
    assert "needs the parent's goal" in caught.value.message_dict["total"][0]
    with pytest.raises(ValidationError) as caught:
        goals.propose_goals(active_map.region, period_start=start, period_end=end,
                            formula="weighted_mix", total=Decimal(1), mix={"manual": 1})
    assert "cannot be mixed" in caught.value.message_dict["mix"][0]
    # Without share of potential the mix has a goal of its own: the weighted bookings.
    proposals = goals.propose_goals(active_map.region, period_start=start, period_end=end,
                                    formula="weighted_mix",
                                    mix={"prior_bookings": Decimal(3)}, growth=Decimal("0.2"))
    assert {p.territory.name: p.amount for p in proposals} == {
        "West": Decimal("6000.00"), "East": Decimal("0.00")}


def test_attainment_against_the_goal_and_the_calendar(org, active_map):
    today = company_today()
    start, end = today - timedelta(days=30), today + timedelta(days=60)
    saved = goals.set_goals(active_map.region, by=org.vp, period_start=start, period_end=end,
                            formula="share_of_potential", total=Decimal("8000"),
                            overrides={active_map.west.pk: (Decimal("5000"), "Big launch")})
    west = next(g for g in saved if g.territory_id == active_map.west.pk)
    assert west.amount == Decimal("5000.00") and west.override_reason == "Big launch"
    _won(org.west_rep, Account.objects.get(name="Bay Co"), "1250", 3)
    _won(org.west_rep, Account.objects.get(name="Bay Co"), "700", 45)  # before the period
    got = goals.attainment(west)
    assert got.actual == Decimal("1250") and got.percent == Decimal("25.0")
    elapsed, total = goals.selling_days(start, today), goals.selling_days(start, end)
    assert got.expected_percent == (Decimal(elapsed) / total * 100).quantize(Decimal("0.1"))
    region = next(g for g in saved if g.territory_id == active_map.region.pk)
    assert goals.attainment(region).actual == Decimal("1250")  # the region sums its children


def test_goal_overrides_from_the_territory_page(org, active_map, client):
    client.force_login(org.vp)
    today = company_today()
    form = {"period_start": today.isoformat(),
            "period_end": (today + timedelta(days=90)).isoformat(),
            "formula": "share_of_potential", "total": "1000", "growth": "0",
            f"override_{active_map.east.pk}": "600", f"reason_{active_map.east.pk}": "New hire"}
    page = client.get(f"/territories/{active_map.region.pk}/", form).content.decode()
    assert "set by hand" in page and 'value="New hire"' in page
    client.post(f"/territories/{active_map.region.pk}/goals/", form)
    amounts = dict(TerritoryGoal.objects.values_list("territory__name", "amount"))
    assert amounts == {"US": Decimal("1000.00"), "East": Decimal("600.00"),
                       "West": Decimal("400.00")}
    assert TerritoryGoal.objects.get(territory=active_map.east).override_reason == "New hire"
    TerritoryGoal.objects.all().delete()
    form[f"reason_{active_map.east.pk}"] = ""
    response = client.post(f"/territories/{active_map.region.pk}/goals/", form, follow=True)
    assert "Say why the goal of territory" in response.content.decode()
    assert not TerritoryGoal.objects.exists()
    form[f"override_{active_map.east.pk}"] = "lots"
    response = client.get(f"/territories/{active_map.region.pk}/", form)
    assert "The goal of East is not a number" in response.content.decode()
