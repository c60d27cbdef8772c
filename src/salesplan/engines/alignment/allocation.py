"""Balanced allocation of units to fixed centres: a transportation LP solved by HiGHS.

With centres fixed, the best balanced assignment is a transportation problem;
its LP has at most one split unit per active balance row, so rounding each unit
to its largest share and a short repair give a near-optimal integer assignment.
Only arcs to each unit's few nearest centres (plus its present and current
territories) enter the LP, which keeps 40,000 units × 200 territories small.
"""

from __future__ import annotations

import highspy
import numpy as np
from scipy.spatial import cKDTree

from .instance import Instance


def candidate_arcs(
    inst: Instance, centre_xy: np.ndarray, extra: list[np.ndarray | None], nearest: int
) -> tuple[np.ndarray, np.ndarray]:
    """(unit, territory) arcs: the ``nearest`` centres of each unit plus ``extra`` territories."""
    q = min(nearest, inst.k)
    _, near = cKDTree(centre_xy).query(inst.xy, k=q)
    near = near.reshape(inst.n, q)
    columns = [near] + [e.reshape(-1, 1) for e in extra if e is not None]
    terr = np.concatenate(columns, axis=1)
    units = np.repeat(np.arange(inst.n), terr.shape[1])
    terr = terr.reshape(-1)
    keep = terr >= 0
    units, terr = units[keep], terr[keep]
    fixed = inst.locked.copy()
    fixed_units = np.flatnonzero(fixed >= 0)
    free = fixed[units] < 0
    units = np.concatenate([units[free], fixed_units])
    terr = np.concatenate([terr[free], fixed[fixed_units]])
    arcs = np.unique(units * inst.k + terr)
    return arcs // inst.k, arcs % inst.k


def arc_costs(inst: Instance, centre_xy: np.ndarray, units: np.ndarray, terr: np.ndarray):
    cost = inst.cost_to_points(units, centre_xy[terr])
    if inst.move_penalty > 0 and inst.current is not None:
        moved = (inst.current[units] >= 0) & (inst.current[units] != terr)
        cost = cost + inst.move_penalty * inst.weights[units, 0] * moved
    return cost


def allocate(
    inst: Instance,
    centre_xy: np.ndarray,
    fixed: np.ndarray,
    previous: np.ndarray | None,
    nearest: int = 8,
    time_limit: float = 60.0,
) -> np.ndarray:
    """Round the LP-optimal balanced allocation to centres; ``fixed`` pins units (e.g. centres)."""
    extra = [previous, inst.current if inst.current is not None else None]
    saved = inst.locked
    inst.locked = np.where(saved >= 0, saved, fixed)
    try:
        units, terr = candidate_arcs(inst, centre_xy, extra, nearest)
    finally:
        inst.locked = saved
    cost = arc_costs(inst, centre_xy, units, terr)
    x = _solve_lp(inst, units, terr, cost, time_limit)
    order = np.lexsort((-x, units))
    first = np.ones(len(order), dtype=bool)
    first[1:] = units[order][1:] != units[order][:-1]
    assignment = np.empty(inst.n, dtype=np.int64)
    assignment[units[order][first]] = terr[order][first]
    return assignment


def _solve_lp(inst: Instance, units, terr, cost, time_limit: float) -> np.ndarray:
    n, k = inst.n, inst.k
    m = inst.weights.shape[1]
    arcs = len(units)
    # Elastic balance rows: a violation costs far more than any reassignment.
    big = 1e3 * (float(cost.sum()) / k + 1.0)
    keep_row = inst.min_keep_share is not None and inst.current is not None
    rows_per_arc = 1 + m + (1 if keep_row else 0)
    idx = np.empty((arcs, rows_per_arc), dtype=np.int32)
    val = np.empty((arcs, rows_per_arc))
    idx[:, 0] = units
    val[:, 0] = 1.0
    for j in range(m):
        idx[:, 1 + j] = n + terr * m + j
        val[:, 1 + j] = inst.weights[units, j]
    if keep_row:
        assert inst.current is not None  # noqa: S101 - keep_row implies it
        idx[:, -1] = n + k * m
        val[:, -1] = inst.weights[units, 0] * (inst.current[units] == terr)
    slack_rows = np.repeat(n + np.arange(k * m), 2)
    slack_vals = np.tile(np.array([1.0, -1.0]), k * m) * np.repeat(np.tile(inst.mean, k), 2)
    if keep_row:
        slack_rows = np.append(slack_rows, n + k * m)
        slack_vals = np.append(slack_vals, inst.weights[:, 0].sum())
    slacks = len(slack_rows)
    lp = highspy.HighsLp()
    ncols = arcs + slacks
    lp.num_col_ = ncols
    lp.num_row_ = n + k * m + (1 if keep_row else 0)
    lp.col_cost_ = np.concatenate([cost, np.full(slacks, big)])
    lp.col_lower_ = np.zeros(ncols)
    lp.col_upper_ = np.concatenate([np.ones(arcs), np.full(slacks, highspy.kHighsInf)])
    row_lower = [np.ones(n), np.tile(inst.lower, k)]
    row_upper = [np.ones(n), np.tile(inst.upper, k)]
    if keep_row:
        row_lower.append(np.array([inst.min_keep_share * inst.weights[:, 0].sum()]))
        row_upper.append(np.array([highspy.kHighsInf]))
    lp.row_lower_ = np.concatenate(row_lower)
    lp.row_upper_ = np.concatenate(row_upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.concatenate(
        [np.arange(arcs + 1) * rows_per_arc, arcs * rows_per_arc + np.arange(1, slacks + 1)]
    ).astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate([idx.reshape(-1), slack_rows]).astype(np.int32)
    lp.a_matrix_.value_ = np.concatenate([val.reshape(-1), slack_vals])
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(1.0, float(time_limit)))
    h.passModel(lp)
    h.run()
    x = np.asarray(h.getSolution().col_value)
    if x.size < arcs:  # no solution at all (time limit before a basis): nearest arc wins
        return -cost
    return x[:arcs]
