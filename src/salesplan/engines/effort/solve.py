"""Exact solution of the effort allocation problem.

1. Per unit, the upper concave hull of its allowed (hours, contribution) points. Marginal
   analysis on the hull segments, steepest first, per capacity group, solves the LP
   relaxation of the multiple-choice knapsack exactly (Sinha and Zoltners): it gives an
   upper bound, the critical slope λ (the value of one more hour: the capacity's shadow
   price) and, from the segments taken whole, an integer allocation.
2. When the last segment fits whole or capacity does not bind, that allocation meets the
   bound and is optimal. This is the case for concave curves whenever the LP is integral.
3. Otherwise at most one unit per group is fractional. The Lagrangian bound
   UB(λ) + (v[j,l] − λh[j,l]) − max_l'(v[j,l'] − λh[j,l']) bounds every solution that puts
   unit j at level l; levels whose bound cannot beat the integer allocation are dropped.
   The few units left with a choice (the core) go to a MILP (HiGHS) with the rest fixed.
   Non-concave (S-shaped) curves take the same path: the hull gives the LP bound all the
   same, and the MILP on the core settles the integer problem.
"""

import itertools
from dataclasses import dataclass

import highspy
import numpy as np

from .problem import EffortProblem

TOL = 1e-9


@dataclass
class EffortSolution:
    """The chosen level per unit and what it is worth."""

    level: np.ndarray
    objective: float
    group_objective: np.ndarray
    hours_used: np.ndarray
    shadow_price: np.ndarray  # contribution of one more hour per group (LP dual)
    lp_bound: float
    core_units: int = 0  # units the MILP decided (0: marginal analysis was exact)
    groups_with_core: int = 0
    core_solver: str = ""  # dynamic programming (hours on a grid) or MILP

    @property
    def method(self) -> str:
        if not self.core_units:
            return "marginal analysis (exact: the LP relaxation was integral)"
        return (f"marginal analysis, then {self.core_solver} on {self.core_units} core "
                f"units in {self.groups_with_core} groups")


def objective_of(problem: EffortProblem, level: np.ndarray) -> float:
    rows = np.arange(problem.units)
    return float(problem.value[rows, np.asarray(level)].sum())


