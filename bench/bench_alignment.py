"""Territory alignment benchmarks; one JSON object per line (metric, value, unit, baseline, ratio).

    .venv/bin/python bench/bench_alignment.py [correctness|scale|peer ...]

correctness: the heuristic against the exact MILP of the same Hess model (τ = 5%).
scale: all active US ZIP codes into K = 200 territories, τ = 5%, target ≤ 60 s.
peer: PySAL spopt RegionKMeansHeuristic on one state's ZIP codes with a Delaunay
      adjacency, against our engine with the same adjacency (extra "bench").
zip_regions: the ZIP codes of Kentucky and Tennessee (~1,700) with ZIP-like uneven
      weights (seeded log-normal; the package has no population) into 20 and 50
      territories at ±5%, 60 s: the gap to the best plan known (the best of this run and
      a three times longer run with another seed, in the same process) and the proven gap.
counties: county-like instances (100 units on a jittered grid, log-normal weights,
      neighbours by triangulation) into 10 territories at ±2% with contiguity, 20 s each:
      how many end with a balanced, contiguous plan, how many are proved impossible.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
from scipy.spatial import Delaunay

from salesplan.engines.alignment import AlignmentOptions, AlignmentProblem, optimise
from salesplan.engines.alignment.heuristic import objective, recentre
from salesplan.engines.alignment.instance import build_instance


def emit(metric, value, unit, baseline=None, **extra):
    ratio = None
    if baseline not in (None, 0) and value is not None:
        ratio = round(float(value) / float(baseline), 4)
    row = {"metric": metric, "value": value, "unit": unit, "baseline": baseline, "ratio": ratio}
    print(json.dumps({**row, **extra}), flush=True)


def children_cpu_seconds():
    """Processor seconds of the child processes ended so far (the optimiser's bound may
    run in one beside the search)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def delaunay_pairs(xy):
    # ZIP codes can share a point; a tiny jitter keeps every unit in the triangulation
    jitter = np.random.default_rng(0).normal(scale=0.05, size=xy.shape)
    tri = Delaunay(xy + jitter).simplices
    pairs = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [0, 2]]])
    return np.unique(np.sort(pairs, axis=1), axis=0)


def zip_units(states=None):
    import zipcodes

    rows = [r for r in zipcodes.list_all() if r["active"] and (not states or r["state"] in states)]
    return np.array([[float(r["lat"]), float(r["long"])] for r in rows])


def correctness(heuristic_seconds=None):
    """The heuristic (what runs at scale) against the exact MILP of the same model. The
    heuristic gets ``heuristic_seconds`` (5 unless ALIGNMENT_HEURISTIC_SECONDS says
    otherwise; 60% of it for the search, the rest for its bound); the MILP up to two
    minutes; where it proves optimality the gap is to the optimum,
    otherwise to its best solution (gap_to_milp) and to its proven bound (gap_to_bound,
    an upper limit on how far from optimal the heuristic can be)."""
    if heuristic_seconds is None:
        heuristic_seconds = float(os.environ.get("ALIGNMENT_HEURISTIC_SECONDS", "5"))
    for n, k, seed in ((60, 4, 1), (100, 5, 2), (150, 6, 3), (200, 8, 4)):
        rng = np.random.default_rng(seed)
        xy = rng.uniform(0, 200, (n, 2))
        w = rng.uniform(1, 3, n)
        problem = AlignmentProblem(coordinates=xy, weights=w, k=k, tau=0.05, geographic=False)
        cpu_started = time.process_time()
        heur = optimise(problem, AlignmentOptions(time_limit=heuristic_seconds,
                                                  method="heuristic"))
        heur_cpu = time.process_time() - cpu_started
        exact = optimise(problem, AlignmentOptions(time_limit=120, method="exact"))
        best = min(exact.objective, heur.objective)
        emit(f"correctness_gap_to_milp_n{n}_k{k}",
             round(100 * (heur.objective - exact.objective) / exact.objective, 3), "%", 1.0,
             heuristic=heur.objective, milp=exact.objective, milp_status=exact.status,
             heuristic_seconds=round(heur.seconds, 2), heuristic_cpu_seconds=round(heur_cpu, 2),
             milp_seconds=round(exact.seconds, 2),
             load_average=[round(x, 2) for x in os.getloadavg()])
        emit(f"correctness_gap_to_bound_n{n}_k{k}",
             round(100 * (heur.objective - exact.lower_bound) / heur.objective, 3), "%", None,
             milp_bound=exact.lower_bound, best_known=best,
             heuristic_own_proven_gap=round(100 * heur.gap, 3))


