"""Neighbourhood MILP: the exact model restricted to small changes of a good alignment.

Alternating allocation and recentring stops at local optima a few per cent above the
optimum: the last moves need a centre to shift *and* units to follow it across several
territories at once. The polish solves the exact Hess model over a neighbourhood of
the present alignment — each unit may stay or go to one of its nearest territories,
each territory picks its centre among the units nearest its weighted centroid — with
HiGHS, started from the present alignment. Over that space the answer is optimal, so
it only ever improves the alignment; repeated, it closes most of the gap.

Columns are x[i, t, c] (unit i in territory t served by candidate centre c of t) and
y[t, c] (c is t's centre); territory labels are explicit, so locks, pinned centres,
keep share and move penalty are linear. Contiguity is checked after each solve and
stray pieces are cut off as in the exact model.
"""

from __future__ import annotations

import math
import time

import highspy
import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from .contiguity import territory_pieces
from .heuristic import Alignment, _centroids, feasible, objective
from .instance import Instance

# Above this many x columns the neighbourhood MILP no longer solves in seconds.
MAX_COLUMNS = 40_000
# HiGHS finds a window's improvement early and spends the rest proving it optimal; the
# node budget (``WorkBudget.window_nodes``) takes the best found so far. Under a time
# limit each window is also capped at this many seconds, so that one slow window cannot
# take a production run's whole time.
WINDOW_SECONDS = 1.5


class _Neighbourhood:
    """The restricted model's columns: arcs (unit, territory, centre) and centre choices.

    Only the units of the ``window`` territories take part; each may go to any window
    territory (locked units only to theirs). Units outside stay where they are.
    """

    def __init__(self, inst: Instance, al: Alignment, window: np.ndarray, candidates: int):
        self.inst, self.al = inst, al
        self.window = np.asarray(window, dtype=np.int64)
        inside = np.isin(al.assignment, self.window)
        self.members = np.flatnonzero(inside)
        self.candidates = self._centre_candidates(candidates)
        units, terr, centre = [], [], []
        for i in self.members:
            locked = int(inst.locked[i])
            for t in ([locked] if locked >= 0 else self.window):
                cands = self.candidates[int(t)]
                units.extend([i] * len(cands))
                terr.extend([t] * len(cands))
                centre.extend(cands)
        self.units = np.asarray(units, dtype=np.int64)
        self.terr = np.asarray(terr, dtype=np.int64)
        self.centre = np.asarray(centre, dtype=np.int64)  # -1: the pinned point
        self.nx = self.units.size
        free = [int(t) for t in self.window if not inst.is_pinned[t]]
        self.y_terr = np.asarray([t for t in free for _ in self.candidates[t]], dtype=np.int64)
        self.y_unit = np.asarray([c for t in free for c in self.candidates[t]], dtype=np.int64)
        self.y_index = {(int(t), int(c)): self.nx + j
                        for j, (t, c) in enumerate(zip(self.y_terr, self.y_unit, strict=True))}
        self.ncols = self.nx + self.y_terr.size

    def _centre_candidates(self, count: int) -> dict[int, list[int]]:
        """The window's units nearest each territory's weighted centroid (and its centre)."""
        inst, al = self.inst, self.al
        target = _centroids(inst, al.assignment)
        members = self.members[inst.locked[self.members] < 0]
        tree = cKDTree(inst.xy[members]) if members.size else None
        out: dict[int, list[int]] = {}
        for t in map(int, self.window):
            if inst.is_pinned[t]:
                out[t] = [-1]
                continue
            cands = {int(al.centre_units[t])}
            if tree is not None:
                near = tree.query(target[t], k=min(count, members.size))[1]
                cands |= {int(members[c]) for c in np.atleast_1d(near)}
            out[t] = sorted(cands)
        return out

    def x_cost(self) -> np.ndarray:
        inst = self.inst
        points = np.where(self.centre[:, None] >= 0, inst.xy[np.maximum(self.centre, 0)],
                          inst.pinned[self.terr])
        cost = inst.cost_to_points(self.units, points)
        if inst.move_penalty > 0 and inst.current is not None:
            cur = inst.current[self.units]
            moved = (cur >= 0) & (cur != self.terr)
            cost = cost + inst.move_penalty * inst.weights[self.units, 0] * moved
        return cost


