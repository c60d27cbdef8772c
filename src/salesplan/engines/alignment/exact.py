"""Exact MILP of the Hess alignment model, solved by HiGHS.

x[i, j] = 1 when unit i is served by centre j (a unit, or a pinned point);
y[j] = 1 when unit j is a centre; z[j, t] = 1 when centre j carries territory
label t (only when locks or the current alignment make labels matter);
keep[i] ≤ [unit i stays in its current territory]. Contiguity is enforced lazily:
after each solve, every stray piece C of a territory yields the cuts
x[a, j] ≤ Σ_{v ∈ N(C)} x[v, j] (a ∈ C), and the model is solved again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse

from .contiguity import territory_pieces
from .heuristic import Alignment
from .instance import Instance


@dataclass
class ExactOutcome:
    alignment: Alignment | None
    objective: float
    bound: float
    optimal: bool
    rounds: int


class _Model:
    def __init__(self, inst: Instance):
        self.inst = inst
        n, k = inst.n, inst.k
        self.pinned = np.flatnonzero(inst.is_pinned)
        self.free = np.flatnonzero(~inst.is_pinned)
        self.centres = n if self.free.size else 0
        self.ncentres = self.centres + self.pinned.size
        locked_free = np.any((inst.locked >= 0) & ~inst.is_pinned[np.maximum(inst.locked, 0)])
        disrupt = inst.current is not None and (
            inst.min_keep_share is not None or inst.move_penalty > 0
        )
        self.labels = bool(self.free.size and (locked_free or disrupt))
        self.disrupt = disrupt
        self.x0 = 0
        self.y0 = n * self.ncentres
        self.z0 = self.y0 + self.centres
        self.keep0 = self.z0 + (self.centres * self.free.size if self.labels else 0)
        self.ncols = self.keep0 + (n if disrupt else 0)
        # Blocks of the constraint matrix and bounds, concatenated when solving.
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.nrows = 0
        del k

    def x(self, i, j):
        return self.x0 + np.asarray(i) * self.ncentres + np.asarray(j)

    def z(self, j, t_pos):
        return self.z0 + np.asarray(j) * self.free.size + np.asarray(t_pos)

    def add_rows(self, row_ids, col_ids, values, lo, hi):
        """Append rows given per-entry row offsets (0-based within this batch)."""
        row_ids = np.asarray(row_ids)
        count = int(row_ids.max()) + 1 if row_ids.size else 0
        self.rows.append(row_ids + self.nrows)
        self.cols.append(np.asarray(col_ids))
        self.vals.append(np.asarray(values, dtype=float))
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (count,)))
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (count,)))
        self.nrows += count


def _cost_matrix(inst: Instance, model: _Model) -> np.ndarray:
    points = []
    if model.centres:
        points.append(inst.xy)
    if model.pinned.size:
        points.append(inst.pinned[model.pinned])
    pts = np.concatenate(points)
    d2 = np.sum((inst.xy[:, None, :] - pts[None, :, :]) ** 2, axis=2)
    dist = d2 if inst.power == 2 else np.sqrt(d2)
    return inst.activity[:, None] * dist


def _build(inst: Instance, model: _Model):
    n, inf = inst.n, highspy.kHighsInf
    nc = model.ncentres
    cost = np.zeros(model.ncols)
    cost[: n * nc] = _cost_matrix(inst, model).reshape(-1)
    lower = np.zeros(model.ncols)
    upper = np.ones(model.ncols)
    integrality = np.zeros(model.ncols, dtype=np.int32)
    integrality[: model.z0 + (model.centres * model.free.size if model.labels else 0)] = 1
    units = np.arange(n)
    # each unit served once
    model.add_rows(np.repeat(units, nc), model.x(np.repeat(units, nc), np.tile(np.arange(nc), n)),
                   np.ones(n * nc), 1.0, 1.0)
    if model.centres:
        _centre_rows(inst, model, inf)
    _balance_rows(inst, model, inf)
    if model.labels:
        _label_rows(inst, model, inf)
    offset = _locks(inst, model, lower, upper, inf)
    if model.disrupt:
        offset += _disruption_rows(inst, model, cost, inf)
    integrality[model.keep0:] = 0
    return cost, lower, upper, integrality, offset


def _centre_rows(inst, model, inf):
    n = inst.n
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    off = (ii != jj).reshape(-1)
    pairs = np.column_stack([ii.reshape(-1)[off], jj.reshape(-1)[off]])
    r = np.repeat(np.arange(len(pairs)), 2)
    c = np.column_stack([model.x(pairs[:, 0], pairs[:, 1]), model.y0 + pairs[:, 1]]).reshape(-1)
    model.add_rows(r, c, np.tile([1.0, -1.0], len(pairs)), -inf, 0.0)  # x_ij ≤ y_j
    d = np.arange(n)
    model.add_rows(np.repeat(d, 2), np.column_stack([model.x(d, d), model.y0 + d]).reshape(-1),
                   np.tile([1.0, -1.0], n), 0.0, 0.0)  # a centre serves itself
    k_free = model.free.size
    model.add_rows(np.zeros(n, dtype=int), model.y0 + d, np.ones(n), k_free, k_free)


def _balance_rows(inst, model, inf):
    n = inst.n
    units = np.arange(n)
    for m in range(inst.weights.shape[1]):
        w = inst.weights[:, m]
        lo, hi = inst.lower[m], inst.upper[m]
        if model.centres:
            for bound, sign_lo, sign_hi in ((lo, 0.0, inf), (hi, -inf, 0.0)):
                r = np.concatenate([np.repeat(np.arange(n), n), np.arange(n)])
                c = np.concatenate([model.x(np.tile(units, n), np.repeat(units, n)),
                                    model.y0 + units])
                v = np.concatenate([np.tile(w, n), np.full(n, -bound)])
                model.add_rows(r, c, v, sign_lo, sign_hi)
        for p in range(model.pinned.size):
            model.add_rows(np.zeros(n, dtype=int), model.x(units, model.centres + p), w, lo, hi)


def _label_rows(inst, model, inf):
    n, f = inst.n, model.free.size
    js = np.arange(n)
    r = np.concatenate([np.repeat(js, f), js])
    c = np.concatenate([model.z(np.repeat(js, f), np.tile(np.arange(f), n)), model.y0 + js])
    model.add_rows(r, c, np.concatenate([np.ones(n * f), -np.ones(n)]), 0.0, 0.0)
    r = np.repeat(np.arange(f), n)
    model.add_rows(r, model.z(np.tile(js, f), r), np.ones(n * f), 1.0, 1.0)


def _position(model, territory):
    """('pinned', column) or ('free', label position) for a territory id."""
    pinned_at = np.flatnonzero(model.pinned == territory)
    if pinned_at.size:
        return "pinned", model.centres + int(pinned_at[0])
    return "free", int(np.flatnonzero(model.free == territory)[0])


def _locks(inst, model, lower, upper, inf) -> float:
    n = inst.n
    for unit in np.flatnonzero(inst.locked >= 0):
        kind, pos = _position(model, int(inst.locked[unit]))
        if kind == "pinned":
            lower[model.x(unit, pos)] = 1.0
            continue
        upper[model.x(unit, np.arange(model.centres, model.ncentres))] = 0.0
        js = np.arange(n)
        model.add_rows(np.repeat(js, 2),
                       np.column_stack([model.x(unit, js), model.z(js, pos)]).reshape(-1),
                       np.tile([1.0, -1.0], n), -inf, 0.0)
    return 0.0


def _disruption_rows(inst, model, cost, inf) -> float:
    n = inst.n
    w = inst.weights[:, 0]
    cur = inst.current
    for unit in range(n):
        col = model.keep0 + unit
        if cur[unit] < 0:
            model.add_rows([0], [col], [1.0], -inf, 0.0)
            continue
        kind, pos = _position(model, int(cur[unit]))
        if kind == "pinned":
            model.add_rows([0, 0], [col, model.x(unit, pos)], [1.0, -1.0], -inf, 0.0)
        elif model.labels:
            js = np.arange(n)
            r = np.repeat(js, 3)
            c = np.column_stack([np.full(n, col), model.x(unit, js), model.z(js, pos)]).reshape(-1)
            model.add_rows(r, c, np.tile([1.0, 1.0, -1.0], n), -inf, 1.0)
            if model.pinned.size:  # served by a pinned centre: not in its free territory
                pins = model.x(unit, np.arange(model.centres, model.ncentres))
                model.add_rows(np.zeros(pins.size + 1, dtype=int), np.r_[col, pins],
                               np.ones(pins.size + 1), -inf, 1.0)
    if inst.min_keep_share is not None:
        model.add_rows(np.zeros(n, dtype=int), model.keep0 + np.arange(n), w,
                       inst.min_keep_share * w.sum(), inf)
    if inst.move_penalty > 0:
        cost[model.keep0:] = -inst.move_penalty * w
        return float(inst.move_penalty * w[cur >= 0].sum())
    return 0.0


def solve_exact(inst: Instance, start: Alignment | None, deadline: float,
                rel_gap: float = 1e-4, nodes: int | None = None, seed: int = 0) -> ExactOutcome:
    """Solve to proven optimality (or ``nodes`` branch-and-bound nodes per contiguity
    round, or the deadline); the bound is HiGHS's dual bound."""
    model = _Model(inst)
    cost, lower, upper, integrality, offset = _build(inst, model)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", rel_gap)
    h.setOptionValue("random_seed", seed)
    if nodes is not None:
        h.setOptionValue("mip_max_nodes", nodes)
    _pass(h, model, cost, lower, upper, integrality, offset)
    rounds, best = 0, None
    bound, objective, optimal = 0.0, np.inf, False
    while True:
        rounds += 1
        remaining = deadline - time.monotonic()
        if remaining <= 0.2:
            break
        h.setOptionValue("time_limit", remaining)
        if start is not None and rounds == 1:
            _warm_start(h, inst, model, start)
        h.run()
        info = h.getInfo()
        if np.isfinite(info.mip_dual_bound):
            bound = max(bound, float(info.mip_dual_bound))
        if info.primal_solution_status != 2:
            break
        col = np.asarray(h.getSolution().col_value)
        al = _decode(inst, model, col)
        cuts = _contiguity_cuts(inst, model, col, al)
        if not cuts:
            best, objective = al, float(info.objective_function_value)
            optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
            break
        for _, c, v, lo, hi in cuts:
            h.addRow(lo, hi, len(c), np.asarray(c, dtype=np.int32), np.asarray(v, dtype=float))
    return ExactOutcome(best, objective, bound, optimal, rounds)


