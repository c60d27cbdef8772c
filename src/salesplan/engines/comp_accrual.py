"""What a compensation plan is expected to pay in the months still to come, from the
deals already won in them and the open pipeline closing in them.

Each month is paid as a pay period of its own (quotas and tiers per period), through the
same `calculate_statement` the statements use, so tiers, gates, caps, family filters,
margin components and SPIFFs count exactly as they will. Three figures per month:

- expected: each open deal at its amount × its stage probability (the weighted pipeline);
- low: only the deals committed in the forecast (category commit, or a probability of
  90 % or more), at their full amount;
- high: every open deal at its full amount (all of them won).

Deals already won in a month count in full in all three. MBOs (scored later by the
manager) and draws (a guarantee, not an earning) are left out.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from .compensation import ONE, ZERO, Credit, Deal, Plan, Rates, calculate_statement, money

COMMITTED_PROBABILITY = Decimal("0.9")


@dataclass(frozen=True)
class OpenDeal:
    """An open deal of one rep as the accrual reads it (probability 0–1)."""

    deal: Deal
    probability: Decimal
    committed: bool = False

    @property
    def sure(self) -> bool:
        return self.committed or self.probability >= COMMITTED_PROBABILITY


@dataclass(frozen=True)
class MonthAccrual:
    """One month's expected pay with its low and high bounds (plan currency)."""

    month: date
    expected: Decimal
    low: Decimal
    high: Decimal
    open_deals: int


def month_of(day: date) -> date:
    return day.replace(day=1)


def _scaled(deal: Deal, factor: Decimal) -> Deal:
    margin = None if deal.margin is None else deal.margin * factor
    return replace(deal, amount=deal.amount * factor, margin=margin)


def payout(rep: int, plan: Plan, deals: Sequence[Deal], rates: Rates) -> Decimal:
    """What the plan pays the rep for these deals won in one period (no MBO, no draw)."""
    earning_plan = replace(plan, mbos=(), draw=None)
    credits = [Credit(d.id, rep, ONE, "accrual") for d in deals]
    statement = calculate_statement(rep, earning_plan, credits, {d.id: d for d in deals},
                                    rates)
    return statement.earned


def month_accrual(rep: int, plan: Plan, month: date, won: Sequence[Deal],
                  open_deals: Sequence[OpenDeal], rates: Rates) -> MonthAccrual:
    weighted = [_scaled(o.deal, o.probability) for o in open_deals]
    sure = [o.deal for o in open_deals if o.sure]
    every = [o.deal for o in open_deals]
    return MonthAccrual(month,
                        payout(rep, plan, [*won, *weighted], rates),
                        payout(rep, plan, [*won, *sure], rates),
                        payout(rep, plan, [*won, *every], rates),
                        len(open_deals))


def rep_accrual(rep: int, plan: Plan, months: Iterable[date],
                won: Mapping[date, Sequence[Deal]], open_deals: Mapping[date, Sequence[OpenDeal]],
                rates: Rates) -> list[MonthAccrual]:
    """The months' accruals of one rep (a month with nothing won or open pays nothing)."""
    rows = []
    for month in months:
        if not won.get(month) and not open_deals.get(month):
            nothing = money(ZERO)
            rows.append(MonthAccrual(month, nothing, nothing, nothing, 0))
            continue
        rows.append(month_accrual(rep, plan, month, won.get(month, ()),
                                  open_deals.get(month, ()), rates))
    return rows
