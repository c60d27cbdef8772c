"""The compensation engine: turns won deals, the credit each rep holds on them and a
compensation plan into a statement per rep and period, every line explained.

Pure Python (and numpy for the aggregated path), no Django. The caller gathers the
deals, the credit lines (`credit_deal` builds them from the crediting rules), the
company's exchange rates into the plan's currency and the plan's components;
`calculate_statement` does the rest for one rep, `AggregatedBook` for everyone at once.

Crediting (`credit_deal`): the owner holds 100 % of a deal, unless the deal is split —
then each split holds its percentage (the splits must add up to 100 %); each territory
overlay member holds the overlay rule's share and each manager above the owner the
roll-up rule's share (overlay and roll-up credit is extra, not taken from the owner).
Every credit line names the rule that gave it.

Commission tiers. A rate table's tiers start at an attainment (credited bookings ÷ the
component's quota): with tiers 0 → 2 %, 100 % → 5 % and a quota of 100,000, bookings
of 150,000 pay, **marginally**, 2 % of the first 100,000 and 5 % of the next 50,000
(4,500); **retroactively**, the rate of the tier reached on all of it (7,500). A tier
with a higher rate than the one before is an accelerator, a lower one a decelerator.
Below the gate (threshold) nothing is paid; the cap limits the component's payout in
the period and is shown as its own negative line. Credits fill the tiers in the order
the deals were won (then by deal id), which is how a deal's share of the payout — its
line in "explain this figure" — is attributed.

Rounding (one rule, everywhere): half to even, to cents.
- A deal's amount is converted into the plan's currency with the company's rate
  (amount × rate) and rounded; a credit line's base is that converted amount × the
  credit share, rounded. Bookings, attainment and tiers use these rounded bases.
- A payout line is computed exactly from them and rounded once. Per-deal attributions
  in a trace are exact (shown rounded); the line, not their rounded sum, is paid.
- A statement's totals are sums of its rounded lines.

Clawback: a won deal cancelled within the plan's clawback window (days after the win)
stops counting. If the period that paid it is still open, recalculating simply leaves it
out; if that period is closed, a clawback line returning what the deal earned there
(its attribution, scaled down as its line was if a cap applied) lands in the first open
period on or after the cancellation (`landing_period`).

Draws: the plan's draw is the least paid in a period. When earnings fall short, the
difference is paid as a draw top-up; a recoverable draw adds it to the rep's balance,
which later earnings above the draw pay back; a non-recoverable one forgives it.
Negative earnings (clawbacks larger than the period's pay) are never paid out: the
negative part is always carried as balance to be recovered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

import numpy as np

CENT = Decimal("0.01")
ZERO = Decimal(0)
ONE = Decimal(1)
RATE_SCALE = 10**6  # exchange rates and shares are exact to six decimals on the fast path

Method = Literal["marginal", "retroactive"]


class PlanError(ValueError):
    """A plan, credit or input that cannot be calculated, naming the field at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def money(value: Decimal) -> Decimal:
    """Round to cents, half to even (the engine's one rounding rule)."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Deal:
    """A won deal as compensation sees it (amount in the deal's own currency)."""

    id: int
    amount: Decimal
    currency: str
    won_on: date
    family: str = ""
    deal_type: str = ""
    new_logo: bool = False
    products: frozenset[str] = frozenset()
    campaign: str = ""
    margin: Decimal | None = None
    cancelled_on: date | None = None


@dataclass(frozen=True)
class Credit:
    """A rep's share of one deal, naming the crediting rule that gave it."""

    deal_id: int
    rep: int
    share: Decimal
    rule: str


@dataclass(frozen=True)
class CreditRule:
    """A crediting rule: who besides the owner (or the splits) is credited, and how much."""

    name: str
    kind: Literal["owner", "overlay", "manager"]
    share: Decimal = ONE


def credit_deal(
    deal_id: int,
    owner: int,
    *,
    splits: Sequence[tuple[int, Decimal]] = (),
    overlay_members: Sequence[int] = (),
    managers: Sequence[int] = (),
    rules: Sequence[CreditRule] = (),
) -> list[Credit]:
    """The credit lines of one deal under the given rules (see the module's text)."""
    credits: list[Credit] = []
    if splits:
        total = sum((share for _, share in splits), ZERO)
        if total != ONE:
            raise PlanError("splits", f"split shares add up to {total * 100}%, not 100%")
        credits.extend(Credit(deal_id, rep, share, "split") for rep, share in splits)
    else:
        credits.append(Credit(deal_id, owner, ONE, "owner"))
    for rule in rules:
        if rule.share < 0:
            raise PlanError("share", f"rule {rule.name!r} has a negative share")
        if rule.kind == "overlay":
            credits.extend(Credit(deal_id, m, rule.share, rule.name) for m in overlay_members)
        elif rule.kind == "manager":
            credits.extend(Credit(deal_id, m, rule.share, rule.name) for m in managers)
    return credits


@dataclass(frozen=True)
class Rates:
    """The company's exchange rates into the plan's currency (1 unit of key = rate)."""

    currency: str
    rates: Mapping[str, Decimal] = field(default_factory=dict)

    def rate(self, currency: str) -> Decimal:
        if currency == self.currency:
            return ONE
        try:
            return self.rates[currency]
        except KeyError:
            raise PlanError(
                "currency", f"no exchange rate from {currency} to {self.currency}"
            ) from None

    def convert(self, amount: Decimal, currency: str) -> Decimal:
        return money(amount * self.rate(currency))


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Tier:
    """A tier of a rate table: from this attainment (1 = 100 %) on, this rate."""

    start: Decimal
    rate: Decimal


@dataclass(frozen=True)
class RateTable:
    """Tiers applied marginally or retroactively, with a gate and a cap."""

    tiers: tuple[Tier, ...]
    method: Method = "marginal"
    gate: Decimal = ZERO
    cap: Decimal | None = None

    def __post_init__(self) -> None:
        if not self.tiers or self.tiers[0].start != 0:
            raise PlanError("tiers", "the first tier must start at 0% attainment")
        starts = [t.start for t in self.tiers]
        if starts != sorted(set(starts)):
            raise PlanError("tiers", "tiers must start at increasing attainments")
        if any(t.rate < 0 for t in self.tiers):
            raise PlanError("tiers", "a tier's rate cannot be negative")
        if self.method not in ("marginal", "retroactive"):
            raise PlanError("method", "method is marginal or retroactive")
        if self.cap is not None and self.cap < 0:
            raise PlanError("cap", "a cap cannot be negative")

    def describe(self) -> str:
        tiers = ", ".join(f"from {_pct(t.start)} {_pct(t.rate)}" for t in self.tiers)
        words = f"{self.method} tiers: {tiers}"
        if self.gate:
            words += f"; nothing below {_pct(self.gate)}"
        if self.cap is not None:
            words += f"; capped at {money(self.cap)}"
        return words

    def tier_at(self, attainment: Decimal) -> int:
        index = 0
        for i, tier in enumerate(self.tiers):
            if attainment >= tier.start:
                index = i
        return index

    def bands(self, quota: Decimal) -> list[tuple[Decimal, Decimal | None, Decimal]]:
        """(from, to, rate) in booking amounts; the last band is open-ended."""
        out: list[tuple[Decimal, Decimal | None, Decimal]] = []
        for i, tier in enumerate(self.tiers):
            upper = self.tiers[i + 1].start * quota if i + 1 < len(self.tiers) else None
            out.append((tier.start * quota, upper, tier.rate))
        return out

    def uncapped(self, bookings: Decimal, quota: Decimal) -> Decimal:
        """The exact payout on these bookings before the cap."""
        if bookings <= 0 or (self.gate and bookings < self.gate * quota):
            return ZERO
        if self.method == "retroactive":
            return bookings * self.tiers[self.tier_at(bookings / quota)].rate
        pay = ZERO
        for low, high, rate in self.bands(quota):
            top = bookings if high is None else min(bookings, high)
            if top > low:
                pay += (top - low) * rate
        return pay

    def payout(self, bookings: Decimal, quota: Decimal) -> Decimal:
        pay = self.uncapped(bookings, quota)
        return pay if self.cap is None else min(pay, self.cap)


def _pct(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


@dataclass(frozen=True)
class Commission:
    """Commission on credited bookings (or margin), optionally of some families or deal types."""

    key: str
    label: str
    table: RateTable
    quota: Decimal
    families: frozenset[str] = frozenset()
    deal_types: frozenset[str] = frozenset()
    on_margin: bool = False

    def __post_init__(self) -> None:
        if self.quota <= 0:
            raise PlanError("quota", f"component {self.key!r} needs a quota above zero")

    def counts(self, deal: Deal) -> bool:
        return (not self.families or deal.family in self.families) and (
            not self.deal_types or deal.deal_type in self.deal_types
        )

    def measure(self, deal: Deal, share: Decimal, base: Decimal, rates: Rates) -> Decimal:
        """What the credit line counts for here: its base, or its share of the margin."""
        if not self.on_margin:
            return base
        if deal.margin is None:
            return ZERO
        return money(rates.convert(deal.margin, deal.currency) * share)


@dataclass(frozen=True)
class AttainmentBonus:
    """A bonus paid at the highest attainment step reached against the plan's target."""

    key: str
    label: str
    target: Decimal
    steps: tuple[tuple[Decimal, Decimal], ...]  # (attainment, bonus), increasing
    families: frozenset[str] = frozenset()

    def counts(self, deal: Deal) -> bool:
        return not self.families or deal.family in self.families


@dataclass(frozen=True)
class NewLogoBonus:
    """An amount per deal won from a new customer, times the rep's credit share."""

    key: str
    label: str
    amount: Decimal
    minimum_deal: Decimal = ZERO

    def counts(self, deal: Deal, share: Decimal, base: Decimal) -> bool:
        return deal.new_logo and base >= self.minimum_deal * share


@dataclass(frozen=True)
class Spiff:
    """A short contest: per deal with a product or of a campaign won in a date range."""

    key: str
    label: str
    starts: date
    ends: date
    amount: Decimal = ZERO
    rate: Decimal = ZERO
    products: frozenset[str] = frozenset()
    campaigns: frozenset[str] = frozenset()

    def counts(self, deal: Deal) -> bool:
        if not self.starts <= deal.won_on <= self.ends:
            return False
        by_product = bool(self.products & deal.products)
        by_campaign = bool(self.campaigns) and deal.campaign in self.campaigns
        return by_product or by_campaign or not (self.products or self.campaigns)


@dataclass(frozen=True)
class Mbo:
    """An objective the manager scores (0–1, or up to `max_score` for over-achievement)."""

    key: str
    label: str
    target: Decimal
    max_score: Decimal = ONE


@dataclass(frozen=True)
class Draw:
    """The least paid in a period; recoverable from later earnings or not."""

    amount: Decimal
    recoverable: bool = True


@dataclass(frozen=True)
class Plan:
    """A compensation plan's components for one period, in one currency."""

    currency: str
    commissions: tuple[Commission, ...] = ()
    bonuses: tuple[AttainmentBonus, ...] = ()
    new_logo: NewLogoBonus | None = None
    spiffs: tuple[Spiff, ...] = ()
    mbos: tuple[Mbo, ...] = ()
    draw: Draw | None = None
    clawback_days: int = 0


@dataclass(frozen=True)
class Adjustment:
    """A manual correction of a statement, with its reason."""

    amount: Decimal
    reason: str
    by: str = ""


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    closed: bool = False

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end


# --------------------------------------------------------------------------- output


@dataclass(frozen=True)
class TraceItem:
    """One credit line behind a payout line: the deal, the rule, the base and the rate."""

    deal_id: int
    rule: str
    share: Decimal
    base: Decimal
    rate: Decimal | None
    earned: Decimal  # exact

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "deal_id": self.deal_id,
            "rule": self.rule,
            "share": str(self.share),
            "base": str(self.base),
            "rate": None if self.rate is None else str(self.rate),
            "earned": str(money(self.earned)),
            "earned_exact": str(self.earned),
        }


@dataclass(frozen=True)
class PayoutLine:
    """One line of a statement with what it was computed from."""

    kind: str
    component: str
    label: str
    amount: Decimal
    rule: str
    trace: tuple[TraceItem, ...] = ()
    measure: Decimal | None = None  # bookings or attainment behind the line

    @property
    def deal_ids(self) -> list[int]:
        return sorted({t.deal_id for t in self.trace})


@dataclass(frozen=True)
class NextTier:
    component: str
    attainment: Decimal
    next_start: Decimal
    next_rate: Decimal
    bookings_needed: Decimal


@dataclass(frozen=True)
class Statement:
    """A rep's pay for a period: lines, totals, draw balance and where the tiers stand."""

    rep: int
    currency: str
    lines: tuple[PayoutLine, ...]
    earned: Decimal
    paid: Decimal
    draw_balance: Decimal
    attainment: Mapping[str, Decimal]
    next_tiers: tuple[NextTier, ...]

    def total(self, kind: str) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind == kind), ZERO)


