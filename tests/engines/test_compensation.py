"""The compensation engine held to hand-computed statements (cents, half to even)."""

import random
from datetime import date
from decimal import Decimal as D

import numpy as np
import pytest

from salesplan.engines import compensation as comp
from salesplan.engines.compensation import (
    Adjustment,
    AttainmentBonus,
    Commission,
    Credit,
    CreditRule,
    Deal,
    Draw,
    NewLogoBonus,
    Period,
    Plan,
    Rates,
    RateTable,
    Spiff,
    Tier,
)

USD = Rates("USD", {"EUR": D("1.085"), "GBP": D("1.27")})
TIERS = (Tier(D(0), D("0.02")), Tier(D(1), D("0.05")), Tier(D("1.5"), D("0.03")))


def plan(method="marginal", *, gate=D(0), cap=None, **extra) -> Plan:
    table = RateTable(TIERS, method, gate, cap)
    return Plan("USD", commissions=(Commission("new", "New business", table, D(100_000)),), **extra)


def deal(pk, amount, won=date(2026, 1, 10), currency="USD", **kw) -> Deal:
    return Deal(pk, D(amount), currency, won, **kw)


def owned(rep, *deals):
    return [Credit(d.id, rep, D(1), "owner") for d in deals], {d.id: d for d in deals}


def test_marginal_tiers_pay_each_slice_at_its_rate_and_attribute_in_order_won():
    credits, deals = owned(7, deal(1, "60000", date(2026, 1, 5)), deal(2, "80000"))
    statement = comp.calculate_statement(7, plan(), credits, deals, USD)
    line = statement.lines[0]
    # 100,000 × 2 % + 40,000 × 5 %
    assert line.amount == D("4000.00")
    assert [(t.deal_id, comp.money(t.earned)) for t in line.trace] == [
        (1, D("1200.00")),  # 60,000 × 2 %
        (2, D("2800.00")),  # 40,000 × 2 % + 40,000 × 5 %
    ]
    assert statement.attainment["new"] == D("1.4")
    assert statement.earned == statement.paid == D("4000.00")


def test_retroactive_tiers_pay_the_reached_rate_on_everything():
    credits, deals = owned(7, deal(1, "60000"), deal(2, "80000"))
    statement = comp.calculate_statement(7, plan("retroactive"), credits, deals, USD)
    assert statement.lines[0].amount == D("7000.00")  # 140,000 × 5 %
    assert {t.rate for t in statement.lines[0].trace} == {D("0.05")}


@pytest.mark.parametrize("method", ["marginal", "retroactive"])
def test_a_decelerator_above_150_percent(method):
    credits, deals = owned(7, deal(1, "200000"))
    statement = comp.calculate_statement(7, plan(method), credits, deals, USD)
    # marginal: 2,000 + 2,500 + 50,000 × 3 % ; retroactive: 200,000 × 3 %
    assert statement.lines[0].amount == D("6000.00")


def test_nothing_is_paid_below_the_gate_and_everything_from_it():
    credits, deals = owned(7, deal(1, "49999.99"))
    below = comp.calculate_statement(7, plan(gate=D("0.5")), credits, deals, USD)
    assert below.lines[0].amount == D("0.00")
    credits, deals = owned(7, deal(1, "50000"))
    at = comp.calculate_statement(7, plan(gate=D("0.5")), credits, deals, USD)
    assert at.lines[0].amount == D("1000.00")


def test_a_cap_is_its_own_line_and_scales_what_each_deal_earned():
    credits, deals = owned(7, deal(1, "60000", date(2026, 1, 5)), deal(2, "80000"))
    statement = comp.calculate_statement(7, plan(cap=D(3000)), credits, deals, USD)
    assert [(line.kind, line.amount) for line in statement.lines] == [
        ("commission", D("4000.00")),
        ("cap", D("-1000.00")),
    ]
    assert statement.earned == D("3000.00")
    assert comp.paid_by_deal(statement.lines) == {1: D("900.00"), 2: D("2100.00")}