def _pass(h, model, cost, lower, upper, integrality, offset):
    lp = highspy.HighsLp()
    lp.num_col_ = model.ncols
    lp.num_row_ = model.nrows
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.offset_ = offset
    lp.row_lower_ = np.concatenate(model.lo)
    lp.row_upper_ = np.concatenate(model.hi)
    mat = sparse.csc_matrix(
        (np.concatenate(model.vals), (np.concatenate(model.rows), np.concatenate(model.cols))),
        shape=(model.nrows, model.ncols),
    )
    mat.sum_duplicates()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = mat.indptr.astype(np.int32)
    lp.a_matrix_.index_ = mat.indices.astype(np.int32)
    lp.a_matrix_.value_ = mat.data
    lp.integrality_ = [highspy.HighsVarType(int(v)) for v in integrality]
    h.passModel(lp)


def _column_of(model, al: Alignment, territory: int) -> int:
    kind, pos = _position(model, territory)
    return pos if kind == "pinned" else int(al.centre_units[territory])


def _warm_start(h, inst, model, al: Alignment):
    col = np.zeros(model.ncols)
    cols = np.array([_column_of(model, al, int(t)) for t in range(inst.k)])
    if np.any(cols < 0):
        return
    col[model.x(np.arange(inst.n), cols[al.assignment])] = 1.0
    free_centres = al.centre_units[model.free]
    if model.centres:
        col[model.y0 + free_centres] = 1.0
    if model.labels:
        col[model.z(free_centres, np.arange(model.free.size))] = 1.0
    if model.disrupt:
        col[model.keep0:] = (inst.current == al.assignment).astype(float)
    sol = highspy.HighsSolution()
    sol.col_value = list(col)
    sol.value_valid = True
    h.setSolution(sol)


