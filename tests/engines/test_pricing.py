"""The pricing engine on its own: hand-computed examples and hypothesis properties."""

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesplan.engines import pricing as engine
from salesplan.engines.pricing import (
    Entry,
    Family,
    LineRequest,
    PricingContext,
    PricingErrors,
    Product,
    Rule,
    TaxTerms,
    Tier,
)

DAY = date(2026, 3, 1)
STEP_TIERS = (Tier(D(1), D(100)), Tier(D(11), D(90)))


def context(rules=(), *, list_price=D(120), floor=None, tax=None, cost=D(0), minor=2,
            max_discount=None, min_margin=None, account_ids=()) -> PricingContext:
    return PricingContext(
        currency="USD", minor_units=minor, on_date=DAY, price_book_id=1,
        products={1: Product(1, "A-1", "Alpha", 10, unit_cost=cost,
                             max_discount_pct=max_discount, min_margin_pct=min_margin)},
        entries={1: Entry(list_price, "Standard", floor_price=floor)},
        families={10: Family(10, "Hardware")}, rules=list(rules), tax=tax,
        account_ids=account_ids, account_names={7: "Acme"})


def one(ctx, quantity, discount=D(0)):
    return engine.price_quote(ctx, [LineRequest(1, D(quantity), D(discount))]).lines[0]


def tier_rule(kind, tiers=STEP_TIERS, **kwargs):
    return Rule(1, "Volume", kind, product_id=1, currency="USD", tiers=tuple(tiers), **kwargs)


@pytest.mark.parametrize(("quantity", "graduated", "all_units"), [
    (1, "100.00", "100.00"), (10, "1000.00", "1000.00"), (11, "1090.00", "990.00"),
    (12, "1180.00", "1080.00"), ("10.5", "1045.00", "945.00")])
def test_tier_boundaries_are_priced_exactly(quantity, graduated, all_units):
    assert one(context([tier_rule("graduated")]), quantity).line_net == D(graduated)
    assert one(context([tier_rule("all_units")]), quantity).line_net == D(all_units)


def test_block_pricing_is_flat_within_each_block_and_list_below_the_first():
    rule = tier_rule("block", (Tier(D(5), D(400)), Tier(D(11), D(700))))
    ctx = context([rule])
    assert one(ctx, 4).line_net == D("480.00")  # below the first block: 4 × list 120
    assert one(ctx, 5).line_net == D("400.00")
    assert one(ctx, 10).line_net == D("400.00")
    assert one(ctx, 11).line_net == D("700.00")
    assert one(ctx, 500).line_net == D("700.00")


def test_product_rule_beats_family_rule_and_parent_family_rules_reach_children():
    family_rule = Rule(2, "Family", "all_units", family_id=20, currency="USD",
                       tiers=(Tier(D(1), D(80)),))
    ctx = PricingContext(
        currency="USD", minor_units=2, on_date=DAY, price_book_id=1,
        products={1: Product(1, "A-1", "Alpha", 10), 2: Product(2, "B-1", "Beta", 10)},
        entries={1: Entry(D(120), "Std"), 2: Entry(D(120), "Std")},
        families={10: Family(10, "Routers", parent_id=20), 20: Family(20, "Hardware")},
        rules=[family_rule, tier_rule("graduated")])
    quote = engine.price_quote(ctx, [LineRequest(1, D(11)), LineRequest(2, D(11))])
    assert quote.lines[0].line_net == D("1090.00")   # its own graduated tiers
    assert quote.lines[1].line_net == D("880.00")    # the parent family's tiers


def test_contract_of_the_parent_account_applies_and_ignores_promotions():
    contract = Rule(3, "Group contract", "contract", product_id=1, account_id=7,
                    currency="USD", unit_price=D("95.5"))
    promo = Rule(4, "Spring", "promotion", discount_pct=D(20))
    line = one(context([contract, promo, tier_rule("graduated")], account_ids=(8, 7)), 3)
    assert line.line_net == D("286.50")
    assert "Acme (the parent account)" in line.explanation[1]
    assert line.rule_ids == (3,)