EARNING_KINDS = ("commission", "cap", "bonus", "new_logo", "spiff", "mbo", "adjustment")


# --------------------------------------------------------------------------- exact path


def counting(deal: Deal, clawback_days: int) -> bool:
    """Whether a deal still counts: not cancelled within the clawback window."""
    if deal.cancelled_on is None:
        return True
    return (deal.cancelled_on - deal.won_on).days > clawback_days


def credit_bases(
    credits: Iterable[Credit], deals: Mapping[int, Deal], rates: Rates
) -> list[tuple[Credit, Deal, Decimal]]:
    """Each credit with its deal and its base in the plan's currency, in the order won."""
    out = []
    for credit in credits:
        deal = deals[credit.deal_id]
        out.append((credit, deal, money(rates.convert(deal.amount, deal.currency) * credit.share)))
    out.sort(key=lambda item: (item[1].won_on, item[1].id, item[0].rule))
    return out


def commission_lines(
    component: Commission, based: Sequence[tuple[Credit, Deal, Decimal]], rates: Rates
) -> tuple[list[PayoutLine], Decimal, NextTier | None]:
    """The component's line (and its cap line), the bookings counted and the next tier."""
    table, quota = component.table, component.quota
    items = [
        (c, d, component.measure(d, c.share, b, rates)) for c, d, b in based if component.counts(d)
    ]
    bookings = sum((m for _, _, m in items), ZERO)
    gated = bool(table.gate) and bookings < table.gate * quota
    trace: list[TraceItem] = []
    running = ZERO
    final_rate = table.tiers[table.tier_at(bookings / quota)].rate if bookings > 0 else ZERO
    for credit, deal, measure in items:
        if gated:
            earned, rate = ZERO, ZERO
        elif table.method == "retroactive":
            earned, rate = measure * final_rate, final_rate
        else:
            earned = table.uncapped(running + measure, quota) - table.uncapped(running, quota)
            rate = earned / measure if measure else ZERO
        running += measure
        trace.append(TraceItem(deal.id, credit.rule, credit.share, measure, rate, earned))
    return commission_total_lines(component, bookings, trace), bookings, _next_tier(
        component, bookings)


