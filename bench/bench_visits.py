"""Field-visit planning benchmarks; one JSON object per line (metric, value, unit,
baseline, ratio).

    .venv/bin/python bench/bench_visits.py [quality|scale|replan ...] [--reps N] [--workers N]

quality: daily routing with time windows on generated days of 10–60 stops: the solver
         (its default work budget) against nearest neighbour + 2-opt, and against
         itself with ten times the budget: total distance ratio and the share of time
         windows met (a visit the solver leaves out counts as a window missed).
scale:   200 reps × 125 accounts (25,000), four weeks: days chosen and every day routed,
         target ≤ 120 s (the engine alone; `--reps N` runs a smaller company).
replan:  one rep's remaining week re-routed after a skip, target ≤ 1 s.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from datetime import date, timedelta

from salesplan.engines.visit_planning import (
    AccountVisits,
    Budget,
    Lunch,
    Place,
    Rep,
    TravelModel,
    Window,
    horizon_days,
    model_matrix,
    plan_rep,
    route_day,
)

MONDAY = date(2027, 3, 1)
HOME = Place(45.0, 5.0)
KM_PER_DEG_LAT = 111.2
TRAVEL = TravelModel()
DEFAULT_BUDGET = 20


def emit(metric, value, unit, baseline=None, **extra):
    ratio = None
    if baseline not in (None, 0) and value is not None:
        ratio = round(float(value) / float(baseline), 4)
    row = {"metric": metric, "value": value, "unit": unit, "baseline": baseline, "ratio": ratio}
    print(json.dumps({**row, **extra}), flush=True)


def scatter(rng: random.Random, n: int, side_km: float) -> list[Place]:
    deg_lat = side_km / KM_PER_DEG_LAT
    deg_lon = side_km / (KM_PER_DEG_LAT * math.cos(math.radians(HOME.lat)))
    return [Place(HOME.lat + rng.uniform(-deg_lat, deg_lat) / 2,
                  HOME.lon + rng.uniform(-deg_lon, deg_lon) / 2) for _ in range(n)]


# --- quality ----------------------------------------------------------------------------


def day_instance(n: int, seed: int) -> tuple[Rep, list[AccountVisits]]:
    """n stops of 10 minutes in a square that keeps every stop reachable in a 15-hour
    shift; 40% of them open for three hours only."""
    rng = random.Random(seed)
    places = scatter(rng, n, 4 * math.sqrt(n))
    visits = []
    for i, place in enumerate(places):
        windows = None
        if rng.random() < 0.4:
            opens = rng.choice(range(8 * 60, 18 * 60, 30))
            windows = {0: (Window(opens, opens + 180),)}
        visits.append(AccountVisits(i + 1, place, 1, duration=10, windows=windows))
    return Rep(1, HOME, shift=Window(7 * 60, 22 * 60), lunch=None), visits


def nearest_neighbour_two_opt(rep: Rep, visits: list[AccountVisits]) -> tuple[float, int]:
    """The baseline: nearest unvisited stop first, then 2-opt on distance; timed by
    driving on and waiting for each window's opening. (distance km, windows met)."""
    places = [rep.home] + [v.place for v in visits]
    minutes, km = model_matrix(TRAVEL)(places)
    order, left = [0], set(range(1, len(places)))
    while left:
        nxt = min(left, key=lambda j: km[order[-1]][j])
        order.append(nxt)
        left.remove(nxt)
    order.append(0)
    improved = True
    while improved:
        improved = False
        for i in range(1, len(order) - 2):
            for j in range(i + 1, len(order) - 1):
                a, b, c, d = order[i - 1], order[i], order[j], order[j + 1]
                if km[a][c] + km[b][d] < km[a][b] + km[c][d] - 1e-9:
                    order[i:j + 1] = reversed(order[i:j + 1])
                    improved = True
    clock, met, distance = rep.shift.start, 0, 0.0
    for prev, node in zip(order, order[1:], strict=False):
        distance += km[prev][node]
        clock += math.ceil(minutes[prev][node])
        if node == 0:
            break
        visit = visits[node - 1]
        windows = visit.windows_on(MONDAY, rep.shift)
        later = [w for w in windows if clock + visit.duration <= w.end]
        if later:
            clock = max(clock, later[0].start)
            met += clock + visit.duration <= rep.shift.end
        clock += visit.duration
    return distance, met


def solved(rep: Rep, visits: list[AccountVisits], budget: int) -> tuple[float, int]:
    route = route_day(rep, MONDAY, visits, budget=Budget(solutions=budget))
    return route.travel_km, sum(1 for s in route.stops if s.kind == "visit")