def polish(inst: Instance, al: Alignment, window: np.ndarray, deadline: float,
           candidates: int = 8, nodes: int | None = None, seed: int = 0) -> Alignment | None:
    """The best re-alignment of the ``window`` territories' units (None when none was found)
    within ``nodes`` branch-and-bound nodes per contiguity round."""
    free = window[~inst.is_pinned[window]]
    if np.any(al.centre_units[free] < 0):  # an empty territory: nothing to start from
        return None
    hood = _Neighbourhood(inst, al, window, candidates)
    if hood.nx > MAX_COLUMNS:
        return None
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", seed)
    h.setOptionValue("mip_rel_gap", 1e-4)
    if nodes is not None:
        h.setOptionValue("mip_max_nodes", nodes)
    _pass(h, hood)
    for _ in range(8):  # contiguity rounds
        remaining = deadline - time.monotonic()
        if remaining <= 0.1:
            return None
        h.setOptionValue("time_limit", min(remaining, WINDOW_SECONDS)
                         if math.isfinite(deadline) else math.inf)
        _warm_start(h, hood)
        h.run()
        if h.getInfo().primal_solution_status != 2:
            return None
        found = _decode(hood, np.asarray(h.getSolution().col_value))
        cuts = _contiguity_cuts(hood, found)
        if not cuts:
            return found
        for cols, vals, upper in cuts:
            h.addRow(-highspy.kHighsInf, upper, len(cols), np.asarray(cols, dtype=np.int32),
                     np.asarray(vals, dtype=float))
    return None