def commission_total_lines(
    component: Commission, bookings: Decimal, trace: Sequence[TraceItem] = ()
) -> list[PayoutLine]:
    """The component's line on these bookings, and its cap line when the cap bites."""
    table, quota = component.table, component.quota
    exact = table.uncapped(bookings, quota)
    lines = [
        PayoutLine(
            "commission",
            component.key,
            component.label,
            money(exact),
            table.describe() + f"; quota {money(quota)}",
            tuple(trace),
            bookings,
        )
    ]
    if table.cap is not None and exact > table.cap:
        lines.append(
            PayoutLine(
                "cap",
                component.key,
                f"{component.label}: cap",
                money(table.cap) - money(exact),
                f"capped at {money(table.cap)}",
                measure=bookings,
            )
        )
    return lines


def _next_tier(component: Commission, bookings: Decimal) -> NextTier | None:
    quota = component.quota
    attainment = bookings / quota if quota else ZERO
    for tier in component.table.tiers:
        if tier.start > attainment:
            return NextTier(
                component.key, attainment, tier.start, tier.rate, tier.start * quota - bookings
            )
    return None


def deal_would_pay(component: Commission, bookings: Decimal, deal_base: Decimal) -> Decimal:
    """What one more deal of this base would add to the component (rounded)."""
    table = component.table
    return money(
        table.payout(bookings + deal_base, component.quota)
        - table.payout(bookings, component.quota)
    )