def quality(sizes=(10, 20, 30, 45, 60), seeds=(1, 2, 3)) -> None:
    for n in sizes:
        base_km = base_met = km = met = big_km = big_met = 0.0
        started = time.perf_counter()
        for seed in seeds:
            rep, visits = day_instance(n, seed)
            b = nearest_neighbour_two_opt(rep, visits)
            s = solved(rep, visits, DEFAULT_BUDGET)
            g = solved(rep, visits, DEFAULT_BUDGET * 10)
            base_km, base_met = base_km + b[0], base_met + b[1]
            km, met, big_km, big_met = km + s[0], met + s[1], big_km + g[0], big_met + g[1]
        total = n * len(seeds)
        emit(f"route_distance_{n}_stops", round(km, 1), "km", round(base_km, 1),
             baseline_name="nearest neighbour + 2-opt", instances=len(seeds))
        emit(f"route_windows_met_{n}_stops", round(met / total, 4), "share",
             round(base_met / total, 4), baseline_name="nearest neighbour + 2-opt")
        emit(f"route_distance_{n}_stops_vs_10x_budget", round(km, 1), "km", round(big_km, 1),
             baseline_name=f"solver with {DEFAULT_BUDGET * 10} solutions")
        emit(f"route_windows_met_{n}_stops_vs_10x_budget", round(met / total, 4), "share",
             round(big_met / total, 4),
             baseline_name=f"solver with {DEFAULT_BUDGET * 10} solutions",
             seconds=round(time.perf_counter() - started, 2))


# --- scale ------------------------------------------------------------------------------


def company(reps: int, accounts_per_rep: int, seed: int = 7):
    rng = random.Random(seed)
    for r in range(reps):
        centre = Place(HOME.lat + rng.uniform(-3, 3), HOME.lon + rng.uniform(-4, 4))
        rep = Rep(r + 1, centre, lunch=Lunch(), days_off=frozenset({MONDAY + timedelta(14)}))
        deg = 40 / KM_PER_DEG_LAT  # a territory about 80 km across
        accounts = []
        for a in range(accounts_per_rep):
            place = Place(centre.lat + rng.uniform(-deg, deg), centre.lon + rng.uniform(-deg,
                                                                                         deg))
            visits = rng.choice((1, 1, 1, 2, 2, 3))
            windows = None
            if rng.random() < 0.3:
                windows = {d: (Window(8 * 60, 12 * 60),) for d in range(5)}
            accounts.append(AccountVisits(r * accounts_per_rep + a + 1, place, visits,
                                          duration=rng.choice((20, 30, 45)),
                                          value=rng.uniform(1, 100), windows=windows))
        yield rep, accounts


def _plan_one(item) -> tuple[int, int, int, int]:
    rep, accounts = item
    plan = plan_rep(rep, accounts, horizon_days(MONDAY, 28), travel=TRAVEL,
                    budget=Budget(solutions=DEFAULT_BUDGET))
    return plan.planned, len(plan.unmet), sum(a.visits for a in accounts), len(plan.days)


def scale(reps: int = 200, accounts_per_rep: int = 125, workers: int = 1) -> None:
    """Reps are independent: `--workers N` plans them in N processes."""
    started = time.perf_counter()
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            rows = list(pool.map(_plan_one, company(reps, accounts_per_rep), chunksize=4))
    else:
        rows = [_plan_one(item) for item in company(reps, accounts_per_rep)]
    planned, unmet, required, routed_days = (sum(r[i] for r in rows) for i in range(4))
    seconds = time.perf_counter() - started
    emit("plan_four_weeks", round(seconds, 1), "s", 120, reps=reps,
         accounts=reps * accounts_per_rep, days_routed=routed_days, visits_required=required,
         visits_planned=planned, visits_unmet=unmet,
         budget_solutions_per_day=DEFAULT_BUDGET, workers=workers)
    emit("plan_share_of_visits_planned", round(planned / required, 4), "share", None)


def replan() -> None:
    """One rep's remaining week (Tuesday to Friday) re-routed after a skip on Tuesday."""
    rep, accounts = next(company(1, 125))
    days = horizon_days(MONDAY, 7)
    plan = plan_rep(rep, accounts, days, travel=TRAVEL, budget=Budget(DEFAULT_BUDGET))
    by_day = {d.day: [a for a in accounts if any(s.ref == a.account_id for s in d.stops)]
              for d in plan.days}
    started = time.perf_counter()
    for day in sorted(by_day)[1:]:
        visits = by_day[day][1:] if day == MONDAY + timedelta(1) else by_day[day]
        route_day(rep, day, visits, budget=Budget(DEFAULT_BUDGET),
                  start=10 * 60 if day == MONDAY + timedelta(1) else None)
    emit("replan_rest_of_week", round(time.perf_counter() - started, 3), "s", 1.0,
         days=len(by_day) - 1)


if __name__ == "__main__":
    args = sys.argv[1:]
    options = {"--reps": 200, "--workers": 1}
    for name in options:
        if name in args:
            options[name] = int(args[args.index(name) + 1])
            del args[args.index(name):args.index(name) + 2]
    parts = args or ["quality", "replan", "scale"]
    for part in parts:
        if part == "scale":
            scale(options["--reps"], workers=options["--workers"])
        else:
            globals()[part]()