def test_best_promotion_applies_once_from_its_minimum_quantity():
    rules = [Rule(4, "Small", "promotion", discount_pct=D(5)),
             Rule(5, "Big buyer", "promotion", product_id=1, discount_pct=D(15),
                  min_quantity=D(10)),
             Rule(6, "Expired", "promotion", discount_pct=D(50), valid_to=date(2026, 2, 28))]
    assert one(context(rules), 9).line_net == D("1026.00")    # 9 × 120 × 0.95
    line = one(context(rules), 10)
    assert line.line_net == D("1020.00")                        # 10 × 120 × 0.85
    assert "1 other promotion not applied" in line.explanation[1]


def test_floor_and_margin_flags_with_their_reasons():
    ctx = context(floor=D(100), max_discount=D(10), cost=D(90), min_margin=D(15))
    line = one(ctx, 1, D("10"))   # 108: at the 108 floor (list less 10%), margin 16.67%
    assert (line.floor_price, line.below_floor, line.below_min_margin) == (
        D("108.0000"), False, False)
    line = one(ctx, 1, D("10.01"))
    assert line.below_floor and not line.below_min_margin
    line = one(ctx, 1, D("20"))  # 96: margin 6.25%
    assert line.below_floor and line.below_min_margin and line.margin_pct == D("6.25")
    assert "maximum discount of product A-1" in line.explanation[-2]


def test_bad_lines_are_named():
    with pytest.raises(PricingErrors) as err:
        engine.price_quote(context(), [LineRequest(1, D(1)), LineRequest(2, D(1)),
                                       LineRequest(1, D("0.00001")),
                                       LineRequest(1, D(1), D(-1))])
    assert err.value.errors == {
        "lines[1].product_id": ["Unknown product 2."],
        "lines[2].quantity": ["Quantity has at most 4 decimal places."],
        "lines[3].discount_pct": ["Discount must be between 0% and 100%."]}


# --- properties -----------------------------------------------------------------------------

prices = st.decimals(min_value=D("0.01"), max_value=D("99999"), places=4)
quantities = st.decimals(min_value=D("0.0001"), max_value=D("100000"), places=4)
percents = st.decimals(min_value=D(0), max_value=D(100), places=2)
tier_lists = st.lists(st.tuples(st.integers(1, 500), prices), min_size=1, max_size=5,
                      unique_by=lambda t: t[0]).map(
    lambda ts: tuple(Tier(D(q), p) for q, p in sorted(ts)))


# The machine may be shared: time is not what these properties are about.
@settings(deadline=None)
@given(lines=st.lists(st.tuples(st.sampled_from([1, 2, 3]), quantities, percents),
                      max_size=12),
       rate=st.decimals(min_value=D(0), max_value=D(30), places=3), gross=st.booleans(),
       tiers=tier_lists, kind=st.sampled_from(["graduated", "all_units", "block"]),
       minor=st.sampled_from([0, 2, 3]))
def test_totals_always_equal_the_sum_of_the_lines(lines, rate, gross, tiers, kind, minor):
    ctx = PricingContext(
        currency="USD", minor_units=minor, on_date=DAY, price_book_id=1,
        products={i: Product(i, f"P-{i}", f"P{i}", 10, unit_cost=D("3.3333")) for i in (1, 2, 3)},
        entries={1: Entry(D("19.99"), "B"), 2: Entry(D("0.3333"), "B"), 3: Entry(D(7), "B")},
        families={10: Family(10, "F")}, rules=[Rule(1, "T", kind, product_id=2, tiers=tiers)],
        tax=TaxTerms(rate, gross))
    quote = engine.price_quote(ctx, [LineRequest(p, q, d) for p, q, d in lines])
    unit = D(1).scaleb(-minor)
    assert quote.subtotal == sum((x.line_net for x in quote.lines), D(0))
    assert quote.tax_total == sum((x.tax_amount for x in quote.lines), D(0))
    assert quote.total == sum((x.line_total for x in quote.lines), D(0))
    assert quote.total == quote.subtotal + quote.tax_total
    for x in quote.lines:
        assert x.line_total == x.line_net + x.tax_amount
        for amount in (x.line_net, x.tax_amount, x.line_total, x.margin):
            assert amount == amount.quantize(unit)