def _upper_hulls(h: np.ndarray, v: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """Per unit, the allowed levels on the upper concave hull, left to right (all units at
    once: a monotone chain vectorised over units)."""
    n, levels = h.shape
    rows = np.arange(n)
    stack = np.zeros((n, levels), dtype=np.int64)
    top = np.zeros(n, dtype=np.int64)
    if _concave_suffixes(h, v, allowed):
        # every allowed level is on the hull already (the usual case for concave curves)
        first = np.argmax(allowed, axis=1)
        top = levels - first
        stack = np.minimum(first[:, None] + np.arange(levels)[None, :], levels - 1)
        return stack, top
    for k in range(levels):
        active = allowed[:, k]
        x3, y3 = h[:, k], v[:, k]
        for _ in range(levels):
            can = active & (top >= 2)
            if not can.any():
                break
            i1 = stack[rows, np.maximum(top - 2, 0)]
            i2 = stack[rows, np.maximum(top - 1, 0)]
            x1, y1, x2, y2 = h[rows, i1], v[rows, i1], h[rows, i2], v[rows, i2]
            # the middle point lies on or under the chord from the first to the new point
            lhs = (y2 - y1) * (x3 - x1)
            rhs = (y3 - y1) * (x2 - x1)
            pop = can & (lhs <= rhs + TOL * (np.abs(lhs) + np.abs(rhs) + 1.0))
            if not pop.any():
                break
            top[pop] -= 1
        stack[rows[active], top[active]] = k
        top[active] += 1
    return stack, top


def _concave_suffixes(h: np.ndarray, v: np.ndarray, allowed: np.ndarray) -> bool:
    """Are the allowed levels of every unit a run to the top level along which the
    contribution per hour falls (a concave discrete curve)?"""
    if h.shape[1] < 3:
        return bool(np.all(allowed[:, -1]) and np.all(np.diff(allowed.astype(np.int8), axis=1)
                                                        >= 0))
    if not np.all(np.diff(allowed.astype(np.int8), axis=1) >= 0):
        return False
    slopes = np.diff(v, axis=1) / np.diff(h, axis=1)
    steeper = slopes[:, 1:] > slopes[:, :-1] + TOL * (1 + np.abs(slopes[:, :-1]))
    # only slopes between allowed levels matter
    steeper &= allowed[:, 1:-1]
    return not bool(steeper.any())


@dataclass
class _Relaxation:
    level: np.ndarray  # integer allocation from whole segments
    incumbent: np.ndarray  # per group
    bound: np.ndarray  # per group (LP)
    slope: np.ndarray  # per group critical slope (0 when capacity does not bind)


def _relax(problem: EffortProblem) -> _Relaxation:
    h, v, allowed, group = problem.hours, problem.value, problem.mask, problem.group
    n, groups = problem.units, problem.groups
    rows = np.arange(n)
    stack, top = _upper_hulls(h, v, allowed)
    base = stack[:, 0]
    position = np.arange(1, h.shape[1])
    valid = position[None, :] < top[:, None]
    unit, pos = np.nonzero(valid)
    pos = pos + 1  # hull positions 1.. end a segment
    to_level = stack[unit, pos]
    from_level = stack[unit, pos - 1]
    dh = h[unit, to_level] - h[unit, from_level]
    dv = v[unit, to_level] - v[unit, from_level]
    slope = dv / dh
    keep = slope > TOL
    unit, to_level, dh, dv, slope = unit[keep], to_level[keep], dh[keep], dv[keep], slope[keep]
    seg_group = group[unit]
    order = np.lexsort((-slope, seg_group))
    unit, to_level, dh, dv, slope, seg_group = (a[order] for a in (unit, to_level, dh, dv,
                                                                   slope, seg_group))
    base_hours = np.bincount(group, weights=h[rows, base], minlength=groups)
    slack = problem.capacity - base_hours
    cum = np.cumsum(dh)
    starts = np.searchsorted(seg_group, np.arange(groups))
    offset = np.concatenate([[0.0], cum])[starts]
    within = cum - offset[seg_group]
    fits = within <= slack[seg_group] + TOL * (1 + np.abs(slack[seg_group]))
    level = base.copy()
    # segments of a unit come steepest first, so the last one taken is the highest level
    level[unit[fits]] = to_level[fits]
    bound = np.bincount(group, weights=v[rows, level], minlength=groups)
    left = slack - np.bincount(seg_group[fits], weights=dh[fits], minlength=groups)
    _fill_left_over(problem, stack, top, level, left)
    incumbent = np.bincount(group, weights=v[rows, level], minlength=groups)
    critical = np.zeros(groups)
    over = np.flatnonzero(~fits)
    if over.size:
        first = over[np.unique(seg_group[over], return_index=True)[1]]
        g = seg_group[first]
        before = within[first] - dh[first]
        fraction = np.clip((slack[g] - before) / dh[first], 0.0, 1.0)
        bound[g] += fraction * dv[first]
        critical[g] = slope[first]
    return _Relaxation(level, incumbent, bound, critical)


def _fill_left_over(problem: EffortProblem, stack: np.ndarray, top: np.ndarray,
                    level: np.ndarray, left: np.ndarray, rounds: int = 64) -> None:
    """Improve the integer allocation: while hours are left in a group, move the unit
    whose next hull step fits and gains the most contribution (vectorised by rounds)."""
    h, v, group = problem.hours, problem.value, problem.group
    n = problem.units
    rows = np.arange(n)
    # position of each unit's current level on its hull
    position = np.argmax(stack == level[:, None], axis=1)
    for _ in range(rounds):
        has_next = position + 1 < top
        nxt = stack[rows, np.minimum(position + 1, stack.shape[1] - 1)]
        dh = h[rows, nxt] - h[rows, level]
        dv = v[rows, nxt] - v[rows, level]
        ok = has_next & (dv > TOL) & (dh <= left[group] + TOL)
        if not ok.any():
            return
        candidates = np.flatnonzero(ok)
        best = np.full(problem.groups, -np.inf)
        np.maximum.at(best, group[candidates], dv[candidates])
        winners = candidates[dv[candidates] >= best[group[candidates]]]
        # one winner per group
        _, first = np.unique(group[winners], return_index=True)
        winners = winners[first]
        level[winners] = nxt[winners]
        position[winners] += 1
        left[group[winners]] -= dh[winners]


def solve(problem: EffortProblem, *, time_limit: float = 60.0) -> EffortSolution:
    """The allocation that maximises total contribution within every group's capacity."""
    relax = _relax(problem)
    level = relax.level.copy()
    gap = relax.bound - relax.incumbent
    open_groups = np.flatnonzero(gap > TOL * (1 + np.abs(relax.bound)))
    core_units, core_solver = 0, ""
    if open_groups.size:
        core_units, core_solver = _settle_core(problem, relax, open_groups, level, time_limit)
    rows = np.arange(problem.units)
    group_objective = np.bincount(problem.group, weights=problem.value[rows, level],
                                  minlength=problem.groups)
    hours_used = np.bincount(problem.group, weights=problem.hours[rows, level],
                             minlength=problem.groups)
    return EffortSolution(level, float(group_objective.sum()), group_objective, hours_used,
                          relax.slope, float(relax.bound.sum()), core_units,
                          int(open_groups.size) if core_units else 0, core_solver)


def _settle_core(problem: EffortProblem, relax: _Relaxation, open_groups: np.ndarray,
                 level: np.ndarray, time_limit: float) -> tuple[int, str]:
    """Reduce the open groups by Lagrangian bounds and solve their cores in one MILP.
    Writes the better levels into `level`; returns the number of core units."""
    h, v, group = problem.hours, problem.value, problem.group
    in_open = np.isin(group, open_groups)
    units = np.flatnonzero(in_open)
    g = group[units]
    lam = relax.slope[g][:, None]
    lagrange = np.where(problem.mask[units], v[units] - lam * h[units], -np.inf)
    reduced = lagrange - lagrange.max(axis=1, keepdims=True)
    margin = relax.incumbent[g] - relax.bound[g]  # ≤ 0: how much a level may lose
    tol = TOL * (1 + np.abs(relax.bound[g]))
    kept = reduced > (margin - tol)[:, None]
    choices = kept.sum(axis=1)
    fixed_level = np.argmax(kept, axis=1)
    core = choices > 1
    core_units = units[core]
    rows = np.arange(len(units))
    fixed_hours = np.bincount(g[~core], weights=h[units[~core], fixed_level[~core]],
                              minlength=problem.groups)
    fixed_value = np.bincount(g[~core], weights=v[units[~core], fixed_level[~core]],
                              minlength=problem.groups)
    candidate = level.copy()
    candidate[units[~core]] = fixed_level[~core]
    solver = "dynamic programming"
    if core_units.size:
        grid = _hour_grid(problem.hours[core_units])
        if grid is None or not _core_dp(problem, core_units, kept[core], fixed_hours,
                                        candidate, grid):
            _core_milp(problem, core_units, kept[core], fixed_hours, candidate, time_limit)
            solver = "MILP"
    value = np.bincount(group, weights=v[np.arange(problem.units), candidate],
                        minlength=problem.groups)
    hours = np.bincount(group, weights=h[np.arange(problem.units), candidate],
                        minlength=problem.groups)
    del rows, fixed_value
    feasible = hours <= problem.capacity * (1 + 1e-12) + 1e-9
    better = open_groups[(value[open_groups] > relax.incumbent[open_groups])
                         & feasible[open_groups]]
    take = np.isin(group, better)
    level[take] = candidate[take]
    return int(core_units.size), solver


GRIDS = (1.0, 0.5, 0.25, 1 / 12)  # hours, half hours, quarter hours, five minutes
MAX_STATES = 50_000


def _hour_grid(hours: np.ndarray) -> float | None:
    """The coarsest grid every hour figure lies on (then the core is solved by dynamic
    programming over hours); None if there is none (then by MILP)."""
    for grid in GRIDS:
        steps = hours / grid
        if np.all(np.abs(steps - np.round(steps)) <= 1e-6):
            return grid
    return None


def _core_dp(problem: EffortProblem, core_units: np.ndarray, kept: np.ndarray,
             fixed_hours: np.ndarray, candidate: np.ndarray, grid: float) -> bool:
    """Exact dynamic programme over hours (on the grid) for each group's core: every core
    unit picks one kept level, and the core's hours fit what the fixed units leave.
    Returns False (changing nothing) when a group's state space is too large."""
    groups = problem.group[core_units]
    order = np.argsort(groups, kind="stable")
    steps_all = np.round(problem.hours[core_units] / grid).astype(np.int64)
    work = []
    for members in np.split(order, np.flatnonzero(np.diff(groups[order])) + 1):
        units, options, steps = core_units[members], kept[members], steps_all[members]
        low = np.where(options, steps, np.iinfo(np.int64).max).min(axis=1)
        g = int(problem.group[units[0]])
        room = int(np.floor((problem.capacity[g] - fixed_hours[g]) / grid + 1e-6)) - int(low.sum())
        if room < 0:
            continue  # the core cannot even be covered: nothing beats the incumbent
        extra = steps - low[:, None]
        width = min(room, int(np.where(options, extra, 0).max(axis=1).sum()))
        if width >= MAX_STATES:
            return False
        work.append((units, options, extra, width))
    for units, options, extra, width in work:
        values = problem.value[units]
        best = np.zeros(width + 1)
        choice = np.zeros((len(units), width + 1), dtype=np.int16)
        for i in range(len(units)):
            levels = np.flatnonzero(options[i] & (extra[i] <= width))
            first = levels[0]  # the lowest kept level needs no extra hours
            new = best + values[i, first]
            row = choice[i]
            row[:] = first
            for lv in levels[1:]:
                shift = int(extra[i, lv])
                trial = best[:width + 1 - shift] + values[i, lv]
                better = trial > new[shift:]
                new[shift:][better] = trial[better]
                row[shift:][better] = lv
            best = new
        w = width
        for i in range(len(units) - 1, -1, -1):
            lv = int(choice[i, w])
            candidate[units[i]] = lv
            w -= int(extra[i, lv])
    return True


def _core_milp(problem: EffortProblem, core_units: np.ndarray, kept: np.ndarray,
               fixed_hours: np.ndarray, candidate: np.ndarray, time_limit: float) -> None:
    unit_index, level_index = np.nonzero(kept)
    units = core_units[unit_index]
    groups_used, group_row = np.unique(problem.group[units], return_inverse=True)
    ncore = len(core_units)
    cost = problem.value[units, level_index]
    hours = problem.hours[units, level_index]
    rows_lower = np.concatenate([np.ones(ncore), np.full(len(groups_used), -highspy.kHighsInf)])
    rows_upper = np.concatenate([np.ones(ncore),
                                 problem.capacity[groups_used] - fixed_hours[groups_used]])
    col_rows = np.stack([unit_index, ncore + group_row], axis=1)
    col_vals = np.stack([np.ones_like(hours), hours], axis=1)
    x = _run_milp(cost, rows_lower, rows_upper, col_rows, col_vals, time_limit)
    if x is None:
        return
    chosen = x > 0.5
    candidate[units[chosen]] = level_index[chosen]


def _run_milp(cost, rows_lower, rows_upper, col_rows, col_vals, time_limit) -> np.ndarray | None:
    ncols = len(cost)
    lp = highspy.HighsLp()
    lp.num_col_ = ncols
    lp.num_row_ = len(rows_lower)
    lp.col_cost_ = np.asarray(cost, float)
    lp.col_lower_ = np.zeros(ncols)
    lp.col_upper_ = np.ones(ncols)
    lp.row_lower_ = np.asarray(rows_lower, float)
    lp.row_upper_ = np.asarray(rows_upper, float)
    lp.sense_ = highspy.ObjSense.kMaximize
    per_col = col_rows.shape[1]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, ncols * per_col + 1, per_col, dtype=np.int32)
    lp.a_matrix_.index_ = col_rows.reshape(-1).astype(np.int32)
    lp.a_matrix_.value_ = col_vals.reshape(-1).astype(float)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * ncols
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("mip_rel_gap", 0.0)
    solver.setOptionValue("mip_abs_gap", 1e-7)
    solver.setOptionValue("random_seed", 0)
    solver.setOptionValue("time_limit", float(time_limit))
    solver.passModel(lp)
    solver.run()
    if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.asarray(solver.getSolution().col_value)