def scale():
    lat_lon = zip_units()
    problem = AlignmentProblem(coordinates=lat_lon, weights=np.ones(len(lat_lon)), k=200,
                               tau=0.05)
    started, cpu_started = time.monotonic(), time.process_time()
    # 50 s for the engine leaves room for reading the problem and the last bound step.
    result = optimise(problem, AlignmentOptions(time_limit=50, method="heuristic"))
    seconds = time.monotonic() - started
    emit("scale_zip_seconds", round(seconds, 2), "s", 60.0, units=len(lat_lon), k=200,
         cpu_seconds=round(time.process_time() - cpu_started, 2),
         load_average=[round(x, 2) for x in os.getloadavg()])
    emit("scale_zip_max_deviation", round(100 * float(np.abs(result.deviation).max()), 3), "%",
         5.0, balanced=result.balanced)
    emit("scale_zip_territories_within_balance",
         int(np.sum(np.all(np.abs(result.deviation) <= 0.05 + 1e-9, axis=1))), "territories",
         200)
    emit("scale_zip_proven_gap", round(100 * result.gap, 2), "%", None,
         objective=result.objective, lower_bound=result.lower_bound)


def peer(state="NJ", k=12):
    lat_lon = zip_units({state})
    # drop ZIP codes whose recorded point lies far outside the state (bad coordinates)
    far = np.abs(lat_lon - np.median(lat_lon, axis=0)).max(axis=1) > 5
    lat_lon = lat_lon[~far]
    inst = build_instance(AlignmentProblem(coordinates=lat_lon, weights=np.ones(len(lat_lon)),
                                           k=k, tau=0.05))
    pairs = delaunay_pairs(inst.xy)
    problem = AlignmentProblem(coordinates=lat_lon, weights=np.ones(len(lat_lon)), k=k,
                               tau=0.05, adjacency=pairs)
    ours = optimise(problem, AlignmentOptions(time_limit=20, method="heuristic"))
    emit("peer_ours_seconds", round(ours.seconds, 2), "s", None, balanced=ours.balanced,
         contiguous=int(ours.contiguous.sum()), objective=ours.objective)
    try:
        import libpysal
        from spopt.region import RegionKMeansHeuristic
    except ImportError as error:
        emit("peer_spopt_available", 0, "bool", None, error=str(error))
        return
    neighbours = {i: [] for i in range(len(lat_lon))}
    for a, b in pairs:
        neighbours[int(a)].append(int(b))
        neighbours[int(b)].append(int(a))
    w = libpysal.weights.W(neighbours, silence_warnings=True)
    started = time.monotonic()
    model = RegionKMeansHeuristic(inst.xy, k, w)
    model.solve()
    theirs_seconds = time.monotonic() - started
    labels = np.asarray(model.labels_, dtype=np.int64)
    theirs = recentre(inst, labels)
    theirs_dev = np.bincount(labels, minlength=k) / inst.mean[0] - 1
    ours_dev = float(np.abs(ours.deviation).max())
    emit("peer_max_balance_deviation", round(100 * ours_dev, 2), "%",
         round(100 * float(np.abs(theirs_dev).max()), 2), units=len(lat_lon), k=k, state=state)
    emit("peer_compactness_hess", ours.objective, "km2", objective(inst, theirs))
    emit("peer_seconds", round(ours.seconds, 2), "s", round(theirs_seconds, 2))
    emit("peer_contiguous_territories", int(ours.contiguous.sum()), "territories", k)