def test_splits_convert_then_share_each_rounded_half_to_even():
    flat = Plan(
        "USD", commissions=(Commission("all", "All", RateTable((Tier(D(0), D("0.10")),)), D(1)),)
    )
    eur = deal(1, "10000.00", currency="EUR")
    odd = deal(2, "361.65")
    deals = {1: eur, 2: odd}
    credits = [
        Credit(1, 7, D("0.6"), "split"),
        Credit(1, 8, D("0.4"), "split"),
        Credit(2, 7, D("0.5"), "split"),
        Credit(2, 8, D("0.5"), "split"),
    ]
    first = comp.calculate_statement(7, flat, credits, deals, USD)
    second = comp.calculate_statement(8, flat, credits, deals, USD)
    # 10,000 EUR × 1.085 = 10,850.00 USD; 60 % = 6,510.00, 40 % = 4,340.00
    # 361.65 × 50 % = 180.825 → 180.82 (half to even) for each
    assert [t.base for t in first.lines[0].trace] == [D("6510.00"), D("180.82")]
    assert [t.base for t in second.lines[0].trace] == [D("4340.00"), D("180.82")]
    assert first.lines[0].amount == D("669.08")  # 6,690.82 × 10 % = 669.082
    assert second.lines[0].amount == D("452.08")  # 4,520.82 × 10 % = 452.082


def test_currency_without_a_rate_names_the_currency():
    credits, deals = owned(7, deal(1, "100", currency="JPY"))
    with pytest.raises(comp.PlanError) as error:
        comp.calculate_statement(7, plan(), credits, deals, USD)
    assert error.value.field == "currency" and "JPY" in error.value.message


def test_crediting_rules_name_each_line():
    rules = [
        CreditRule("Specialist overlay", "overlay", D(1)),
        CreditRule("Manager roll-up", "manager", D("0.5")),
    ]
    lines = comp.credit_deal(1, 7, overlay_members=[9], managers=[3], rules=rules)
    assert [(c.rep, c.share, c.rule) for c in lines] == [
        (7, D(1), "owner"),
        (9, D(1), "Specialist overlay"),
        (3, D("0.5"), "Manager roll-up"),
    ]
    split = comp.credit_deal(1, 7, splits=[(7, D("0.7")), (8, D("0.3"))])
    assert [(c.rep, c.rule) for c in split] == [(7, "split"), (8, "split")]
    with pytest.raises(comp.PlanError) as error:
        comp.credit_deal(1, 7, splits=[(7, D("0.7")), (8, D("0.2"))])
    assert error.value.field == "splits"


def test_bonus_new_logo_spiff_and_adjustment():
    extra = dict(
        bonuses=(
            AttainmentBonus(
                "attain", "Attainment", D(100_000), ((D(1), D(2000)), (D("1.2"), D(3000)))
            ),
        ),
        new_logo=NewLogoBonus("logo", "New logo", D(500)),
        spiffs=(
            Spiff(
                "q1",
                "Q1 analytics",
                date(2026, 1, 1),
                date(2026, 1, 31),
                amount=D(250),
                products=frozenset({"ANL"}),
            ),
        ),
    )
    big = deal(1, "140000", new_logo=True, products=frozenset({"ANL"}))
    late = deal(2, "1000", date(2026, 2, 2), products=frozenset({"ANL"}))
    credits = [Credit(1, 7, D("0.6"), "split"), Credit(2, 7, D(1), "owner")]
    statement = comp.calculate_statement(
        7,
        plan(**extra),
        credits,
        {1: big, 2: late},
        USD,
        adjustments=[Adjustment(D("-50"), "Duplicate expense", "Ana")],
    )
    amounts = {line.kind: line.amount for line in statement.lines}
    # bookings 84,000 + 1,000 = 85,000: 85 % of target → no bonus
    assert amounts["bonus"] == D("0.00")
    assert amounts["new_logo"] == D("300.00")  # 500 × 60 %
    assert amounts["spiff"] == D("150.00")  # 250 × 60 %; deal 2 won after the SPIFF
    assert amounts["adjustment"] == D("-50.00")
    assert statement.earned == D("1700.00") + D("300") + D("150") - D("50")
    with pytest.raises(comp.PlanError) as error:
        comp.calculate_statement(
            7, plan(), credits, {1: big, 2: late}, USD, adjustments=[Adjustment(D(1), " ")]
        )
    assert error.value.field == "reason"


