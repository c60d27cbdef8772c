"""Commission for every rep over a year of deals: the aggregated engine against the naive
per-deal implementation, and the recalculation after one deal changes.

Generates --deals (5,000,000) won deals in three currencies and six product families ×
deal types for --reps (1,000) reps, a fifth of them split between two reps, a tenth
cancelled (some within the 30-day clawback window); the plan has three commission
components (a family's marginal tiers with a gate and cap, everything retroactively, a
margin-based one). Prints one JSON line per metric:

    .venv/bin/python bench/bench_comp.py [--deals 5000000] [--reps 1000] [--naive-deals 300000]

- full_calculation: building the aggregated book (conversion, crediting, sums per rep and
  component in integer cents) and every rep's payouts, target ≤ 10 s.
- naive_same_size / aggregated_same_size: both implementations over the first
  --naive-deals deals (the naive one, a Python loop in Decimal per credit line, is too
  slow to run over millions on a shared machine); ratio = naive ÷ aggregated there, and
  the two results are checked to agree cent for cent.
- recalculate_one_deal.p50 / .p95: a deal's amount changed, its reps recalculated,
  target ≤ 100 ms.
The engine alone: reading the deals from the database is not included.
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from salesplan.engines import compensation as comp  # noqa: E402

CURRENCIES = ["USD", "EUR", "GBP"]
RATES = comp.Rates("USD", {"EUR": Decimal("1.0851"), "GBP": Decimal("1.2703")})
CATEGORIES = [(f, t) for f in ("software", "services", "hardware") for t in ("new", "renewal")]
YEAR_START = date(2026, 1, 1)


def emit(metric: str, value, unit: str, **extra) -> None:
    extra["load_average"] = round(os.getloadavg()[0], 1)
    print(json.dumps({"metric": metric, "value": value, "unit": unit, **extra}), flush=True)


def the_plan() -> comp.Plan:
    tiers = (
        comp.Tier(Decimal(0), Decimal("0.02")),
        comp.Tier(Decimal(1), Decimal("0.05")),
        comp.Tier(Decimal("1.5"), Decimal("0.03")),
    )
    return comp.Plan(
        "USD",
        commissions=(
            comp.Commission(
                "software",
                "Software",
                comp.RateTable(tiers, "marginal", Decimal("0.3"), Decimal(250_000)),
                Decimal(3_000_000),
                families=frozenset({"software"}),
            ),
            comp.Commission(
                "all", "All bookings", comp.RateTable(tiers, "retroactive"), Decimal(8_000_000)
            ),
            comp.Commission(
                "margin", "Margin", comp.RateTable(tiers), Decimal(2_000_000), on_margin=True
            ),
        ),
        clawback_days=30,
    )


def generate(n_deals: int, n_reps: int, seed: int):
    rng = np.random.default_rng(seed)
    amount = rng.integers(100_00, 200_000_00, n_deals, dtype=np.int64)
    margin = amount * rng.integers(5, 60, n_deals) // 100
    currency = rng.choice(3, n_deals, p=[0.6, 0.3, 0.1])
    category = rng.integers(0, len(CATEGORIES), n_deals)
    won_day = rng.integers(0, 365, n_deals)
    cancel_after = np.where(rng.random(n_deals) < 0.1, rng.integers(1, 90, n_deals), -1)
    counts = (cancel_after < 0) | (cancel_after > 30)
    owner = rng.integers(0, n_reps, n_deals)
    split = rng.random(n_deals) < 0.2
    share = np.where(split, rng.integers(1, 100, n_deals) * 10_000, 1_000_000)
    deal_idx = np.concatenate([np.arange(n_deals), np.flatnonzero(split)])
    rep = np.concatenate([owner, (owner[split] + 1) % n_reps])
    shares = np.concatenate([share, 1_000_000 - share[split]])
    order = np.argsort(deal_idx, kind="stable")
    deals = comp.DealArrays(amount, margin, currency, category, counts, CURRENCIES, CATEGORIES)
    credits = comp.CreditArrays(
        deal_idx[order], rep[order], shares[order].astype(np.int64), list(range(n_reps))
    )
    return deals, credits, won_day, cancel_after


def naive_inputs(deals, credits, won_day, cancel_after, limit):
    """The first `limit` deals as the naive implementation takes them (objects, Decimal)."""
    objects = {}
    for i in range(limit):
        won = YEAR_START + timedelta(days=int(won_day[i]))
        cancelled = won + timedelta(days=int(cancel_after[i])) if cancel_after[i] >= 0 else None
        family, deal_type = CATEGORIES[deals.category[i]]
        objects[i] = comp.Deal(
            i,
            Decimal(int(deals.amount_cents[i])) / 100,
            CURRENCIES[deals.currency[i]],
            won,
            family=family,
            deal_type=deal_type,
            margin=Decimal(int(deals.margin_cents[i])) / 100,
            cancelled_on=cancelled,
        )
    stop = int(np.searchsorted(credits.deal, limit))
    lines = [
        comp.Credit(
            int(credits.deal[j]),
            int(credits.rep[j]),
            Decimal(int(credits.share[j])) / comp.RATE_SCALE,
            "owner",
        )
        for j in range(stop)
    ]
    return objects, lines


def subset(deals, credits, limit):
    stop = int(np.searchsorted(credits.deal, limit))
    return (
        comp.DealArrays(
            deals.amount_cents[:limit].copy(),
            deals.margin_cents[:limit].copy(),
            deals.currency[:limit],
            deals.category[:limit],
            deals.counts[:limit].copy(),
            CURRENCIES,
            CATEGORIES,
        ),
        comp.CreditArrays(
            credits.deal[:stop], credits.rep[:stop], credits.share[:stop], credits.reps
        ),
    )


def naive(plan, objects, lines):
    totals = comp.naive_bookings(lines, objects, RATES, plan)
    return {
        rep: {
            c.key: comp.money(c.table.payout(totals[rep][c.key], c.quota)) for c in plan.commissions
        }
        for rep in sorted(totals)
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=5_000_000)
    parser.add_argument("--reps", type=int, default=1_000)
    parser.add_argument("--naive-deals", type=int, default=300_000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    plan = the_plan()
    deals, credits, won_day, cancel_after = generate(args.deals, args.reps, args.seed)
    size = {"deals": args.deals, "reps": args.reps, "credit_lines": len(credits.deal)}

    started = time.perf_counter()
    book = comp.AggregatedBook(plan, RATES, deals, credits)
    payouts = book.payouts()
    full = time.perf_counter() - started
    emit("full_calculation", round(full, 3), "s", target=10, **size)

    limit = min(args.naive_deals, args.deals)
    objects, lines = naive_inputs(deals, credits, won_day, cancel_after, limit)
    small_deals, small_credits = subset(deals, credits, limit)
    started = time.perf_counter()
    fast = comp.AggregatedBook(plan, RATES, small_deals, small_credits).payouts()
    aggregated = time.perf_counter() - started
    started = time.perf_counter()
    slow = naive(plan, objects, lines)
    baseline = time.perf_counter() - started
    agree = all(fast[rep] == slow[rep] for rep in slow)
    emit("aggregated_same_size", round(aggregated, 3), "s", deals=limit)
    emit(
        "naive_same_size",
        round(baseline, 3),
        "s",
        deals=limit,
        baseline="naive per deal",
        ratio=round(baseline / aggregated, 1),
        agree=agree,
    )

    rng = np.random.default_rng(args.seed + 1)
    timings = []
    for deal_index in rng.integers(0, args.deals, args.changes):
        started = time.perf_counter()
        book.change_deal(int(deal_index), amount_cents=int(rng.integers(100_00, 200_000_00)))
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    emit("recalculate_one_deal.p50", round(statistics.median(timings), 2), "ms", target=100)
    emit("recalculate_one_deal.p95", round(timings[int(len(timings) * 0.95)], 2), "ms", target=100)
    assert len(payouts) == args.reps


if __name__ == "__main__":
    main()