# The machine may be shared: time is not what these properties are about.
@settings(deadline=None)
@given(tiers=tier_lists, quantity=st.integers(1, 600), list_price=prices)
def test_graduated_prices_each_unit_by_its_tier_and_all_units_by_the_last(tiers, quantity,
                                                                          list_price):
    def unit_price(k: int) -> D:
        chosen = list_price
        for tier in tiers:
            if k >= tier.min_quantity:
                chosen = tier.price
        return chosen

    graduated = one(context([tier_rule("graduated", tiers)], list_price=list_price), quantity)
    all_units = one(context([tier_rule("all_units", tiers)], list_price=list_price), quantity)
    by_unit = sum((unit_price(k) for k in range(1, quantity + 1)), D(0))
    assert graduated.line_net == engine.round_to(by_unit, 2)
    assert all_units.line_net == engine.round_to(quantity * unit_price(quantity), 2)
    if all(a.price >= b.price for a, b in zip(tiers, tiers[1:], strict=False)) and \
            tiers[0].min_quantity == 1:
        # Falling tier prices: all-units never charges more than graduated, and the two
        # agree exactly while the quantity stays within the first tier.
        assert all_units.line_net <= graduated.line_net
        if len(tiers) == 1 or quantity < tiers[1].min_quantity:
            assert all_units.line_net == graduated.line_net


# The machine may be shared: time is not what these properties are about.
@settings(deadline=None)
@given(list_price=prices, floor_share=st.decimals(min_value=D(0), max_value=D(1), places=3),
       max_discount=st.none() | percents, quantity=quantities, discount=percents,
       promo=st.none() | percents, minor=st.sampled_from([0, 2, 3]))
def test_no_line_under_its_floor_goes_unflagged(list_price, floor_share, max_discount,
                                                quantity, discount, promo, minor):
    floor = engine.round_to(list_price * floor_share, 4)
    rules = [Rule(9, "Promo", "promotion", discount_pct=promo)] if promo is not None else []
    line = one(context(rules, list_price=list_price, floor=floor, max_discount=max_discount,
                       minor=minor), quantity, discount)
    assert line.floor_price is not None and line.floor_price >= floor
    if line.net_unit_price < line.floor_price:
        assert line.below_floor
    if not line.below_floor:
        assert line.net_unit_price >= line.floor_price
        assert line.line_net >= engine.round_to(quantity * line.floor_price, minor)


MINOR = {"USD": 2, "EUR": 2, "JPY": 0, "KWD": 3, "INR": 2}


# The machine may be shared: time is not what these properties are about.
@settings(deadline=None)
@given(amount=st.decimals(min_value=D(0), max_value=D("1e9"), places=3),
       rate=st.decimals(min_value=D("0.0001"), max_value=D("10000"), places=6),
       pair=st.tuples(st.sampled_from(list(MINOR)), st.sampled_from(list(MINOR))),
       inverse=st.booleans())
def test_converting_and_back_never_drifts_beyond_one_minor_unit(amount, rate, pair, inverse):
    source, target = pair
    ms, mt = MINOR[source], MINOR[target]
    amount = engine.round_to(amount, ms)
    there = engine.convert(amount, rate=rate, inverse=inverse, minor_units=mt)
    back = engine.convert(there, rate=rate, inverse=not inverse, minor_units=ms)
    drift = abs(back - amount)
    source_unit, target_unit = D(1).scaleb(-ms), D(1).scaleb(-mt)
    # The target's minor unit, worth in the source currency:
    target_unit_in_source = target_unit * rate if inverse else target_unit / rate
    assert drift <= max(source_unit, target_unit_in_source)
    if target_unit_in_source <= source_unit:
        assert drift <= source_unit


def test_conversion_rounds_half_to_even():
    assert engine.convert(D("10.00"), rate=D("0.125"), minor_units=2) == D("1.25")
    assert engine.convert(D("1.00"), rate=D("0.125"), minor_units=2) == D("0.12")
    assert engine.convert(D("100"), rate=D("0.8"), inverse=True, minor_units=0) == D("125")


# The machine may be shared: time is not what these properties are about.
@settings(deadline=None)
@given(q=st.integers(11, 10_000))
def test_step_tiers_differ_exactly_by_ten_per_unit_past_ten(q):
    graduated = one(context([tier_rule("graduated")]), q).line_net
    all_units = one(context([tier_rule("all_units")]), q).line_net
    assert graduated == D(1000) + 90 * (q - 10)
    assert all_units == 90 * q
    assert graduated - all_units == D(100)