def _pass(h: highspy.Highs, hood: _Neighbourhood) -> None:
    inst = hood.inst
    nx, ny = hood.nx, hood.y_terr.size
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lo: list[np.ndarray] = []
    hi: list[np.ndarray] = []
    count = 0

    def add(r, c, v, low, high):
        nonlocal count
        r = np.asarray(r, dtype=np.int64)
        rows.append(r + count)
        cols.append(np.asarray(c, dtype=np.int64))
        vals.append(np.asarray(v, dtype=float))
        size = int(r.max()) + 1 if r.size else 0
        lo.append(np.broadcast_to(np.asarray(low, dtype=float), (size,)))
        hi.append(np.broadcast_to(np.asarray(high, dtype=float), (size,)))
        count += size

    xs = np.arange(nx)
    add(np.searchsorted(hood.members, hood.units), xs, np.ones(nx), 1.0, 1.0)  # served once
    if ny:
        free_t = np.unique(hood.y_terr)
        row_of = np.searchsorted(free_t, hood.y_terr)
        add(row_of, nx + np.arange(ny), np.ones(ny), 1.0, 1.0)  # one centre per territory
        served = np.flatnonzero(hood.centre >= 0)
        y_col = np.array([hood.y_index[(int(hood.terr[j]), int(hood.centre[j]))]
                          for j in served], dtype=np.int64)
        own = hood.units[served] == hood.centre[served]
        r = np.repeat(np.arange(served.size), 2)
        c = np.column_stack([served, y_col]).reshape(-1)
        low = np.where(own, 0.0, -highspy.kHighsInf)
        add(r, c, np.tile([1.0, -1.0], served.size), low, 0.0)  # x ≤ y, a centre serves itself
    for m in range(inst.weights.shape[1]):
        add(np.searchsorted(hood.window, hood.terr), xs, inst.weights[hood.units, m],
            inst.lower[m], inst.upper[m])
    offset = 0.0
    if inst.current is not None and inst.min_keep_share is not None:
        stays = inst.current[hood.units] == hood.terr
        outside = np.ones(inst.n, dtype=bool)
        outside[hood.members] = False
        kept_outside = inst.weights[outside & (inst.current == hood.al.assignment), 0].sum()
        add(np.zeros(int(stays.sum()), dtype=np.int64), xs[stays],
            inst.weights[hood.units[stays], 0],
            inst.min_keep_share * inst.weights[:, 0].sum() - kept_outside, highspy.kHighsInf)
    mat = sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(count, hood.ncols),
    )
    lp = highspy.HighsLp()
    lp.num_col_ = hood.ncols
    lp.num_row_ = count
    lp.col_cost_ = np.concatenate([hood.x_cost(), np.zeros(ny)])
    lp.col_lower_ = np.zeros(hood.ncols)
    lp.col_upper_ = np.ones(hood.ncols)
    lp.offset_ = offset
    lp.row_lower_ = np.concatenate(lo)
    lp.row_upper_ = np.concatenate(hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = mat.indptr.astype(np.int32)
    lp.a_matrix_.index_ = mat.indices.astype(np.int32)
    lp.a_matrix_.value_ = mat.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * hood.ncols
    h.passModel(lp)


def _warm_start(h: highspy.Highs, hood: _Neighbourhood) -> None:
    al = hood.al
    col = np.zeros(hood.ncols)
    centre_of = np.where(hood.inst.is_pinned, -1, al.centre_units)
    chosen = (hood.terr == al.assignment[hood.units]) & (hood.centre == centre_of[hood.terr])
    col[np.flatnonzero(chosen)] = 1.0
    for t in hood.window:
        if not hood.inst.is_pinned[t]:
            col[hood.y_index[(int(t), int(al.centre_units[t]))]] = 1.0
    sol = highspy.HighsSolution()
    sol.col_value = list(col)
    sol.value_valid = True
    h.setSolution(sol)


def _decode(hood: _Neighbourhood, col: np.ndarray) -> Alignment:
    inst = hood.inst
    on = np.flatnonzero(col[: hood.nx] > 0.5)
    assignment = hood.al.assignment.copy()
    assignment[hood.units[on]] = hood.terr[on]
    centre_units = hood.al.centre_units.copy()
    ys = np.flatnonzero(col[hood.nx :] > 0.5)
    centre_units[hood.y_terr[ys]] = hood.y_unit[ys]
    centre_xy = hood.al.centre_xy.copy()
    centre_xy[hood.y_terr[ys]] = inst.xy[hood.y_unit[ys]]
    return Alignment(assignment, centre_units, centre_xy)


def _contiguity_cuts(hood: _Neighbourhood, al: Alignment) -> list[tuple[list[int], list[float],
                                                                       float]]:
    """x[a, t, c] ≤ Σ x[v, t, c] over the border v of each stray piece of t (a in the piece).

    A pinned centre is no unit: the cut then holds only while the root (a unit of the
    territory's largest piece) stays, x[a] + x[root] - Σ x[v] ≤ 1.
    """
    inst = hood.inst
    if inst.graph is None:
        return []
    pieces = territory_pieces(inst.graph, al.assignment)
    column = {(int(i), int(t), int(c)): j for j, (i, t, c)
              in enumerate(zip(hood.units, hood.terr, hood.centre, strict=True))}
    cuts = []
    for t in map(int, hood.window):
        members = np.flatnonzero(al.assignment == t)
        labels = np.unique(pieces[members])
        if labels.size <= 1:
            continue
        c = int(al.centre_units[t])
        root = c
        if c < 0:
            sizes = [np.sum(pieces[members] == lab) for lab in labels]
            root = int(members[pieces[members] == labels[int(np.argmax(sizes))]][0])
        root_label = pieces[root]
        for lab in labels:
            if lab == root_label:
                continue
            piece = members[pieces[members] == lab]
            border = np.setdiff1d(inst.graph[piece].indices, piece)
            border_cols = [column[(int(v), t, c)] for v in border if (int(v), t, c) in column]
            for a in piece:
                cols = [column[(int(a), t, c)], *border_cols]
                vals = [1.0] + [-1.0] * len(border_cols)
                if c < 0:
                    cuts.append(([*cols, column[(root, t, c)]], [*vals, 1.0], 1.0))
                else:
                    cuts.append((cols, vals, 0.0))
    return cuts


def polish_by_windows(inst: Instance, al: Alignment, deadline: float,
                      sizes: tuple[int, ...] = (2, 3), max_solves: int | None = None,
                      nodes: int | None = None, seed: int = 0) -> tuple[Alignment, int]:
    """Re-solve each territory with its nearest neighbours exactly until none improves
    (or ``max_solves`` sub-problems were solved, or the deadline passed).

    Windows of two territories first (cheap, most of the gain), then of three. Returns
    the improved alignment and the number of sub-problems solved.
    """
    best = objective(inst, al)
    solved = 0
    unchanged: set[tuple[bytes, ...]] = set()  # windows already solved in their present state
    for size in sizes:
        if size > inst.k:
            break
        improved = True
        while improved:
            improved = False
            for window in _windows(al, size):
                if time.monotonic() > deadline or (max_solves is not None
                                                   and solved >= max_solves):
                    return al, solved
                inside = np.isin(al.assignment, window)
                state = (window.tobytes(), inside.tobytes(), al.assignment[inside].tobytes(),
                         al.centre_units[window].tobytes())
                if state in unchanged:
                    continue
                unchanged.add(state)
                found = polish(inst, al, window, deadline, nodes=nodes, seed=seed)
                solved += 1
                if found is None or not feasible(inst, found.assignment):
                    continue
                obj = objective(inst, found)
                if obj < best - 1e-9 * max(1.0, abs(best)):
                    al, best, improved = found, obj, True
    return al, solved


def _windows(al: Alignment, size: int) -> list[np.ndarray]:
    """Each territory with its ``size - 1`` nearest territories (by centre), without repeats."""
    k = al.centre_xy.shape[0]
    near = cKDTree(al.centre_xy).query(al.centre_xy, k=min(size, k))[1].reshape(k, -1)
    seen: set[tuple[int, ...]] = set()
    out = []
    for t in range(k):
        window = tuple(sorted({t, *map(int, near[t])}))
        if len(window) == size and window not in seen:
            seen.add(window)
            out.append(np.asarray(window, dtype=np.int64))
    return out
