"""Effort allocation a manager can believe: the gains it claims, and whether they are real.

(a) known truth: companies generated with known response curves (6 segments × 60
    accounts × 24 months, bookings gamma-distributed around the true curve with a
    coefficient of variation of 0.4). The plan is made from the history alone, as the
    product makes it, and judged on the true curves: the share of the true optimum's
    reallocation gain it recovers (target ≥ 0.95). Baseline: the same fits without the
    cap and the held-out rule (curves read at every effort level asked for).
(b) coverage: on the same generated companies (20 seeds), how often the range of the
    reallocation gain holds the true gain, against its nominal 90%. The range is
    corrected for the optimism of choosing the best allocation on fitted curves;
    baseline: the uncorrected range (the chosen plan scored on each replicate's curves),
    from the same replicates.
(c) demo: the demo company's plan (the one its effort run was made for), re-run with
    the demo's parameters: the gain of reallocating today's hours with its bootstrap
    range, the further gain of the plan's hours, against today's contribution.

    .venv/bin/python bench/bench_effort.py --part truth [--seeds 5]
    .venv/bin/python bench/bench_effort.py --part coverage [--coverage-seeds 20] [--iterations 200]
    .venv/bin/python bench/bench_effort.py --part demo [--db var/demo.sqlite3] [--reuse]

Prints one JSON object per line. Not part of the test suite.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def emit(metric: str, value, unit: str, **extra) -> None:
    line = {"metric": metric, "value": round(value, 4) if isinstance(value, float) else value,
            "unit": unit, **extra, "load_average": round(os.getloadavg()[0], 1)}
    print(json.dumps(line), flush=True)


def _uncapped_share(company) -> float:
    """The same fitted curves read at every level asked for, all of them used."""
    from salesplan.engines.effort import CappedCurve, SegmentCurve, fit_adbudg, plan_effort
    from salesplan.engines.effort.known_truth import recovery

    top = float(company.levels.max())
    loose = [SegmentCurve(CappedCurve(fit_adbudg(h.effort.ravel(), h.per_account.ravel()),
                                      top), "history") for h in company.histories]
    plan = plan_effort(loose, company.units, company.capacity, company.levels,
                       company.economics)
    found, _, _ = recovery(company)
    from salesplan.engines.effort import unit_values

    truth = [CappedCurve(t, max(h.most_effort, top))
             for t, h in zip(company.truths, company.histories, strict=True)]
    today = unit_values(truth, company.units, company.units.current, company.economics).sum()
    got = unit_values(truth, company.units, plan.reallocated_effort, company.economics).sum()
    return float(got - today) / found.optimum_gain


def part_truth(args) -> None:
    from salesplan.engines.effort.known_truth import generate_company, recovery

    shares, baseline = [], []
    for seed in range(args.seeds):
        company = generate_company(seed=seed)
        started = time.perf_counter()
        found, _, _ = recovery(company)
        seconds = time.perf_counter() - started
        shares.append(found.share)
        baseline.append(_uncapped_share(company))
        emit("effort.known_truth.recovered_share", found.share, "share", seed=seed,
             target=0.95, true_gain=round(found.true_gain, 2),
             optimum_gain=round(found.optimum_gain, 2),
             claimed_gain=round(found.claimed_gain, 2),
             trusted_segments=found.trusted_segments,
             baseline=round(baseline[-1], 4), ratio=round(found.share / baseline[-1], 4)
             if baseline[-1] > 0 else None, seconds=round(seconds, 2))
    emit("effort.known_truth.recovered_share_min", float(min(shares)), "share",
         seeds=args.seeds, mean=round(float(np.mean(shares)), 4), target=0.95,
         baseline=round(float(min(baseline)), 4),
         ratio=round(min(shares) / min(baseline), 4) if min(baseline) > 0 else None,
         passed=bool(min(shares) >= 0.95))


def part_coverage(args) -> None:
    """How often the range of the reallocation gain holds the true gain, over generated
    companies: the optimism-corrected range against the uncorrected one (the same plan
    scored on every replicate's curves), both from the same replicates."""
    from salesplan.engines.effort import reallocation_range
    from salesplan.engines.effort.known_truth import generate_company, recovery

    corrected = uncorrected = 0
    nominal = 0.9
    first = args.first_seed
    for seed in range(first, first + args.coverage_seeds):
        company = generate_company(seed=seed)
        started = time.perf_counter()
        found, plan, fitted = recovery(company)
        spread = reallocation_range(company.histories, fitted, company.units, plan,
                                    company.economics, iterations=args.iterations,
                                    seed=seed, coverage=nominal)
        seconds = time.perf_counter() - started
        inside = spread.low <= found.true_gain <= spread.high
        naive_inside = spread.naive_low <= found.true_gain <= spread.naive_high
        corrected += inside
        uncorrected += naive_inside
        emit("effort.known_truth.range", found.true_gain, "currency a month", seed=seed,
             claimed_gain=round(found.claimed_gain, 2), low=round(spread.low, 2),
             high=round(spread.high, 2), inside=bool(inside),
             uncorrected_low=round(spread.naive_low, 2),
             uncorrected_high=round(spread.naive_high, 2),
             uncorrected_inside=bool(naive_inside), optimism=round(spread.optimism, 2),
             iterations=spread.iterations, seconds=round(seconds, 2))
    seeds = args.coverage_seeds
    emit("effort.known_truth.range_coverage", corrected / seeds, "share of seeds",
         seeds=seeds, nominal=nominal, iterations=args.iterations,
         baseline=round(uncorrected / seeds, 4),
         ratio=round(corrected / uncorrected, 4) if uncorrected else None,
         note="baseline: the uncorrected range from the same replicates")


def _database(args) -> str:
    path = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "demo.sqlite3"
    url = f"sqlite:///{path.resolve()}"
    if not (args.reuse and path.exists()):
        env = {**os.environ, "DATABASE_URL": url}
        cli = [str(ROOT / ".venv/bin/salesplan")]
        subprocess.run([*cli, "migrate", "-v0"], env=env, check=True)  # noqa: S603
        subprocess.run([*cli, "demo", "-v0"], env=env, check=True,  # noqa: S603
                       stdout=subprocess.DEVNULL)
    return url


def part_demo(args) -> None:
    os.environ["DATABASE_URL"] = _database(args)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.config.settings")
    import django

    django.setup()
    from salesplan.planning import effort
    from salesplan.planning.models import EffortAllocationRun

    run = EffortAllocationRun.objects.filter(status="succeeded").order_by("-id").first()
    if run is None:
        emit("effort.demo.reallocation_gain", None, "currency", skipped="no demo effort run")
        return
    params = {**run.params, "bootstrap_iterations": args.iterations, "seed": 0}
    started = time.perf_counter()
    result = effort.optimise(run.plan, effort.clean_params(run.plan, params))
    seconds = time.perf_counter() - started
    s = result["summary"]
    spread = s["reallocation_range"]
    today = s["current_profit"]
    emit("effort.demo.reallocation_gain", s["reallocation_gain"], run.plan.currency,
         low=spread["low"], high=spread["high"], iterations=spread["iterations"],
         months=s["months"], baseline=today,
         ratio=round(s["reallocation_gain"] / today, 4) if today else None,
         note="baseline: today's contribution on the same curves")
    emit("effort.demo.added_hours_gain", s["added_hours_gain"], run.plan.currency,
         current_hours=s["current_hours"], planned_hours=s["planned_hours"],
         baseline=today, ratio=round(s["added_hours_gain"] / today, 4) if today else None)
    emit("effort.demo.optimal_over_today", s["optimal_profit"] / today if today else None,
         "ratio", optimal=s["optimal_profit"], today=today,
         previous_claim_ratio=round(float(run.optimal_profit or 0)
                                    / float(run.current_profit or 1), 2))
    emit("effort.demo.curves", s["trusted_segments"], "segments used",
         segments=s["segments"], units=s["units"], units_at_cap=s["units_at_cap"],
         units_beyond_cap=s["units_beyond_cap"], seconds=round(seconds, 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["truth", "coverage", "demo", "all"], default="all")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--coverage-seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="first seed of the coverage part (to split it in two runs)")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--db", help="SQLite file for the demo company")
    parser.add_argument("--reuse", action="store_true", help="use the --db file as it is")
    args = parser.parse_args()
    if args.part in ("truth", "all"):
        part_truth(args)
    if args.part in ("coverage", "all"):
        part_coverage(args)
    if args.part in ("demo", "all"):
        part_demo(args)


if __name__ == "__main__":
    main()