def bonus_line(bonus: AttainmentBonus, based: Sequence[tuple[Credit, Deal, Decimal]]) -> PayoutLine:
    items = [(c, d, b) for c, d, b in based if bonus.counts(d)]
    trace = tuple(TraceItem(d.id, c.rule, c.share, b, None, ZERO) for c, d, b in items)
    return bonus_total_line(bonus, sum((b for _, _, b in items), ZERO), trace)


def bonus_total_line(
    bonus: AttainmentBonus, bookings: Decimal, trace: Sequence[TraceItem] = ()
) -> PayoutLine:
    """The bonus at the highest step these bookings reach."""
    attainment = bookings / bonus.target if bonus.target else ZERO
    amount = ZERO
    for step, pay in bonus.steps:
        if attainment >= step:
            amount = pay
    steps = ", ".join(f"{_pct(s)} → {money(p)}" for s, p in bonus.steps)
    rule = f"attainment of {money(bookings)} on a target of {money(bonus.target)}; {steps}"
    return PayoutLine(
        "bonus", bonus.key, bonus.label, money(amount), rule, tuple(trace), attainment
    )


def new_logo_line(
    bonus: NewLogoBonus, based: Sequence[tuple[Credit, Deal, Decimal]]
) -> PayoutLine | None:
    trace = tuple(
        TraceItem(d.id, c.rule, c.share, b, None, bonus.amount * c.share)
        for c, d, b in based
        if bonus.counts(d, c.share, b)
    )
    shares = sum((t.share for t in trace), ZERO)
    return new_logo_total_line(bonus, len(trace), shares, trace)


