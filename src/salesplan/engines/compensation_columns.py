"""Statements for many reps at once from credit lines held as columns.

The figures are those of `compensation.calculate_statement` — the same roundings, done
in integer cents with numpy — without the per-deal trace: each line is built from the
rep's totals (bookings per component, shares and bases per bonus and contest) by the
same functions the exact path uses, and "explain this figure" runs the exact path for
the one rep when it is asked. A rate of more than six decimals (an inverse rate) is
applied in Decimal once per distinct amount, as the exact path does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal

import numpy as np

from .compensation import (
    RATE_SCALE,
    ZERO,
    Adjustment,
    Deal,
    PayoutLine,
    Plan,
    Rates,
    Statement,
    _next_tier,
    _round_div,
    bonus_total_line,
    commission_total_lines,
    finish_statement,
    new_logo_total_line,
    spiff_total_line,
)

EPOCH = date(1970, 1, 1)
SAFE = 2**62  # products below this fit in int64


@dataclass
class CreditColumns:
    """Credit lines with what compensation reads of their deal, one row per credit line."""

    rep: np.ndarray  # int64 rep id
    share: np.ndarray  # int64, millionths
    amount_cents: np.ndarray  # int64, in the deal's own currency
    currency: np.ndarray  # int64 index into `currencies`
    category: np.ndarray  # int64 index into `categories` (family, deal type)
    won_on: np.ndarray  # int64 days since 1970-01-01
    new_logo: np.ndarray  # bool: the account's first won deal
    currencies: list[str]
    categories: list[tuple[str, str]]
    margin_cents: np.ndarray | None = None  # int64 (0 where unknown)
    has_margin: np.ndarray | None = None  # bool

    def select(self, mask: np.ndarray) -> CreditColumns:
        """The credit lines where `mask` holds."""

        def pick(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[mask]

        return CreditColumns(
            self.rep[mask], self.share[mask], self.amount_cents[mask], self.currency[mask],
            self.category[mask], self.won_on[mask], self.new_logo[mask], self.currencies,
            self.categories, pick(self.margin_cents), pick(self.has_margin),
        )


@dataclass
class RepTotals:
    """What a rep's statement lines are computed from."""

    commissions: dict[str, Decimal] = field(default_factory=dict)  # bookings per component
    bonuses: dict[str, Decimal] = field(default_factory=dict)  # bookings per bonus
    new_logo: tuple[int, Decimal] = (0, ZERO)  # credit lines, shares
    spiffs: dict[str, tuple[int, Decimal, Decimal]] = field(default_factory=dict)


def _times(values: np.ndarray, units: np.ndarray | int) -> np.ndarray:
    """values × units / 10⁶, rounded half to even; exact past int64 via Python integers."""
    top = int(np.abs(values).max(initial=0)) * int(np.abs(units).max(initial=0))
    if top < SAFE:
        return _round_div(values * units, RATE_SCALE)
    wide = _round_div(values.astype(object) * np.asarray(units, dtype=object), RATE_SCALE)
    return wide.astype(np.int64)