def test_next_tier_and_what_a_deal_would_pay():
    credits, deals = owned(7, deal(1, "80000"))
    statement = comp.calculate_statement(7, plan(), credits, deals, USD)
    (nxt,) = statement.next_tiers
    assert (nxt.next_start, nxt.next_rate, nxt.bookings_needed) == (D(1), D("0.05"), D(20000))
    component = plan().commissions[0]
    # 20,000 at 2 % + 10,000 at 5 %
    assert comp.deal_would_pay(component, D(80000), D(30000)) == D("900.00")


def test_clawback_across_a_closed_period_lands_in_the_next_open_one():
    flat = plan(clawback_days=90)
    jan, feb = (
        Period(date(2026, 1, 1), date(2026, 1, 31)),
        Period(date(2026, 2, 1), date(2026, 2, 28)),
    )
    won = deal(1, "50000", date(2026, 1, 10))
    credits, deals = owned(7, won)
    january = comp.calculate_statement(7, flat, credits, deals, USD)
    assert january.earned == D("1000.00")
    # January is closed; the deal is cancelled on 15 February (36 days after the win)
    cancelled = Deal(**{**won.__dict__, "cancelled_on": date(2026, 2, 15)})
    closed_jan = Period(jan.start, jan.end, closed=True)
    assert comp.landing_period([closed_jan, feb], cancelled.cancelled_on) == feb
    assert comp.landing_period([closed_jan, feb], date(2026, 1, 20)) == feb
    claw = comp.clawback_line(cancelled, comp.paid_by_deal(january.lines)[1], 90)
    february_deal = deal(2, "20000", date(2026, 2, 3))
    credits, deals = owned(7, february_deal)
    february = comp.calculate_statement(7, flat, credits, deals, USD, clawbacks=[claw])
    assert [(line.kind, line.amount) for line in february.lines] == [
        ("commission", D("400.00")),
        ("clawback", D("-1000.00")),
        ("draw", D("600.00")),
    ]
    assert (february.earned, february.paid, february.draw_balance) == (D("-600.00"), 0, D("600.00"))
    # and a recalculated January leaves the deal out (had it still been open)
    assert comp.calculate_statement(7, flat, *owned(7, cancelled), USD).earned == D("0.00")
    # cancelled after the window: it keeps counting
    kept = Deal(**{**won.__dict__, "cancelled_on": date(2026, 6, 1)})
    assert comp.calculate_statement(7, flat, *owned(7, kept), USD).earned == D("1000.00")


@pytest.mark.parametrize(
    ("recoverable", "balance_after", "second_paid"),
    [(True, D("600.00"), D("1400.00")), (False, D(0), D("2000.00"))],
)
def test_draws(recoverable, balance_after, second_paid):
    with_draw = plan(draw=Draw(D(1000), recoverable))
    first = comp.calculate_statement(7, with_draw, *owned(7, deal(1, "20000")), USD)
    assert (first.earned, first.paid, first.draw_balance) == (D("400.00"), D(1000), balance_after)
    second = comp.calculate_statement(
        7, with_draw, *owned(7, deal(2, "100000")), USD, draw_balance=first.draw_balance
    )
    assert (second.paid, second.draw_balance) == (second_paid, D(0))


def test_bad_tables_name_the_field():
    with pytest.raises(comp.PlanError) as error:
        RateTable((Tier(D("0.1"), D("0.02")),))
    assert error.value.field == "tiers"
    with pytest.raises(comp.PlanError) as error:
        Commission("x", "X", RateTable((Tier(D(0), D("0.02")),)), D(0))
    assert error.value.field == "quota"