def new_logo_total_line(
    bonus: NewLogoBonus, count: int, shares: Decimal, trace: Sequence[TraceItem] = ()
) -> PayoutLine | None:
    """The bonus on `count` new-customer credit lines holding `shares` in all."""
    if not count:
        return None
    rule = f"{money(bonus.amount)} per new customer × credit share"
    amount = money(bonus.amount * shares)
    return PayoutLine("new_logo", bonus.key, bonus.label, amount, rule, tuple(trace))


def spiff_line(spiff: Spiff, based: Sequence[tuple[Credit, Deal, Decimal]]) -> PayoutLine | None:
    trace = tuple(
        TraceItem(d.id, c.rule, c.share, b, spiff.rate, spiff.amount * c.share + b * spiff.rate)
        for c, d, b in based
        if spiff.counts(d)
    )
    shares = sum((t.share for t in trace), ZERO)
    bases = sum((t.base for t in trace), ZERO)
    return spiff_total_line(spiff, len(trace), shares, bases, trace)


def spiff_total_line(
    spiff: Spiff, count: int, shares: Decimal, bases: Decimal, trace: Sequence[TraceItem] = ()
) -> PayoutLine | None:
    """The contest's pay on `count` credit lines holding `shares` and `bases` in all."""
    if not count:
        return None
    rule = f"deals won {spiff.starts} – {spiff.ends}: {money(spiff.amount)} each"
    if spiff.rate:
        rule += f" + {_pct(spiff.rate)} of the credited amount"
    amount = money(spiff.amount * shares + bases * spiff.rate)
    return PayoutLine("spiff", spiff.key, spiff.label, amount, rule, tuple(trace))