def zip_regions(seconds=60.0, states=("KY", "TN"), ks=(20, 50)):
    from salesplan.engines.alignment import AlignmentInfeasible

    lat_lon = zip_units(set(states))
    far = np.abs(lat_lon - np.median(lat_lon, axis=0)).max(axis=1) > 8
    lat_lon = lat_lon[~far]
    weights = np.exp(np.random.default_rng(7).normal(0, 0.8, len(lat_lon)))
    for k in ks:
        problem = AlignmentProblem(coordinates=lat_lon, weights=weights, k=k, tau=0.05)
        runs, cpu, child_cpu = [], [], []
        for seed, limit in ((0, seconds), (1, 3 * seconds)):
            try:
                cpu_started, child_started = time.process_time(), children_cpu_seconds()
                runs.append(optimise(problem, AlignmentOptions(time_limit=limit, seed=seed)))
                cpu.append(round(time.process_time() - cpu_started, 1))
                child_cpu.append(round(children_cpu_seconds() - child_started, 1))
            except AlignmentInfeasible as error:
                emit(f"zip_k{k}_refused", 1, "bool", None, reason=str(error))
                return
        ours, longer = runs
        best = min(r.objective for r in runs)
        bound = max(r.lower_bound for r in runs)
        emit(f"zip_k{k}_gap_to_best_known", round(100 * (ours.objective / best - 1), 3), "%",
             1.0, units=len(lat_lon), k=k, seconds=round(ours.seconds, 1),
             objective=ours.objective, best_known=best, longer_run_objective=longer.objective,
             cpu_seconds=cpu[0], longer_run_cpu_seconds=cpu[1],
             bound_process_cpu_seconds=child_cpu[0],
             longer_run_bound_process_cpu_seconds=child_cpu[1],
             bound_steps=ours.bound_steps, longer_run_bound_steps=longer.bound_steps,
             load_average=[round(x, 2) for x in os.getloadavg()])
        emit(f"zip_k{k}_proven_gap", round(100 * ours.gap, 2), "%", 5.0,
             lower_bound=ours.lower_bound, best_bound=bound,
             gap_best_known_to_best_bound=round(100 * (1 - bound / best), 2),
             balanced=ours.balanced)


def county_like(n, seed, sigma=0.7):
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    grid = np.array([(i, j) for i in range(side) for j in range(side)][:n], float)
    xy = grid * 30 + rng.uniform(-9, 9, (n, 2))
    weights = np.exp(rng.normal(0, sigma, n)) * 1000
    return xy, weights, delaunay_pairs(xy)


def counties(seconds=20.0, seeds=range(10), k=10, tau=0.02):
    from salesplan.engines.alignment import AlignmentInfeasible

    found = proved = unknown = 0
    for seed in seeds:
        xy, weights, pairs = county_like(100, seed)
        problem = AlignmentProblem(coordinates=xy, weights=weights, k=k, tau=tau,
                                   adjacency=pairs, geographic=False)
        try:
            result = optimise(problem, AlignmentOptions(time_limit=seconds, seed=seed))
            found += int(result.balanced and bool(result.contiguous.all()))
        except AlignmentInfeasible as error:
            proved += int(error.constraint != "time")
            unknown += int(error.constraint == "time")
    total = len(list(seeds))
    emit("counties_balanced_contiguous_plans", found, "instances", total - proved,
         instances=total, proved_impossible=proved, gave_up=unknown, k=k, tau=tau,
         seconds_each=seconds, load_average=[round(x, 2) for x in os.getloadavg()])


if __name__ == "__main__":
    wanted = sys.argv[1:] or ["correctness", "scale", "peer"]
    for name in wanted:
        globals()[name]()
