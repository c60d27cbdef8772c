"""``optimise``: check the problem, run the heuristic, the exact MILP when small, and bound."""

from __future__ import annotations

import math
import time

import numpy as np

from .allocation import arc_costs
from .bounds import DENSE_MAX_UNITS, isolation_bound, lagrangian_bound, lp_multipliers
from .concurrent_bound import CONCURRENT_MIN_UNITS, ConcurrentBound, processors
from .contiguity import contiguity_status
from .exact import solve_exact
from .heuristic import (
    Alignment,
    alternate,
    feasible,
    kept_weight,
    objective,
    recentre,
    totals_of,
)
from .instance import BALANCE_TOLERANCE, Instance, build_instance
from .model import (
    TIMED_BOUND_ITERATIONS,
    AlignmentInfeasible,
    AlignmentOptions,
    AlignmentProblem,
    AlignmentResult,
    WorkBudget,
)
from .polish import polish_by_windows
from .regions import REGION_SIZE, REGION_SIZES, region_search
from .repair import repair


def optimise(problem: AlignmentProblem, options: AlignmentOptions | None = None) -> AlignmentResult:
    """Align the units into balanced, compact (and contiguous) territories.

    Raises AlignmentInfeasible when a constraint provably cannot be met, or when
    no alignment meeting every constraint was found within the budget (or time limit).
    """
    options = options or AlignmentOptions()
    started = time.monotonic()
    inst = build_instance(problem)
    # The bound's child process, if one is started, ends with the run whatever happens.
    with ConcurrentBound() as concurrent:
        return _solve(inst, options, started, concurrent)