def solve_milp(problem: EffortProblem, *, time_limit: float = 60.0) -> tuple[np.ndarray, float]:
    """The whole problem as one MILP (for checking `solve`; slow on large instances)."""
    units, levels = np.nonzero(problem.mask)
    n = problem.units
    cost = problem.value[units, levels]
    hours = problem.hours[units, levels]
    lower = np.concatenate([np.ones(n), np.full(problem.groups, -highspy.kHighsInf)])
    upper = np.concatenate([np.ones(n), problem.capacity])
    col_rows = np.stack([units, n + problem.group[units]], axis=1)
    col_vals = np.stack([np.ones_like(hours), hours], axis=1)
    x = _run_milp(cost, lower, upper, col_rows, col_vals, time_limit)
    if x is None:
        raise RuntimeError("The MILP found no optimal solution in its time limit.")
    level = np.zeros(n, dtype=np.int64)
    chosen = x > 0.5
    level[units[chosen]] = levels[chosen]
    return level, objective_of(problem, level)


def brute_force(problem: EffortProblem) -> float:
    """The optimum by trying every combination (tiny instances only)."""
    total = 0.0
    for g in range(problem.groups):
        members = np.flatnonzero(problem.group == g)
        options = [np.flatnonzero(problem.mask[j]) for j in members]
        best = -np.inf
        for combo in itertools.product(*options):
            hours = sum(problem.hours[j, lv] for j, lv in zip(members, combo, strict=True))
            if hours <= problem.capacity[g] + 1e-9:
                best = max(best, sum(problem.value[j, lv]
                                     for j, lv in zip(members, combo, strict=True)))
        total += best if members.size else 0.0
    return float(total)