def clawback_line(deal: Deal, paid_exact: Decimal, clawback_days: int) -> PayoutLine:
    """The line returning what a cancelled deal earned in a closed period."""
    if deal.cancelled_on is None:
        raise PlanError("cancelled_on", f"deal {deal.id} was not cancelled")
    days = (deal.cancelled_on - deal.won_on).days
    rule = (
        f"deal {deal.id} won {deal.won_on}, cancelled {deal.cancelled_on} "
        f"({days} days; window {clawback_days} days)"
    )
    trace = (TraceItem(deal.id, "clawback", ONE, ZERO, None, -paid_exact),)
    return PayoutLine(
        "clawback", "clawback", f"Clawback: deal {deal.id}", -money(paid_exact), rule, trace
    )


def paid_by_deal(lines: Iterable[PayoutLine]) -> dict[int, Decimal]:
    """What each deal earned on a statement, exact, scaled down where a cap applied."""
    lines = list(lines)
    caps = {line.component: line.amount for line in lines if line.kind == "cap"}
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        if line.kind not in ("commission", "new_logo", "spiff"):
            continue
        factor = ONE
        if line.component in caps and line.amount:
            factor = (line.amount + caps[line.component]) / line.amount
        for item in line.trace:
            out[item.deal_id] += item.earned * factor
    return dict(out)


def landing_period(periods: Sequence[Period], day: date) -> Period | None:
    """The first open period ending on or after `day` (where a late correction lands)."""
    for period in sorted(periods, key=lambda p: p.start):
        if not period.closed and period.end >= day:
            return period
    return None


def apply_draw(
    earned: Decimal, draw: Draw | None, balance: Decimal
) -> tuple[list[PayoutLine], Decimal, Decimal]:
    """Draw top-up or recovery lines, what is paid and the balance carried forward."""
    amount = draw.amount if draw else ZERO
    recoverable = draw.recoverable if draw else True
    lines: list[PayoutLine] = []
    if earned >= amount:
        recovery = min(balance, earned - amount)
        if recovery:
            lines.append(
                PayoutLine(
                    "draw_recovery",
                    "draw",
                    "Draw recovered",
                    -recovery,
                    f"earnings above the draw of {amount} repay the balance of {balance}",
                )
            )
        return lines, earned - recovery, balance - recovery
    shortfall = amount - earned
    if shortfall:
        kind = "recoverable" if recoverable else "non-recoverable"
        label = "Draw top-up" if amount else "Negative earnings carried"
        lines.append(
            PayoutLine(
                "draw", "draw", label, shortfall, f"{kind} draw of {amount}; earnings {earned}"
            )
        )
    carried = shortfall if recoverable else max(-earned, ZERO)
    return lines, amount, balance + carried


def calculate_statement(
    rep: int,
    plan: Plan,
    credits: Iterable[Credit],
    deals: Mapping[int, Deal],
    rates: Rates,
    *,
    draw_balance: Decimal = ZERO,
    adjustments: Sequence[Adjustment] = (),
    clawbacks: Sequence[PayoutLine] = (),
    mbo_scores: Mapping[str, Decimal] | None = None,
) -> Statement:
    """One rep's statement for a period from their credit lines on the period's deals."""
    if rates.currency != plan.currency:
        raise PlanError("currency", "rates must convert into the plan's currency")
    mine = [c for c in credits if c.rep == rep and counting(deals[c.deal_id], plan.clawback_days)]
    based = credit_bases(mine, deals, rates)
    lines: list[PayoutLine] = []
    attainment: dict[str, Decimal] = {}
    next_tiers: list[NextTier] = []
    for component in plan.commissions:
        component_lines, bookings, nxt = commission_lines(component, based, rates)
        lines.extend(component_lines)
        attainment[component.key] = bookings / component.quota if component.quota else ZERO
        if nxt is not None:
            next_tiers.append(nxt)
    for bonus in plan.bonuses:
        line = bonus_line(bonus, based)
        lines.append(line)
        attainment[bonus.key] = line.measure or ZERO
    optional = [new_logo_line(plan.new_logo, based) if plan.new_logo else None]
    optional += [spiff_line(spiff, based) for spiff in plan.spiffs]
    lines.extend(line for line in optional if line is not None)
    return finish_statement(
        rep,
        plan,
        lines,
        attainment,
        next_tiers,
        draw_balance=draw_balance,
        adjustments=adjustments,
        clawbacks=clawbacks,
        mbo_scores=mbo_scores,
    )


