"""Accuracy of the statistical forecast's model choice on months it never saw.

    .venv/bin/python bench/bench_forecast_accuracy.py [--series 120] [--seed 7] [--folds 8]
        [--jobs 1] [--only public|generated]

Two collections of monthly series:

- public: the monthly sales-like series that packages on the registry ship inside them
  (`pip install -e '.[bench]'`): shampoo sales (36 months) and airline passengers (144)
  from sktime, Australian wine sales (176) from pmdarima, PBS prescriptions (204, counts
  with many zero months) from sktime. A missing package prints a `skipped` line.
- generated: `--series` series (seeded) of 36–96 months with a random level, trend (none,
  linear, damped), seasonality (none, additive, multiplicative), 0–2 level shifts, and
  noise from 3% to 25% (a fifth of them intermittent: many zero months).

For each series and each test window (the last six months, and for the public series also
the six months before them), everything after the window's start is hidden; the model is
chosen by the same rolling-origin backtest the product runs (`choose_and_forecast`) and
its six-month forecast is scored against the hidden months. MASE divides the mean
absolute error by the in-sample one-step seasonal-naive error of the training months.

Lines (one JSON object each):
- `mase.chosen.<collection>`: mean MASE of the chosen model; `baseline` is seasonal
  naive's mean MASE on the same windows, `ratio` = chosen / baseline (below 1: better).
- `mase.chosen_vs_auto_ets.<collection>`: the same, against AutoETS alone as baseline;
  `lower_share` / `higher_share`: the share of windows where the choice's error was lower /
  higher than AutoETS's, `difference_90` a 90% bootstrap interval (over windows) of the
  mean difference chosen minus AutoETS.
- `mase.chosen_vs_lowest_backtest.<collection>`: the same, against always taking the
  candidate with the lowest backtest MASE (the rule before the standard model).
- `mase.candidate.<name>.<collection>`: each candidate always used, for reference.
- `coverage.chosen.<collection>`: share of hidden months inside the chosen model's 80%
  range as the product shows it (calibrated on the backtest's misses); `baseline` is the
  share inside the model's own, uncalibrated range, and `backtest` the held-out coverage
  the page quotes (each fold's range set on the other folds), for the same windows.
- `chosen_share.<name>.<collection>`: how often each model was chosen.
- `mase.series.<name>`: each public series (mean over its windows), with seasonal naive
  and AutoETS alone.
- `seconds_per_choice`: wall time of one choice (eight folds, seven candidates): on a
  shared machine this moves with the load average, which every line carries.

`--jobs` spreads the series over that many processes (the figures do not depend on it);
`--only` runs one of the two collections; `--first N` skips the first N generated series
(the others are the same as in a full run). `--rows FILE` appends each series' scored
windows to FILE (JSON lines) as soon as it is done, so a run stopped half-way keeps what it
measured; `--report FILE` prints the lines from such a file without fitting anything.

Within one series every fit is made once: the backtest's final refit of the chosen model
on the training months and the "always used" forecasts are the same fit, and the public
series' two windows share folds. A candidate's fit depends only on its training months,
so reusing it changes no figure (AutoARIMA's search is nine tenths of the time).
"""

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from salesplan.engines import model_choice as mc  # noqa: E402

H = mc.HORIZON


def ratio(value: float, baseline: float) -> float | None:
    return round(value / baseline, 4) if baseline else None


def emit(metric: str, value, unit: str, **extra) -> None:
    extra["load_average"] = round(os.getloadavg()[0], 1)
    print(json.dumps({"metric": metric, "value": value, "unit": unit, **extra}), flush=True)


# --- Series -------------------------------------------------------------------------------


def public_series() -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    try:
        from sktime.datasets import load_airline, load_PBS_dataset, load_shampoo_sales

        found["shampoo_sales"] = [float(v) for v in load_shampoo_sales()]
        found["airline_passengers"] = [float(v) for v in load_airline()]
        found["pbs_scripts"] = [float(v) for v in load_PBS_dataset()]
    except ImportError as error:
        emit("public.sktime", None, "", skipped=f"sktime not installed ({error})")
    try:
        from pmdarima.datasets import load_wineind

        found["wine_sales"] = [float(v) for v in load_wineind()]
    except ImportError as error:
        emit("public.pmdarima", None, "", skipped=f"pmdarima not installed ({error})")
    return found