def _solve(inst: Instance, options: AlignmentOptions, started: float,
           concurrent: ConcurrentBound) -> AlignmentResult:
    budget = options.budget
    cap = math.inf if options.time_limit is None else options.time_limit
    deadline = started + cap
    report = options.progress or (lambda fraction, message: None)
    report(0.05, f"checked {inst.n} units into {inst.k} territories")
    use_exact = options.method == "exact" or (
        options.method == "auto" and inst.n <= options.exact_max_units
    )
    messages: list[str] = []
    # Without the exact model the rest of the time goes to proving the lower bound, whose
    # subgradient steps each scan every unit's neighbourhood (seconds at 40,000 units).
    heuristic_deadline = started + cap * (0.3 if use_exact else 0.7)
    # The starts get under half of the search's time: with many territories the region
    # re-solves after them improve the best start more than further starts would. With
    # more territories than two of the largest regions they get only a tenth (ZIP codes
    # of two states, 60 s runs, three seeds: at K = 50 the regions of 12 then have time
    # to work, the plans 0.0–2.2% above the best known instead of 0.4–3.8% with a fifth;
    # at K = 20 a fifth did better, 0.17–0.26% against 0.57–0.80%; bench/README.md).
    many = inst.k > 2 * max(REGION_SIZES)
    starts_deadline = started + cap * (0.3 if use_exact else 0.1 if many else 0.2)
    optima, iterations = alternate(inst, starts_deadline, options.progress, options.seed,
                                   patience=budget.patience, max_starts=budget.starts)
    al = optima[0]
    if _wants_concurrent_bound(options, inst, use_exact) and feasible(inst, al.assignment):
        _start_concurrent_bound(concurrent, inst, al, deadline, options)
    if concurrent.running:
        # The bound runs beside the search: the search may keep the main process until
        # shortly before the deadline (the remote places' bound takes the rest).
        heuristic_deadline = started + cap * 0.9
    repair = _Repair(inst, budget.repair_steps, options.seed)
    if not feasible(inst, al.assignment):
        # Tight bands and contiguity: the starts' greedy repair gave up; the tabu repair
        # may use the heuristic's time and the exact model's share beyond it.
        report(0.6, "repairing balance while keeping territories in one piece")
        al, used = repair.run(al, started + cap * (0.6 if use_exact else 0.8))
        iterations += used
    if feasible(inst, al.assignment):
        repaired = al is not optima[0]
        # A repaired alignment is improved alone, with a share of the time that is left.
        until = (max(heuristic_deadline, time.monotonic() + (deadline - time.monotonic()) * 0.3)
                 if repaired else heuristic_deadline)
        candidates = [al] if repaired else optima
        if inst.k > REGION_SIZE:
            report(0.7, "re-solving regions of neighbouring territories")
            # The window polish after the regions gained under 0.01% in 8 s at K = 20 and
            # K = 50 (ZIP codes of two states): the regions take nearly all of the time.
            regions_until = time.monotonic() + (until - time.monotonic()) * 0.95
            best, solved = region_search(inst, al, regions_until, starts=budget.region_starts,
                                         max_solves=budget.region_solves, seed=options.seed)
            iterations += solved
            candidates = [best]
            concurrent.improve(objective(inst, best))
        report(0.7, "re-solving neighbouring territories exactly")
        al, solved = _polish_best(inst, candidates, until, budget, options.seed)
        iterations += solved
        concurrent.improve(objective(inst, al))
    method, status = "heuristic", "feasible"
    bound = 0.0
    if not feasible(inst, al.assignment):
        status = "infeasible"
    if use_exact:
        report(0.4, "solving the exact model")
        # Without a balanced start the exact model leaves the repair the last part of the
        # time, so a run whose MILP finds nothing still ends with the repair's answer.
        until = deadline if status == "feasible" else started + cap * 0.85
        exact = solve_exact(inst, al if status == "feasible" else None, until,
                            options.mip_rel_gap, budget.exact_nodes, options.seed)
        bound = max(bound, exact.bound)
        if exact.alignment is not None and (
            status != "feasible" or exact.objective <= objective(inst, al) + 1e-9
        ):
            al, method = exact.alignment, "exact"
            status = "optimal" if exact.optimal else "feasible"
        elif exact.optimal:
            status = "optimal"
        iterations += exact.rounds
    if status == "infeasible":
        # Never give up while time and repair steps remain.
        report(0.8, "repairing balance while keeping territories in one piece")
        al, used = repair.run(al, deadline)
        iterations += used
        if not feasible(inst, al.assignment):
            raise _why_not(inst, al)
        status = "feasible"
        messages.append("the search found no balanced alignment; the repair did")
    # The objective reported is the returned plan's: its centres are the best units for
    # its territories (a time-limited exact run may stop with a centre that is not).
    al = _best_centres(inst, al)
    obj = objective(inst, al)
    bound_steps = 0
    if status != "optimal":
        report(0.8, "proving a lower bound")
        found, bound_steps = _prove_bound(inst, al, obj, deadline, options, concurrent)
        bound = max(bound, found)
    report(1.0, "done")
    return _result(inst, al, obj, min(bound, obj), method, status, iterations, started, messages,
                   bound_steps)


def _wants_concurrent_bound(options: AlignmentOptions, inst: Instance, use_exact: bool) -> bool:
    """Whether the bound runs in a second process beside the search (``concurrent_bound``).

    Left to itself (None): only under a time limit, where the second core's time would
    otherwise go unused and the result depends on the machine's speed anyway; without
    one (tests, reproducible runs) the run stays in one process. Only from
    ``CONCURRENT_MIN_UNITS`` units (the child's start-up costs about a processor second)
    and with a second processor; never beside the exact model, which proves its own bound.
    """
    if use_exact or options.concurrent_bound is False:
        return False
    if options.concurrent_bound:
        return True
    return (options.time_limit is not None and inst.n >= CONCURRENT_MIN_UNITS
            and processors() >= 2)


