"""Statements from credit columns held to the exact path, line for line and cent for cent,
on a generated book with every kind of component, splits and an inverse exchange rate."""

import random
from datetime import date, timedelta
from decimal import Decimal as D

import numpy as np

from salesplan.engines import compensation as comp
from salesplan.engines.compensation_columns import (
    EPOCH,
    ColumnTotals,
    CreditColumns,
    RepTotals,
    statement_from_totals,
)

# An inverse rate (1 ÷ 0.79) has 28 digits: the Decimal rule applies, not the integer one.
RATES = comp.Rates("USD", {"EUR": D("1.0851"), "GBP": D(1) / D("0.79")})
CURRENCIES = ["USD", "EUR", "GBP"]
CATEGORIES = [("", "new_business"), ("", "renewal"), ("software", "new_business")]
TIERS = (comp.Tier(D(0), D("0.02")), comp.Tier(D(1), D("0.05")), comp.Tier(D("1.5"), D("0.03")))


def the_plan() -> comp.Plan:
    return comp.Plan(
        "USD",
        commissions=(
            comp.Commission("new", "New", comp.RateTable(TIERS, "marginal", D("0.3"),
                                                         D(4_000)),
                            D(150_000), deal_types=frozenset({"new_business"})),
            comp.Commission("all", "All", comp.RateTable(TIERS, "retroactive"), D(300_000)),
            comp.Commission("sw", "Software", comp.RateTable(TIERS), D(50_000),
                            families=frozenset({"software"})),
        ),
        bonuses=(comp.AttainmentBonus("attain", "Attainment", D(200_000),
                                      ((D(1), D(1_000)), (D("1.2"), D(2_500)))),),
        new_logo=comp.NewLogoBonus("logo", "New logo", D("333.33"), D(5_000)),
        spiffs=(comp.Spiff("q1", "Q1", date(2026, 1, 10), date(2026, 1, 20), D(75),
                           D("0.005")),),
        mbos=(comp.Mbo("mbo", "Enablement", D(500)),),
        draw=comp.Draw(D(3_000)),
    )


def generated_book(n_deals: int, n_reps: int, seed: int):
    rng = random.Random(seed)
    deals, credits = {}, []
    for pk in range(1, n_deals + 1):
        family, deal_type = rng.choice(CATEGORIES)
        deals[pk] = comp.Deal(pk, D(rng.randrange(100, 9_000_000)) / 100,
                              rng.choice(CURRENCIES), date(2026, 1, 1)
                              + timedelta(days=rng.randrange(31)), family=family,
                              deal_type=deal_type, new_logo=rng.random() < 0.2)
        owner = rng.randrange(n_reps)
        if rng.random() < 0.3:
            first = D(rng.randrange(1, 9999)) / 10_000
            credits += [comp.Credit(pk, owner, first, "split"),
                        comp.Credit(pk, (owner + 1) % n_reps, 1 - first, "split")]
        else:
            credits.append(comp.Credit(pk, owner, D(1), "owner"))
    return deals, credits


def as_columns(deals, credits) -> CreditColumns:
    picked = [deals[c.deal_id] for c in credits]
    return CreditColumns(
        rep=np.array([c.rep for c in credits], dtype=np.int64),
        share=np.array([int(c.share * 1_000_000) for c in credits], dtype=np.int64),
        amount_cents=np.array([int(d.amount * 100) for d in picked], dtype=np.int64),
        currency=np.array([CURRENCIES.index(d.currency) for d in picked], dtype=np.int64),
        category=np.array([CATEGORIES.index((d.family, d.deal_type)) for d in picked],
                          dtype=np.int64),
        won_on=np.array([(d.won_on - EPOCH).days for d in picked], dtype=np.int64),
        new_logo=np.array([d.new_logo for d in picked], dtype=bool),
        currencies=CURRENCIES, categories=CATEGORIES)


def shown(statement: comp.Statement):
    lines = [(line.kind, line.component, line.label, line.amount, line.rule, line.measure)
             for line in statement.lines]
    return (lines, statement.earned, statement.paid, statement.draw_balance,
            statement.attainment, statement.next_tiers)


def test_statements_from_columns_match_the_exact_path_line_for_line():
    plan = the_plan()
    deals, credits = generated_book(3_000, 12, seed=5)
    totals = ColumnTotals(plan, RATES, as_columns(deals, credits)).totals()
    adjustments = (comp.Adjustment(D("12.345"), "Missed SPIFF"),)
    for rep in range(12):
        exact = comp.calculate_statement(rep, plan, credits, deals, RATES,
                                         draw_balance=D(250), adjustments=adjustments)
        fast = statement_from_totals(rep, plan, totals[rep], draw_balance=D(250),
                                     adjustments=adjustments)
        assert shown(fast) == shown(exact)
        assert all(not line.trace for line in fast.lines)


def test_a_rep_without_credit_gets_the_same_empty_statement():
    plan = the_plan()
    deals, credits = generated_book(50, 3, seed=1)
    totals = ColumnTotals(plan, RATES, as_columns(deals, credits)).totals()
    exact = comp.calculate_statement(99, plan, credits, deals, RATES)
    assert 99 not in totals
    assert shown(statement_from_totals(99, plan, RepTotals())) == shown(exact)