def generated_series(count: int, seed: int) -> dict[str, list[float]]:
    rng = random.Random(seed)
    result = {}
    for k in range(count):
        n = rng.randint(36, 96)
        level = rng.uniform(1_000, 50_000)
        trend_kind = rng.choice(["none", "linear", "damped"])
        slope = rng.uniform(-0.01, 0.02) * level
        season_kind = rng.choice(["none", "additive", "multiplicative"])
        amplitude = rng.uniform(0.05, 0.4)
        phase = rng.uniform(0, 2 * math.pi)
        shape = [
            math.sin(2 * math.pi * m / 12 + phase) + 0.3 * math.sin(4 * math.pi * m / 12)
            for m in range(12)
        ]
        shifts = {
            rng.randint(6, n - 6): rng.uniform(-0.4, 0.4) for _ in range(rng.choice([0, 0, 1, 2]))
        }
        noise = rng.uniform(0.03, 0.25)
        intermittent = rng.random() < 0.2
        values, base = [], level
        for t in range(n):
            base *= 1 + shifts.get(t, 0.0)
            if trend_kind == "linear":
                trend = slope * t
            elif trend_kind == "damped":
                trend = slope * (1 - 0.9**t) / 0.1
            else:
                trend = 0.0
            mean = base + trend
            if season_kind == "additive":
                mean += amplitude * level * shape[t % 12]
            elif season_kind == "multiplicative":
                mean *= 1 + amplitude * shape[t % 12]
            value = max(0.0, mean * (1 + rng.gauss(0, noise)))
            if intermittent and rng.random() < 0.5:
                value = 0.0
            values.append(round(value, 2))
        result[f"gen{k:03d}"] = values
    return result


# --- Scoring ------------------------------------------------------------------------------


def remember_fits() -> dict:
    """Make every candidate's fit in this process be computed once per training slice:
    the product's `_try` wrapped in a cache keyed by candidate, slice and horizon."""
    fitted: dict = {}
    attempt = mc._try

    def once(candidate: mc.Candidate, data: list[float], horizon: int) -> mc.Path | None:
        key = (candidate.name, tuple(data), horizon)
        if key not in fitted:
            fitted[key] = attempt(candidate, data, horizon)
        return fitted[key]

    if not hasattr(mc._try, "fitted"):
        once.fitted = fitted  # type: ignore[attr-defined]
        mc._try = once
    return mc._try.fitted  # type: ignore[attr-defined]


def evaluate(series: list[float], windows: int, folds: int) -> list[dict]:
    remember_fits().clear()  # one series at a time: no slice is shared between series
    rows = []
    for w in range(windows, 0, -1):
        cut = len(series) - w * H
        train, test = series[:cut], series[cut : cut + H]
        started = time.perf_counter()
        selection = mc.choose_and_forecast(train, horizon=H, folds=folds)
        seconds = time.perf_counter() - started
        always = mc.forecast_all(train, H)
        chosen = selection.forecast
        score = selection.score
        row = {
            "chosen": selection.chosen,
            "months": len(series),
            "seconds": seconds,
            "mase": mc.mase(test, chosen.mean, train),
            "inside": _inside(test, chosen),
            "own_inside": _inside(test, always.get(selection.chosen, chosen)),
            "backtest_inside": (score.inside, score.months) if score else (0, 0),
            "candidates": {n: mc.mase(test, p.mean, train) for n, p in always.items()},
            "lowest": _lowest_backtest(selection, always, test, train),
        }
        rows.append(row)
    return rows


def _lowest_backtest(
    selection: mc.Selection, always: dict[str, mc.Path], test: list[float], train: list[float]
) -> float | None:
    """MASE on the hidden months of the candidate with the lowest backtest MASE: the rule
    the choice followed before it kept a standard model."""
    scores = selection.scores
    ranked = sorted(scores, key=lambda n: (round(scores[n].mase, 9), mc.ORDER.index(n)))
    name = next((n for n in ranked if n in always), None)
    return mc.mase(test, always[name].mean, train) if name else None


def _inside(test: list[float], path: mc.Path) -> int:
    return sum(lo <= a <= hi for a, lo, hi in zip(test, path.lower, path.upper, strict=True))


def evaluate_all(
    series: dict[str, list[float]],
    windows: int,
    folds: int,
    jobs: int,
    *,
    collection: str,
    rows_file: str | None = None,
) -> dict[str, list[dict]]:
    done: dict[str, list[dict]] = {}
    with ProcessPoolExecutor(jobs) as pool:
        futures = {pool.submit(evaluate, values, windows, folds): n for n, values in series.items()}
        for future in as_completed(futures):
            name = futures[future]
            done[name] = future.result()
            if rows_file:
                with open(rows_file, "a") as out:
                    row = {"collection": collection, "series": name, "windows": done[name]}
                    out.write(json.dumps(row) + "\n")
    return {n: done[n] for n in series}  # in the collection's order


def saved_rows(path: str) -> dict[str, dict[str, list[dict]]]:
    """The rows a `--rows` run wrote, by collection and series (the last run of a series
    wins)."""
    found: dict[str, dict[str, list[dict]]] = {}
    with open(path) as rows:
        for line in rows:
            row = json.loads(line)
            found.setdefault(row["collection"], {})[row["series"]] = row["windows"]
    return found


def paired_interval(pairs: list[tuple[float, float]], draws: int = 2000) -> list[float]:
    """A 90% bootstrap interval (over windows, seeded) of the mean difference first minus
    second: whether a difference of means is more than the luck of which series were
    drawn."""
    rng = random.Random(0)
    means = sorted(
        statistics.fmean(a - b for a, b in rng.choices(pairs, k=len(pairs))) for _ in range(draws)
    )
    return [round(means[int(0.05 * draws)], 4), round(means[int(0.95 * draws) - 1], 4)]


