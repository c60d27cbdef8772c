"""Overlay and manager roll-up credit in the one-pass (column) calculation: held to
hand-computed figures, and the same statements as the exact path, line for line, on a
generated company with effective-dated overlay memberships and rules; overlay credit
follows the alignment in effect on each deal's close date.

Rounding: a credit line's base is the converted amount (rounded to cents) × the rule's
share, rounded half to even to cents; a commission is computed on the summed bases and
rounded once, half to even, to cents."""

import random
from datetime import UTC, date, datetime
from decimal import Decimal as D

from salesplan.compensation import batch, calculation, selectors, services
from salesplan.compensation.models import CompStatement
from salesplan.customers.models import Account
from salesplan.territories.models import (
    AccountTerritory,
    Alignment,
    MemberRole,
    Realignment,
    Territory,
    TerritoryMember,
    TerritoryType,
)

from .conftest import won
from .test_period_calculation import generated_company

MANAGER_PLAN = {"commissions": [{"key": "team", "label": "Team override", "quota": "1",
                                 "tiers": [{"from": "0", "rate": "0.01"}]}]}


def overlay_map(accounts) -> tuple[Territory, Territory]:
    """An active alignment: each account in a geographic territory and a named-account one."""
    alignment = Alignment.objects.create(name="FY26", status=Alignment.Status.ACTIVE)
    west = Territory.objects.create(alignment=alignment, name="West")
    named = Territory.objects.create(alignment=alignment, name="Named",
                                     type=TerritoryType.NAMED_ACCOUNT)
    for account in accounts:
        for territory in (west, named):
            AccountTerritory.objects.create(account=account, alignment=alignment,
                                            territory=territory, type=territory.type,
                                            reason="test")
    return west, named


def overlay(territory, user, starts: date, ends: date | None = None) -> None:
    TerritoryMember.objects.create(territory=territory, user=user, role=MemberRole.OVERLAY,
                                   start_date=starts, end_date=ends)


def rules_and_manager_plan(org, overlay_share: str, manager_from: date) -> None:
    services.create_credit_rule(by=org.admin, data={
        "name": "Overlay specialists", "kind": "overlay", "share": D(overlay_share),
        "effective_from": date(2026, 1, 1)})
    services.create_credit_rule(by=org.admin, data={
        "name": "Manager roll-up", "kind": "manager", "share": D(1),
        "effective_from": manager_from})
    plan = services.create_plan(by=org.admin, data={
        "name": "Manager plan", "role": "manager", "starts": date(2026, 1, 1),
        "ends": date(2026, 12, 31), "effective_from": date(2026, 1, 1), "currency": "USD",
        "definition": MANAGER_PLAN})
    services.activate_plan(plan, by=org.admin, expected_version=plan.version)


def exact_statement(rep, period):
    book = calculation.PeriodBook(period)
    return calculation.compute(rep, period, book, calculation.plan_for(rep, period.ends))


def stored_measure(value: D | None) -> D | None:
    """A line's measure as its column holds it (six decimals)."""
    return None if value is None else value.quantize(D("0.000001"))


def assert_same_as_exact(reps, period) -> None:
    for rep in reps:
        stored = CompStatement.objects.get(rep=rep, period=period)
        exact = exact_statement(rep, period)
        assert [(line.kind, line.component, line.amount, line.rule, line.measure)
                for line in stored.lines.all()] == [
            (line.kind, line.component, line.amount, line.rule, stored_measure(line.measure))
            for line in exact.lines], rep
        assert (stored.earned, stored.paid, stored.draw_balance) == (
            exact.earned, exact.paid, exact.draw_balance)