def _start_concurrent_bound(concurrent: ConcurrentBound, inst: Instance, al: Alignment,
                            deadline: float, options: AlignmentOptions) -> None:
    """Start the bound from the first plan; under a time limit it follows the search's
    better plans (as its target), without one it keeps this plan's cost and so its
    result depends only on the plan and the step budget."""
    unit_costs = arc_costs(inst, al.centre_xy, np.arange(inst.n), al.assignment)
    concurrent.start(inst, objective(inst, al), unit_costs, deadline,
                     _bound_steps(options), follow=options.time_limit is not None)


def _bound_steps(options: AlignmentOptions) -> int:
    steps = options.budget.bound_iterations
    if options.time_limit is not None:
        steps = max(steps, TIMED_BOUND_ITERATIONS)
    return steps


def _prove_bound(inst: Instance, al: Alignment, obj: float, deadline: float,
                 options: AlignmentOptions, concurrent: ConcurrentBound) -> tuple[float, int]:
    """The better of two bounds: whole territories in remote places (cheap, decisive when
    far-off units dominate the cost) and the Lagrangian (LP) bound, with its steps.

    The Lagrangian comes from the child that ran beside the search when there is one;
    when it failed (or there is none) the main process steps it in the time left, from
    the final plan. Up to a few thousand places the Lagrangian is exact over every unit
    and gains with every step: the remote places get less of the time there.
    """
    concurrent.improve(obj)
    remote_share = 0.5 if concurrent.running else 0.15 if inst.n <= DENSE_MAX_UNITS else 0.4
    share = (_bound_deadline(deadline) - time.monotonic()) * remote_share
    bound = isolation_bound(inst, time.monotonic() + share)
    if concurrent.running:
        found, steps, finished = concurrent.result(deadline)
        if finished:
            return max(bound, found), steps
        bound = max(bound, found)  # every value the child reported is proven
    unit_costs = arc_costs(inst, al.centre_xy, np.arange(inst.n), al.assignment)
    start = None
    if inst.n <= LP_START_MAX_UNITS:
        share = (_bound_deadline(deadline) - time.monotonic()) * 0.6
        start = lp_multipliers(inst, time.monotonic() + share, options.budget.bound_lp_iterations)
    taken = [0]

    def count(best: float, steps: int) -> None:
        taken[0] = steps

    found = lagrangian_bound(inst, obj, unit_costs, _bound_deadline(deadline),
                             max_iterations=_bound_steps(options), start=start, on_step=count)
    return max(bound, found), taken[0]


class _Repair:
    """The tabu balance repair, run in attempts from the least violating alignment until
    it is feasible, the steps of the budget are spent or the deadline passes."""

    def __init__(self, inst: Instance, steps: int, seed: int):
        self.inst, self.left, self.seed, self.attempt = inst, steps, seed, 0

    def run(self, al: Alignment, deadline: float) -> tuple[Alignment, int]:
        used = 0
        per_attempt = max(500, 20 * self.inst.n)
        while self.left > 0 and time.monotonic() < deadline:
            self.attempt += 1
            found, steps = repair(self.inst, al, deadline, min(self.left, per_attempt),
                                  self.seed + self.attempt)
            self.left -= max(steps, 1)
            used += steps
            al = found
            if feasible(self.inst, al.assignment):
                break
        return al, used


def _best_centres(inst: Instance, al: Alignment) -> Alignment:
    """The alignment with each free territory's best centre unit, if that costs less."""
    moved = recentre(inst, al.assignment.copy())
    return moved if objective(inst, moved) < objective(inst, al) else al


