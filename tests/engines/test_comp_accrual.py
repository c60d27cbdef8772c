"""The accrual engine: a month's pay from deals won and the open pipeline, expected at
amount × probability, low with committed deals only, high with every deal won."""

from datetime import date
from decimal import Decimal as D

from salesplan.engines import comp_accrual
from salesplan.engines.comp_accrual import OpenDeal
from salesplan.engines.compensation import (
    Commission,
    Deal,
    Draw,
    Mbo,
    Plan,
    Rates,
    RateTable,
    Tier,
)

USD = Rates("USD", {"EUR": D("1.085")})
NOV = date(2026, 11, 1)
# 2 % to a quota of 100,000, 5 % above it (marginal)
PLAN = Plan("USD", commissions=(Commission(
    "new", "New business", RateTable((Tier(D(0), D("0.02")), Tier(D(1), D("0.05")))),
    D(100_000)),), mbos=(Mbo("enablement", "Enablement", D(1000)),),
    draw=Draw(D(5000)))


def deal(pk, amount, currency="USD") -> Deal:
    return Deal(pk, D(amount), currency, date(2026, 11, 15))


def test_expected_low_and_high_of_a_month():
    won = [deal(1, "50000")]
    pipeline = [OpenDeal(deal(2, "40000"), D("0.5"), committed=True),
                OpenDeal(deal(3, "60000"), D("0.25"))]
    month = comp_accrual.month_accrual(7, PLAN, NOV, won, pipeline, USD)
    # expected: 50,000 + 40,000 × 0.5 + 60,000 × 0.25 = 85,000 → × 2 % = 1,700
    assert month.expected == D("1700.00")
    # low: 50,000 + 40,000 (committed) = 90,000 → 1,800
    assert month.low == D("1800.00")
    # high: 150,000 → 100,000 × 2 % + 50,000 × 5 % = 4,500
    assert month.high == D("4500.00")
    assert month.open_deals == 2


def test_a_deal_at_ninety_percent_counts_as_committed_and_currencies_convert():
    pipeline = [OpenDeal(deal(1, "10000", "EUR"), D("0.9"))]
    month = comp_accrual.month_accrual(7, PLAN, NOV, [], pipeline, USD)
    # 10,000 EUR × 1.085 = 10,850 USD; expected 9,765 × 2 % = 195.30; low = high = 217.00
    assert (month.expected, month.low, month.high) == (D("195.30"), D("217.00"), D("217.00"))


def test_months_without_deals_pay_nothing_and_mbo_and_draw_are_left_out():
    rows = comp_accrual.rep_accrual(7, PLAN, [NOV, date(2026, 12, 1)],
                                    {NOV: [deal(1, "1000")]}, {}, USD)
    # 1,000 × 2 % = 20; no draw top-up to 5,000, no MBO line
    assert [(r.month, r.expected, r.low, r.high) for r in rows] == [
        (NOV, D("20.00"), D("20.00"), D("20.00")),
        (date(2026, 12, 1), D(0), D(0), D(0))]