def random_book(seed: int, n_deals: int, n_reps: int):
    rng = random.Random(seed)
    families = ["software", "services"]
    table = RateTable(TIERS, "marginal", D("0.2"), D(4000))
    the_plan = Plan(
        "USD",
        commissions=(
            Commission("sw", "Software", table, D(50_000), families=frozenset({"software"})),
            Commission("all", "All", RateTable(TIERS, "retroactive"), D(80_000)),
            Commission("margin", "Margin", RateTable(TIERS), D(30_000), on_margin=True),
        ),
        clawback_days=30,
    )
    currencies = ["USD", "EUR", "GBP"]
    deals, credits = {}, []
    for pk in range(n_deals):
        cancelled = date(2026, 1, 20) if rng.random() < 0.1 else None
        deals[pk] = Deal(
            pk,
            D(rng.randint(1, 5_000_000)) / 100,
            rng.choice(currencies),
            date(2026, 1, rng.randint(1, 28)),
            family=rng.choice(families),
            margin=D(rng.randint(0, 1_000_000)) / 100,
            cancelled_on=cancelled,
        )
        owner = rng.randrange(n_reps)
        if rng.random() < 0.3:
            other = (owner + 1) % n_reps
            share = D(rng.randint(1, 99)) / 100
            credits += [Credit(pk, owner, share, "split"), Credit(pk, other, 1 - share, "split")]
        else:
            credits.append(Credit(pk, owner, D(1), "owner"))
    return the_plan, deals, credits


def arrays(the_plan, deals, credits, n_reps):
    cats = sorted({(d.family, d.deal_type) for d in deals.values()})
    cur = ["USD", "EUR", "GBP"]
    ids = sorted(deals)
    deal_arrays = comp.DealArrays(
        amount_cents=np.array([int(deals[i].amount * 100) for i in ids], dtype=np.int64),
        margin_cents=np.array([int((deals[i].margin or 0) * 100) for i in ids], dtype=np.int64),
        currency=np.array([cur.index(deals[i].currency) for i in ids]),
        category=np.array([cats.index((deals[i].family, deals[i].deal_type)) for i in ids]),
        counts=np.array([comp.counting(deals[i], the_plan.clawback_days) for i in ids]),
        currencies=cur,
        categories=cats,
    )
    ordered = sorted(credits, key=lambda c: c.deal_id)
    credit_arrays = comp.CreditArrays(
        deal=np.array([c.deal_id for c in ordered]),
        rep=np.array([c.rep for c in ordered]),
        share=np.array([int(c.share * comp.RATE_SCALE) for c in ordered], dtype=np.int64),
        reps=list(range(n_reps)),
    )
    return deal_arrays, credit_arrays


def commission_payouts(the_plan, deals, credits, reps):
    out = {}
    for rep in reps:
        statement = comp.calculate_statement(rep, the_plan, credits, deals, USD)
        out[rep] = {}
        for line in statement.lines:
            if line.kind in ("commission", "cap"):
                out[rep][line.component] = out[rep].get(line.component, D(0)) + line.amount
    return out


def test_the_aggregated_path_agrees_with_the_exact_one_cent_for_cent():
    the_plan, deals, credits = random_book(3, 400, 12)
    book = comp.AggregatedBook(the_plan, USD, *arrays(the_plan, deals, credits, 12))
    assert book.payouts() == commission_payouts(the_plan, deals, credits, range(12))
    naive = comp.naive_bookings(credits, deals, USD, the_plan)
    cents = book.component_cents()
    for rep in range(12):
        for j, component in enumerate(the_plan.commissions):
            assert D(int(cents[rep, j])) / 100 == naive[rep][component.key]


def test_changing_one_deal_recalculates_only_its_reps_to_the_same_figures():
    the_plan, deals, credits = random_book(5, 300, 10)
    book = comp.AggregatedBook(the_plan, USD, *arrays(the_plan, deals, credits, 10))
    changed = book.change_deal(17, amount_cents=12_345_678)
    deals[17] = Deal(**{**deals[17].__dict__, "amount": D("123456.78")})
    holders = sorted({c.rep for c in credits if c.deal_id == 17})
    assert sorted(changed) == holders
    assert changed == commission_payouts(the_plan, deals, credits, holders)
    assert book.payouts() == commission_payouts(the_plan, deals, credits, range(10))
