"""A period calculated through the database in one pass holds the exact engine's figures,
cent for cent, on a generated company; "explain this figure" shows the exact path's
trace; a changed deal reaches the statements that counted it."""

import random
from datetime import date
from decimal import Decimal as D

from salesplan.compensation import batch, calculation, selectors, services
from salesplan.compensation.models import CompStatement
from salesplan.customers.models import Account
from salesplan.pipeline import services as pipeline

from .conftest import won

DEFINITION = {
    "clawback_days": 90,
    "draw": {"amount": "1500", "recoverable": True},
    "commissions": [
        {"key": "bookings", "label": "Bookings", "quota": "40000", "method": "marginal",
         "gate": "0.2", "cap": "2500",
         "tiers": [{"from": "0", "rate": "0.02"}, {"from": "1", "rate": "0.05"}]},
        {"key": "all", "label": "All", "quota": "60000", "method": "retroactive",
         "tiers": [{"from": "0", "rate": "0.01"}, {"from": "1.2", "rate": "0.015"}]}],
    "bonuses": [{"key": "attain", "label": "Attainment", "target": "50000",
                 "steps": [{"at": "1", "amount": "700"}]}],
    "new_logo": {"amount": "150.55", "minimum_deal": "2000"},
    "spiffs": [{"key": "mid", "label": "Mid-month", "starts": "2026-01-10",
                "ends": "2026-01-20", "amount": "40", "rate": "0.004"}],
}


def generated_company(org, comp, rng: random.Random) -> list:
    reps = [org.west_rep, org.west_rep2, org.east_rep]
    plan = comp.plan
    plan.definition = DEFINITION
    plan.save()
    accounts = [Account.objects.create(name=f"Generated {i}", name_key=f"generated {i}",
                                       owner=reps[i % 3]) for i in range(12)]
    deals = []
    for i in range(45):
        owner = reps[i % 3]
        deal = won(owner, str(D(rng.randrange(50_000, 3_000_000)) / 100),
                   date(2026, 1, 1 + rng.randrange(31)),
                   currency=rng.choice(["USD", "USD", "EUR"]), account=accounts[i % 12])
        if i % 4 == 0:
            first = D(rng.randrange(1, 100)) / 100
            services.set_splits(deal, by=org.admin, splits=[
                (owner, first), (reps[(i + 1) % 3], 1 - first)])
        deals.append(deal)
    services.add_adjustment(by=org.admin, rep=org.west_rep, period=comp.january,
                            amount=D("-35.10"), reason="Returned sample")
    return deals


def exact_statement(rep, period):
    book = calculation.PeriodBook(period, {rep.pk})
    return calculation.compute(rep, period, book, calculation.plan_for(rep, period.ends))


def test_the_one_pass_calculation_holds_the_exact_figures(org, comp):
    generated_company(org, comp, random.Random(3))
    result = services.calculate_period(comp.january)
    assert result["statements"] == 3 and result["deals"] == 45
    for rep in (org.west_rep, org.west_rep2, org.east_rep):
        stored = CompStatement.objects.get(rep=rep, period=comp.january)
        exact = exact_statement(rep, comp.january)
        assert [(line.kind, line.component, line.amount, line.rule)
                for line in stored.lines.all()] == [
            (line.kind, line.component, line.amount, line.rule) for line in exact.lines]
        assert (stored.earned, stored.paid, stored.draw_balance) == (
            exact.earned, exact.paid, exact.draw_balance)
        for position, line in enumerate(exact.lines, start=1):
            shown = selectors.statement_line(rep, stored.pk, position)[1].trace
            assert shown == [t.as_dict() for t in line.trace]


def test_a_deal_moved_to_another_rep_leaves_the_old_statement(
    org, comp, django_capture_on_commit_callbacks
):
    deals = generated_company(org, comp, random.Random(4))
    services.calculate_period(comp.january)
    deal = next(d for d in deals if not d.comp_splits.exists() and d.owner == org.west_rep)
    assert (org.west_rep.pk, comp.january.pk) in batch.counted_by(deal.pk)
    before = CompStatement.objects.get(rep=org.west_rep, period=comp.january).bookings
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.update_opportunity(deal, by=org.admin, data={"owner": org.east_rep},
                                    expected_version=deal.version)
    assert batch.counted_by(deal.pk) == {(org.east_rep.pk, comp.january.pk)}
    for rep in (org.west_rep, org.east_rep):
        stored = CompStatement.objects.get(rep=rep, period=comp.january)
        assert stored.earned == exact_statement(rep, comp.january).earned
    after = CompStatement.objects.get(rep=org.west_rep, period=comp.january).bookings
    assert after < before


def test_the_period_reads_the_same_deals_in_runs_scanned_or_through_the_index(
    org, comp, monkeypatch
):
    from django.db import connection

    generated_company(org, comp, random.Random(5))
    later = won(org.west_rep, "1234.56", date(2026, 3, 3))  # another month, split
    services.set_splits(later, by=org.admin, splits=[(org.west_rep, D("0.5")),
                                                     (org.east_rep, D("0.5"))])
    monkeypatch.setattr(batch, "CHUNK", 7)  # many runs of ids, each read apart
    readings = []
    for scanned in (True, False) if connection.vendor == "sqlite" else (False,):
        monkeypatch.setattr(batch, "_scanned", lambda period, scanned=scanned: scanned)
        book = batch.PeriodColumns.read(comp.january)
        readings.append((book.won, book.credits))
    for won_deals, credits in readings:
        assert len(won_deals.id) == 45 and later.pk not in won_deals.id.tolist()
        assert list(won_deals.id) == sorted(won_deals.id)
        assert len(credits.deal) == 45 + 12  # a fourth of the deals split in two
        assert sorted(won_deals.cents.tolist()) == sorted(
            int(d.amount * 100) for d in won_deals_of(comp.january))
    first = readings[0]
    for won_deals, credits in readings[1:]:
        for name in ("id", "cents", "currency", "pipeline", "owner"):
            assert getattr(won_deals, name).tolist() == getattr(first[0], name).tolist()
        assert credits.rep.tolist() == first[1].rep.tolist()


def won_deals_of(period):
    from salesplan.pipeline.models import Opportunity

    return Opportunity.objects.filter(status="won", close_date__gte=period.starts,
                                      close_date__lte=period.ends)