def report(collection: str, results: dict[str, list[dict]]) -> None:
    rows = [r for rs in results.values() for r in rs]
    if not rows:
        return
    chosen = statistics.fmean(r["mase"] for r in rows)
    snaive = statistics.fmean(r["candidates"]["seasonal_naive"] for r in rows)
    ets_rows = [r for r in rows if "auto_ets" in r["candidates"]]
    emit(
        f"mase.chosen.{collection}",
        round(chosen, 4),
        "MASE",
        baseline=round(snaive, 4),
        baseline_name="seasonal_naive",
        ratio=ratio(chosen, snaive),
        windows=len(rows),
        series=len(results),
    )
    lowest = [r for r in rows if r["lowest"] is not None]
    if lowest:
        emit(
            f"mase.chosen_vs_lowest_backtest.{collection}",
            round(statistics.fmean(r["mase"] for r in lowest), 4),
            "MASE",
            baseline=round(statistics.fmean(r["lowest"] for r in lowest), 4),
            baseline_name="lowest_backtest_mase",
            ratio=ratio(
                statistics.fmean(r["mase"] for r in lowest),
                statistics.fmean(r["lowest"] for r in lowest),
            ),
            windows=len(lowest),
        )
    ets = statistics.fmean(r["candidates"]["auto_ets"] for r in ets_rows)
    pairs = [(r["mase"], r["candidates"]["auto_ets"]) for r in ets_rows]
    emit(
        f"mase.chosen_vs_auto_ets.{collection}",
        round(statistics.fmean(r["mase"] for r in ets_rows), 4),
        "MASE",
        baseline=round(ets, 4),
        baseline_name="auto_ets",
        ratio=ratio(statistics.fmean(r["mase"] for r in ets_rows), ets),
        windows=len(ets_rows),
        lower_share=round(sum(c < e for c, e in pairs) / len(pairs), 3),
        higher_share=round(sum(c > e for c, e in pairs) / len(pairs), 3),
        difference_90=paired_interval(pairs),
    )
    for name in mc.ORDER:
        scored = [r["candidates"][name] for r in rows if name in r["candidates"]]
        if scored:
            emit(
                f"mase.candidate.{name}.{collection}",
                round(statistics.fmean(scored), 4),
                "MASE",
                windows=len(scored),
            )
        emit(
            f"chosen_share.{name}.{collection}",
            round(sum(r["chosen"] == name for r in rows) / len(rows), 3),
            "share",
        )
    held = [r["backtest_inside"] for r in rows]
    emit(
        f"coverage.chosen.{collection}",
        round(sum(r["inside"] for r in rows) / (H * len(rows)), 3),
        "share",
        nominal=mc.LEVEL / 100,
        baseline=round(sum(r["own_inside"] for r in rows) / (H * len(rows)), 3),
        baseline_name="own_range",
        backtest=round(sum(i for i, _ in held) / max(1, sum(m for _, m in held)), 3),
    )
    emit(
        f"seconds_per_choice.{collection}",
        round(statistics.median(r["seconds"] for r in rows), 3),
        "s",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--folds", type=int, default=mc.DEFAULT_FOLDS)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--only", choices=["public", "generated"])
    parser.add_argument(
        "--first", type=int, default=0, help="skip the generated series before this one"
    )
    parser.add_argument("--rows", help="append each series' scored windows to this file")
    parser.add_argument("--report", help="report the rows saved in this file, fit nothing")
    args = parser.parse_args()

    if args.report:
        saved = saved_rows(args.report)
        if args.only != "generated" and "public" in saved:
            report_public(saved["public"])
        if args.only != "public" and "generated" in saved:
            report("generated", dict(sorted(saved["generated"].items())))
        return
    if args.only != "generated":
        found = public_series()
        report_public(
            evaluate_all(found, 2, args.folds, args.jobs, collection="public", rows_file=args.rows)
        )
    if args.only != "public":
        every = generated_series(args.series, args.seed)  # the same series whatever --first
        generated = evaluate_all(
            dict(list(every.items())[args.first :]),
            1,
            args.folds,
            args.jobs,
            collection="generated",
            rows_file=args.rows,
        )
        report("generated", generated)


def report_public(public: dict[str, list[dict]]) -> None:
    for name, rs in public.items():
        snaive = statistics.fmean(r["candidates"]["seasonal_naive"] for r in rs)
        emit(
            f"mase.series.{name}",
            round(statistics.fmean(r["mase"] for r in rs), 4),
            "MASE",
            baseline=round(snaive, 4),
            baseline_name="seasonal_naive",
            ratio=ratio(statistics.fmean(r["mase"] for r in rs), snaive),
            auto_ets=round(statistics.fmean(r["candidates"]["auto_ets"] for r in rs), 4),
            chosen=[r["chosen"] for r in rs],
            months=rs[0]["months"],
        )
    report("public", public)


if __name__ == "__main__":
    main()