def finish_statement(
    rep: int,
    plan: Plan,
    lines: list[PayoutLine],
    attainment: dict[str, Decimal],
    next_tiers: Sequence[NextTier],
    *,
    draw_balance: Decimal = ZERO,
    adjustments: Sequence[Adjustment] = (),
    clawbacks: Sequence[PayoutLine] = (),
    mbo_scores: Mapping[str, Decimal] | None = None,
) -> Statement:
    """The statement's last lines (objectives, adjustments, clawbacks, draw) and totals."""
    for mbo in plan.mbos:
        score = (mbo_scores or {}).get(mbo.key, ZERO)
        rule = f"score {_pct(score)} × target {money(mbo.target)}"
        lines.append(PayoutLine("mbo", mbo.key, mbo.label, money(mbo.target * score), rule))
    for adjustment in adjustments:
        if not adjustment.reason.strip():
            raise PlanError("reason", "an adjustment needs a reason")
        lines.append(
            PayoutLine(
                "adjustment",
                "adjustment",
                adjustment.reason,
                money(adjustment.amount),
                f"manual adjustment by {adjustment.by or 'an administrator'}",
            )
        )
    lines.extend(clawbacks)
    earned = sum((line.amount for line in lines), ZERO)
    draw_lines, paid, balance = apply_draw(earned, plan.draw, draw_balance)
    lines.extend(draw_lines)
    return Statement(
        rep, plan.currency, tuple(lines), earned, paid, balance, attainment, tuple(next_tiers)
    )


# --------------------------------------------------------------------------- naive baseline


def naive_bookings(
    credits: Iterable[Credit], deals: Mapping[int, Deal], rates: Rates, plan: Plan
) -> dict[int, dict[str, Decimal]]:
    """Per rep and commission component, credited bookings — one deal at a time in Decimal.

    The straightforward implementation the aggregated path is measured against (and
    checked to agree with)."""
    totals: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for credit in credits:
        deal = deals[credit.deal_id]
        if not counting(deal, plan.clawback_days):
            continue
        base = money(rates.convert(deal.amount, deal.currency) * credit.share)
        for component in plan.commissions:
            if component.counts(deal):
                totals[credit.rep][component.key] += component.measure(
                    deal, credit.share, base, rates
                )
    return totals


# --------------------------------------------------------------------------- aggregated path


def _round_div(values: np.ndarray, divisor: int) -> np.ndarray:
    """Integer division rounded half to even (values may be negative)."""
    quotient, remainder = np.divmod(values, divisor)
    twice = 2 * remainder
    up = (twice > divisor) | ((twice == divisor) & (quotient % 2 == 1))
    return quotient + up


def _scaled(value: Decimal, name: str) -> int:
    scaled = value * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise PlanError(name, f"{value} has more than six decimals")
    return int(scaled)


@dataclass
class DealArrays:
    """Deals as columns: amounts in cents of their own currency, codes for the rest."""

    amount_cents: np.ndarray  # int64
    margin_cents: np.ndarray  # int64 (0 when unknown)
    currency: np.ndarray  # int index into `currencies`
    category: np.ndarray  # int index into `categories` (family, deal type)
    counts: np.ndarray  # bool: not cancelled within the clawback window
    currencies: list[str]
    categories: list[tuple[str, str]]


@dataclass
class CreditArrays:
    """Credit lines as columns, sorted by deal (so one deal's credits are one slice)."""

    deal: np.ndarray  # int index into the deal arrays
    rep: np.ndarray  # int index into `reps`
    share: np.ndarray  # int64, millionths
    reps: list[int]