def _polish_best(inst: Instance, optima: list[Alignment], deadline: float, budget: WorkBudget,
                 seed: int):
    """Polish each of the best local optima in turn; the best result wins.

    Exact re-solves of neighbouring territories take the last moves that the alternation
    cannot (a centre shifting with the units that follow it). The runner-up is often a
    different layout of territories whose polished form beats the polished best. Time
    and re-solves left are shared equally among the optima still to polish.
    """
    best, best_obj, solved = optima[0], objective(inst, optima[0]), 0
    for position, al in enumerate(optima):
        left = len(optima) - position
        share = (deadline - time.monotonic()) / left
        solves = (None if budget.polish_solves is None
                  else -(-(budget.polish_solves - solved) // left))  # rounded up
        if solves is not None and solves <= 0:
            continue
        polished, count = polish_by_windows(inst, al, time.monotonic() + share,
                                            max_solves=solves, nodes=budget.window_nodes,
                                            seed=seed)
        solved += count
        obj = objective(inst, polished)
        if obj < best_obj:
            best, best_obj = polished, obj
    return best, solved


# Up to this many units the LP relaxation of the exact model (n² arcs) solves in seconds
# and its duals start the Lagrangian bound at the LP bound.
LP_START_MAX_UNITS = 300


def _bound_deadline(deadline: float) -> float:
    return max(deadline, time.monotonic() + 0.5)


def _why_not(inst: Instance, al: Alignment) -> AlignmentInfeasible:
    """Time or work ran out with no plan meeting every constraint and no proof that none
    exists: say how close the nearest plan came and what to change."""
    totals = totals_of(inst, al.assignment)
    dev = totals / inst.mean - 1
    worst_t, worst_m = (int(x) for x in np.unravel_index(np.argmax(np.abs(dev)), dev.shape))
    off = float(dev[worst_t, worst_m])
    broken = (0 if inst.graph is None
              else int((~contiguity_status(inst.graph, al.assignment, inst.k)).sum()))
    wider = math.ceil(1000 * max(abs(off), float(inst.tau.max())) - 1e-6) / 1000
    tau = inst.tau.copy()

    def explain(measure_name, unit_name, territory_name) -> str:
        side = "above" if off > 0 else "below"
        text = ("No plan meeting every constraint was found in the time and work allowed, "
                "though none is proved impossible. The closest has "
                f"{territory_name(worst_t)} {abs(off):.1%} {side} the fair share of "
                f"{measure_name(worst_m)} (±{tau[worst_m]:.1%} allowed)")
        if broken:
            text += f", and {broken} territories in more than one piece"
        fixes = [f"allow a wider balance, e.g. ±{100 * wider:g}%", "give it more time"]
        if inst.graph is not None:
            fixes.append("let territories be in more than one piece")
        return f"{text}. Try again: {', '.join(fixes[:-1])} or {fixes[-1]}."

    error = AlignmentInfeasible("time", "", explain=explain,
                                wider_tau=wider if wider > tau.max() else None)
    error.args = (error.describe(),)
    return error


def _result(inst, al, obj, bound, method, status, iterations, started, messages,
            bound_steps=0):
    totals = totals_of(inst, al.assignment)
    deviation = totals / inst.mean - 1
    balanced = bool(np.all(np.abs(deviation) <= inst.tau + BALANCE_TOLERANCE))
    contiguous = (
        contiguity_status(inst.graph, al.assignment, inst.k) if inst.graph is not None else None
    )
    kept = None
    moved = 0
    if inst.current is not None:
        kept = kept_weight(inst, al.assignment) / inst.weights[:, 0].sum()
        moved = int(np.sum((inst.current >= 0) & (inst.current != al.assignment)))
    gap = (obj - bound) / obj if obj > 0 else 0.0
    return AlignmentResult(
        assignment=al.assignment.copy(),
        centres=inst.to_output_coordinates(al.centre_xy),
        centre_units=al.centre_units.copy(),
        totals=totals,
        mean=inst.mean.copy(),
        deviation=deviation,
        balanced=balanced,
        objective=obj,
        lower_bound=bound,
        gap=max(0.0, gap),
        contiguous=contiguous,
        kept_share=kept,
        moved_units=moved,
        method=method,
        status=status,
        iterations=iterations,
        seconds=time.monotonic() - started,
        messages=messages,
        bound_steps=bound_steps,
    )