def convert_cents(cents: np.ndarray, currency: np.ndarray, currencies: Sequence[str],
                  rates: Rates) -> np.ndarray:
    """Amounts in the rates' currency, rounded to cents as `Rates.convert` does."""
    out = np.zeros_like(cents)
    for index, code in enumerate(currencies):
        mask = currency == index
        if not mask.any():
            continue
        rate = rates.rate(code)
        scaled = rate * RATE_SCALE
        if scaled == scaled.to_integral_value():
            out[mask] = _times(cents[mask], int(scaled))
        else:
            values, inverse = np.unique(cents[mask], return_inverse=True)
            done = [int(rates.convert(Decimal(int(v)).scaleb(-2), code).scaleb(2))
                    for v in values]
            out[mask] = np.array(done, dtype=np.int64)[inverse]
    return out


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(values, return_inverse=True)` for an integer column: by a table over
    its range when that is small (ids, codes, shares), which takes one pass where the
    sort behind `np.unique` takes several over millions of credit lines."""
    if len(values) == 0:
        return np.unique(values, return_inverse=True)
    low, high = int(values.min()), int(values.max())
    if high - low > 4 * len(values) + 1_000_000:
        return np.unique(values, return_inverse=True)
    present = np.zeros(high - low + 1, dtype=bool)
    present[values - low] = True
    place = np.cumsum(present) - 1
    return (np.flatnonzero(present) + low).astype(values.dtype), place[values - low]


def _cents(value: int) -> Decimal:
    return Decimal(int(value)).scaleb(-2)


def _units(value: int) -> Decimal:
    return Decimal(int(value)).scaleb(-6)


class ColumnTotals:
    """Every rep's totals under one plan from their credit lines (all counting)."""

    def __init__(self, plan: Plan, rates: Rates, credits: CreditColumns) -> None:
        self.plan, self.credits = plan, credits
        self.reps, self._row = factorize(credits.rep)
        converted = convert_cents(credits.amount_cents, credits.currency, credits.currencies,
                                  rates)
        self.base = _times(converted, credits.share)
        self.margin = np.zeros_like(self.base)
        if credits.margin_cents is not None and credits.has_margin is not None:
            margin = convert_cents(credits.margin_cents, credits.currency, credits.currencies,
                                   rates)
            self.margin = np.where(credits.has_margin, _times(margin, credits.share), 0)

    def _sum(self, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.reps), dtype=np.int64)
        np.add.at(out, self._row[mask], values[mask])
        return out

    def _of_categories(self, test) -> np.ndarray:
        chosen = [test(Deal(0, ZERO, "", EPOCH, family=f, deal_type=t))
                  for f, t in self.credits.categories]
        return np.array(chosen, dtype=bool)[self.credits.category]

    def totals(self) -> dict[int, RepTotals]:
        """Per rep id, the totals of their statement's lines."""
        plan = self.plan
        out = {int(rep): RepTotals() for rep in self.reps}
        for component in plan.commissions:
            values = self.margin if component.on_margin else self.base
            sums = self._sum(values, self._of_categories(component.counts))
            for rep, total in zip(self.reps, sums, strict=True):
                out[int(rep)].commissions[component.key] = _cents(total)
        for bonus in plan.bonuses:
            sums = self._sum(self.base, self._of_categories(bonus.counts))
            for rep, total in zip(self.reps, sums, strict=True):
                out[int(rep)].bonuses[bonus.key] = _cents(total)
        if plan.new_logo is not None:
            least = self._least_base(plan.new_logo.minimum_deal)
            mask = self.credits.new_logo & (self.base >= least)
            self._count_into(out, mask, "new_logo")
        for spiff in plan.spiffs:
            self._count_into(out, self._in_contest(spiff), spiff.key)
        return out

    def _least_base(self, minimum: Decimal) -> np.ndarray:
        """Per credit line, the least base (cents) of a deal worth `minimum` × its share."""
        shares, inverse = factorize(self.credits.share)
        least = [int((minimum * _units(s) * 100).to_integral_value(ROUND_CEILING))
                 for s in shares]
        return np.array(least, dtype=np.int64)[inverse]

    def _in_contest(self, spiff) -> np.ndarray:
        by_kind = spiff.counts(Deal(0, ZERO, "", spiff.starts))  # products, campaigns
        days = self.credits.won_on
        starts, ends = (spiff.starts - EPOCH).days, (spiff.ends - EPOCH).days
        return (days >= starts) & (days <= ends) & by_kind

    def _count_into(self, out: dict[int, RepTotals], mask: np.ndarray, key: str) -> None:
        counts = np.bincount(self._row[mask], minlength=len(self.reps))
        shares = self._sum(self.credits.share, mask)
        bases = self._sum(self.base, mask)
        for i, rep in enumerate(self.reps):
            totals = out[int(rep)]
            if key == "new_logo":
                totals.new_logo = (int(counts[i]), _units(shares[i]))
            else:
                totals.spiffs[key] = (int(counts[i]), _units(shares[i]), _cents(bases[i]))


def statement_from_totals(
    rep: int,
    plan: Plan,
    totals: RepTotals,
    *,
    draw_balance: Decimal = ZERO,
    adjustments: Sequence[Adjustment] = (),
    clawbacks: Sequence[PayoutLine] = (),
    mbo_scores: Mapping[str, Decimal] | None = None,
) -> Statement:
    """The statement `calculate_statement` gives for these totals (lines without trace)."""
    lines: list[PayoutLine] = []
    attainment: dict[str, Decimal] = {}
    next_tiers = []
    for component in plan.commissions:
        bookings = totals.commissions.get(component.key, ZERO)
        lines.extend(commission_total_lines(component, bookings))
        attainment[component.key] = bookings / component.quota
        nxt = _next_tier(component, bookings)
        if nxt is not None:
            next_tiers.append(nxt)
    for bonus in plan.bonuses:
        line = bonus_total_line(bonus, totals.bonuses.get(bonus.key, ZERO))
        lines.append(line)
        attainment[bonus.key] = line.measure or ZERO
    optional = [new_logo_total_line(plan.new_logo, *totals.new_logo) if plan.new_logo else None]
    optional += [spiff_total_line(s, *totals.spiffs.get(s.key, (0, ZERO, ZERO)))
                 for s in plan.spiffs]
    lines.extend(line for line in optional if line is not None)
    return finish_statement(rep, plan, lines, attainment, next_tiers, draw_balance=draw_balance,
                            adjustments=adjustments, clawbacks=clawbacks, mbo_scores=mbo_scores)