class AggregatedBook:
    """Everyone's credited bookings per component, summed in integer cents with numpy.

    It gives the same figures as the exact path (the same roundings, done in integers)
    and keeps its sums, so a changed deal moves only its own credits and only the reps
    holding them are recalculated."""

    def __init__(self, plan: Plan, rates: Rates, deals: DealArrays, credits: CreditArrays):
        self.plan, self.rates, self.deals, self.credits = plan, rates, deals, credits
        self._rate_units = np.array(
            [_scaled(rates.rate(c), "rate") for c in deals.currencies], dtype=np.int64
        )
        self._matrix = np.zeros((len(deals.categories), len(plan.commissions)), dtype=np.int64)
        for col, component in enumerate(plan.commissions):
            for row, (family, deal_type) in enumerate(deals.categories):
                probe = Deal(0, ZERO, "", date.min, family=family, deal_type=deal_type)
                self._matrix[row, col] = 1 if component.counts(probe) else 0
        self._margin_cols = np.array([c.on_margin for c in plan.commissions], dtype=bool)
        self._starts = np.searchsorted(credits.deal, np.arange(len(deals.amount_cents) + 1))
        n_reps, n_cat = len(credits.reps), len(deals.categories)
        self.by_amount = self._sum(np.arange(len(credits.deal)), n_reps * n_cat, "amount")
        self.by_margin = self._sum(np.arange(len(credits.deal)), n_reps * n_cat, "margin")

    def _bases(self, idx: np.ndarray, column: str) -> np.ndarray:
        deals, credits = self.deals, self.credits
        deal = credits.deal[idx]
        cents = deals.amount_cents if column == "amount" else deals.margin_cents
        converted = _round_div(cents[deal] * self._rate_units[deals.currency[deal]], RATE_SCALE)
        based = _round_div(converted * credits.share[idx], RATE_SCALE)
        return np.where(deals.counts[deal], based, 0)

    def _keys(self, idx: np.ndarray) -> np.ndarray:
        n_cat = len(self.deals.categories)
        return (
            self.credits.rep[idx].astype(np.int64) * n_cat
            + self.deals.category[self.credits.deal[idx]]
        )

    def _sum(self, idx: np.ndarray, size: int, column: str) -> np.ndarray:
        bases = self._bases(idx, column)
        if np.abs(bases).sum() >= 2**53:
            raise PlanError("amount", "bookings too large to sum exactly")
        sums = np.bincount(self._keys(idx), weights=bases, minlength=size)
        return np.rint(sums).astype(np.int64).reshape(len(self.credits.reps), -1)

    def component_cents(self) -> np.ndarray:
        """Per rep × commission component, credited bookings in cents."""
        amount = self.by_amount @ self._matrix
        margin = self.by_margin @ self._matrix
        return np.where(self._margin_cols, margin, amount)

    def payouts(self, reps: Iterable[int] | None = None) -> dict[int, dict[str, Decimal]]:
        """Per rep, each commission component's payout (cap applied), rounded."""
        cents = self.component_cents()
        rows = range(len(self.credits.reps)) if reps is None else reps
        out: dict[int, dict[str, Decimal]] = {}
        for row in rows:
            out[self.credits.reps[row]] = {
                c.key: money(c.table.payout(Decimal(int(cents[row, j])) / 100, c.quota))
                for j, c in enumerate(self.plan.commissions)
            }
        return out

    def change_deal(
        self, deal_index: int, *, amount_cents: int | None = None, counts: bool | None = None
    ) -> dict[int, dict[str, Decimal]]:
        """Move one deal's credits to its new amount or status; recalculate its reps only."""
        idx = np.arange(self._starts[deal_index], self._starts[deal_index + 1])
        size = self.by_amount.size
        flat_amount, flat_margin = self.by_amount.reshape(-1), self.by_margin.reshape(-1)
        flat_amount -= self._sum(idx, size, "amount").reshape(-1)
        flat_margin -= self._sum(idx, size, "margin").reshape(-1)
        if amount_cents is not None:
            self.deals.amount_cents[deal_index] = amount_cents
        if counts is not None:
            self.deals.counts[deal_index] = counts
        flat_amount += self._sum(idx, size, "amount").reshape(-1)
        flat_margin += self._sum(idx, size, "margin").reshape(-1)
        return self.payouts(sorted(set(self.credits.rep[idx].tolist())))