def _decode(inst, model, col) -> Alignment:
    n, nc = inst.n, model.ncentres
    x = col[: n * nc].reshape(n, nc)
    served_by = np.argmax(x, axis=1)
    territory_of_column = np.full(nc, -1, dtype=np.int64)
    territory_of_column[model.centres:] = model.pinned
    centre_units = np.full(inst.k, -1, dtype=np.int64)
    if model.centres:
        chosen = np.flatnonzero(col[model.y0 : model.y0 + n] > 0.5)
        if model.labels:
            z = col[model.z0 : model.keep0].reshape(n, model.free.size)
            labels = model.free[np.argmax(z[chosen], axis=1)]
        else:
            labels = model.free[: chosen.size]
        territory_of_column[chosen] = labels
        centre_units[labels] = chosen
    centre_xy = inst.pinned.copy()
    centre_xy[centre_units >= 0] = inst.xy[centre_units[centre_units >= 0]]
    return Alignment(territory_of_column[served_by], centre_units, centre_xy)


def _contiguity_cuts(inst, model, col, al: Alignment) -> list:
    if inst.graph is None:
        return []
    pieces = territory_pieces(inst.graph, al.assignment)
    cuts = []
    for t in range(inst.k):
        members = np.flatnonzero(al.assignment == t)
        labels = np.unique(pieces[members])
        if labels.size <= 1:
            continue
        column = _column_of(model, al, t)
        root = int(al.centre_units[t]) if al.centre_units[t] >= 0 else None
        if root is None:  # pinned centre: the largest piece is the root side
            sizes = [np.sum(pieces[members] == lab) for lab in labels]
            root = int(members[pieces[members] == labels[int(np.argmax(sizes))]][0])
        for lab in labels:
            piece = members[pieces[members] == lab]
            if root in piece:
                continue
            border = np.setdiff1d(inst.graph[piece].indices, piece)
            for a in piece:
                c = [model.x(a, column), *model.x(border, column)]
                if al.centre_units[t] >= 0:
                    cuts.append((None, c, [1.0] + [-1.0] * border.size, -highspy.kHighsInf, 0.0))
                else:
                    c.append(model.x(root, column))
                    v = [1.0] + [-1.0] * border.size + [1.0]
                    cuts.append((None, c, v, -highspy.kHighsInf, 1.0))
    return cuts


def lp_relaxation_duals(inst: Instance, deadline: float,
                        iterations: int | None = None) -> np.ndarray | None:
    """Row duals of "each unit is served once" in the exact model's LP relaxation, after
    at most ``iterations`` simplex iterations."""
    remaining = deadline - time.monotonic()
    if remaining <= 0.2:
        return None
    model = _Model(inst)
    cost, lower, upper, integrality, offset = _build(inst, model)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", remaining)
    # The simplex, so that an iteration budget means the same work on every machine.
    h.setOptionValue("solver", "simplex")
    if iterations is not None:
        h.setOptionValue("simplex_iteration_limit", iterations)
    _pass(h, model, cost, lower, upper, np.zeros_like(integrality), offset)
    h.run()
    duals = np.asarray(h.getSolution().row_dual)
    if duals.size < inst.n or not np.all(np.isfinite(duals[: inst.n])):
        return None
    return duals[: inst.n]