def test_overlay_and_roll_up_credit_by_effective_date_hand_computed(org, comp):
    account = Account.objects.create(name="Bay Co", name_key="bay co", owner=org.west_rep)
    west, named = overlay_map([account])
    # The specialist covers the account in both its territories until the 15th (credited
    # once); the east rep takes over from the 16th; the owner is never their own overlay.
    overlay(west, org.west_rep2, date(2026, 1, 1), date(2026, 1, 15))
    overlay(named, org.west_rep2, date(2025, 6, 1), date(2026, 1, 15))
    overlay(west, org.east_rep, date(2026, 1, 16))
    overlay(west, org.west_rep, date(2025, 1, 1))
    rules_and_manager_plan(org, "0.3333", manager_from=date(2026, 1, 15))
    first = won(org.west_rep, "40000", date(2026, 1, 10), account=account)
    second = won(org.west_rep, "30000", date(2026, 1, 20), currency="EUR", account=account)

    services.calculate_period(comp.january)

    def earned(rep) -> D:
        return CompStatement.objects.get(rep=rep, period=comp.january).earned

    # Owner: 40,000 + 30,000 EUR × 1.085 = 32,550.00 → 72,550.00 × 2 % = 1,451.00.
    assert earned(org.west_rep) == D("1451.00")
    # Specialist, first deal only: 40,000 × 0.3333 = 13,332.00 × 2 % = 266.64.
    assert earned(org.west_rep2) == D("266.64")
    # East rep, second deal only: 32,550.00 × 0.3333 = 10,848.915 → 10,848.92 (half to
    # even, cents) × 2 % = 216.9784 → 216.98.
    assert earned(org.east_rep) == D("216.98")
    # Every manager above the owner (the team's, then the region's): the roll-up rule
    # starts on the 15th, so the second deal only: 32,550.00 × 1 % = 325.50 each.
    assert earned(org.west_manager) == D("325.50")
    assert earned(org.vp) == D("325.50")
    theirs = CompStatement.objects.get(rep=org.east_rep, period=comp.january)
    trace = selectors.statement_line(org.east_rep, theirs.pk, 1)[1].trace
    assert [(t["deal_id"], t["rule"], t["base"]) for t in trace] == [
        (second.pk, "Overlay specialists", "10848.92")]
    assert batch.counted_by(first.pk) == {(org.west_rep.pk, comp.january.pk),
                                          (org.west_rep2.pk, comp.january.pk)}
    assert batch.counted_by(second.pk) == {
        (r.pk, comp.january.pk)
        for r in (org.west_rep, org.east_rep, org.west_manager, org.vp)}
    assert_same_as_exact([org.west_rep, org.west_rep2, org.east_rep, org.west_manager, org.vp],
                         comp.january)


def test_the_one_pass_calculation_credits_overlays_and_managers_as_the_exact_path(org, comp):
    deals = generated_company(org, comp, random.Random(7))
    accounts = sorted({d.account for d in deals}, key=lambda a: a.pk)
    west, named = overlay_map(accounts[::2])
    rng = random.Random(11)
    for rep in (org.west_rep, org.west_rep2, org.east_rep):
        for territory in (west, named):
            starts = date(2026, 1, 1 + rng.randrange(20))
            overlay(territory, rep, starts, rng.choice([None, date(2026, 1, 25)]))
    rules_and_manager_plan(org, "0.25", manager_from=date(2026, 1, 12))
    services.calculate_period(comp.january)
    reps = [org.west_rep, org.west_rep2, org.east_rep, org.west_manager, org.east_manager,
            org.vp]
    assert set(CompStatement.objects.filter(period=comp.january)
               .values_list("rep_id", flat=True)) == {r.pk for r in reps}
    assert_same_as_exact(reps, comp.january)
    book = calculation.PeriodBook(comp.january)
    for deal in deals:
        assert batch.counted_by(deal.pk) == {
            (c.rep, comp.january.pk) for c in book.credits if c.deal_id == deal.pk}


def test_overlay_credit_follows_the_alignment_in_effect_on_the_close_date(org, comp):
    account = Account.objects.create(name="Bay Co", name_key="bay co", owner=org.west_rep)
    before, _named = overlay_map([account])
    before.alignment.status = Alignment.Status.ARCHIVED
    before.alignment.save()
    after = Alignment.objects.create(name="FY26 H2", status=Alignment.Status.ACTIVE)
    moved = Territory.objects.create(alignment=after, name="Bay")
    AccountTerritory.objects.create(account=account, alignment=after, territory=moved,
                                    type=moved.type, reason="test")
    for alignment, day in ((before.alignment, 1), (after, 16)):  # activated on these days
        row = Realignment.objects.create(alignment=alignment)
        Realignment.objects.filter(pk=row.pk).update(
            changed_at=datetime(2026, 1, day, 12, tzinfo=UTC))
    overlay(before, org.west_rep2, date(2026, 1, 1))
    overlay(moved, org.east_rep, date(2026, 1, 1))
    rules_and_manager_plan(org, "0.5", manager_from=date(2027, 1, 1))
    first = won(org.west_rep, "10000", date(2026, 1, 10), account=account)
    second = won(org.west_rep, "30000", date(2026, 1, 20), account=account)
    services.calculate_period(comp.january)
    # 10,000 × 0.5 = 5,000.00 × 2 % = 100.00; 30,000 × 0.5 = 15,000.00 × 2 % = 300.00.
    assert CompStatement.objects.get(rep=org.west_rep2, period=comp.january
                                     ).earned == D("100.00")
    assert CompStatement.objects.get(rep=org.east_rep, period=comp.january
                                     ).earned == D("300.00")
    assert batch.counted_by(first.pk) == {(org.west_rep.pk, comp.january.pk),
                                          (org.west_rep2.pk, comp.january.pk)}
    assert batch.counted_by(second.pk) == {(org.west_rep.pk, comp.january.pk),
                                           (org.east_rep.pk, comp.january.pk)}
    assert_same_as_exact([org.west_rep, org.west_rep2, org.east_rep], comp.january)
