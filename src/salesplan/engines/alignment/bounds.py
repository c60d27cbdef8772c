"""A proven lower bound for the alignment objective (Lagrangian relaxation).

What the bound proves
---------------------
The model is Hess's: every free territory's centre is one of the units, pinned
territories have their given centre, each unit pays ``activity × distance^p``
to its territory's centre. Drop contiguity, locks, disruption limits, the move
penalty (non-negative) and every balance measure but the first, keep only
``lower ≤ total ≤ upper`` for that one, and let units be split fractionally:
the optimum of this relaxation is ≤ the optimum of the full problem. Relaxing
"each unit belongs to exactly one territory" with multipliers λ gives

    L(λ) = Σ_i λ_i + Σ_{pinned p} g_p(λ) + (sum of the K − P smallest g_j(λ) over units j)

where g_j(λ) is a fractional knapsack: the cheapest way for a centre at j to
gather between ``lower`` and ``upper`` weight with reduced costs c_ij − λ_i.
For every λ, L(λ) ≤ the relaxation's optimum ≤ the optimum of the real problem,
so **no alignment satisfying the model can have a smaller objective**. We
improve λ by subgradient steps and keep the best L(λ) seen.

On large instances each g_j looks only at the ``neighbourhood`` nearest units
of j (radius r_j). Every multiplier λ_i is capped at activity_i · (r_i / 3)^p;
as the radius is 1-Lipschitz, a unit outside j's neighbourhood then costs at
least (activity/weight)_min · r_j^p · (1 − (2/3)^p) per unit of weight there, and
all such units are replaced by one reservoir at that price: the bound stays
valid, only less tight.

Units at the same point are merged first (weights and activities added, their
multipliers' starting values too): they cost the same from every centre, and the
relaxation may split them anyway, so its optimum is unchanged. Without this a
cluster of more units at one point than a neighbourhood holds has radius 0, caps
its multipliers at 0, and the bound collapses to nothing.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
from scipy.spatial import cKDTree

from .instance import Instance

_CHUNK_CELLS = 4_000_000


class _Neighbourhoods:
    def __init__(self, inst: Instance, size: int, half_load: float = 0.0):
        self.inst = inst
        self.size = size
        self.dense = size >= inst.n
        self.cap = np.full(inst.n, np.inf)
        self.index: np.ndarray | None = None
        self.half_radius: np.ndarray | None = None
        if self.dense:
            return
        dist, index = cKDTree(inst.xy).query(inst.xy, k=size + 1, workers=-1)
        self.index = index[:, :size].astype(np.int32)
        # How far each unit must reach to gather half a territory's load: a territory
        # around it pays about that distance (to the power p) per unit, on average.
        load = np.cumsum(inst.weights[:, 0][index[:, :size]], axis=1)
        first = np.argmax(load >= half_load, axis=1)
        self.half_radius = np.where(load[:, -1] >= half_load,
                                    dist[np.arange(inst.n), first], dist[:, size])
        # r(x) = distance to the (size+1)-th nearest unit is 1-Lipschitz, so a unit i
        # outside j's neighbourhood has d_ij ≥ r_j and r_i ≤ r_j + d_ij ≤ 2·d_ij; with
        # λ_i ≤ a_i (r_i / 3)^p its reduced cost there is ≥ a_i r_j^p (1 − (2/3)^p).
        self.radius = dist[:, size]
        self.cap = inst.activity * (self.radius / 3) ** inst.power
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.where(inst.weights[:, 0] > 0, inst.activity / inst.weights[:, 0], np.inf)
        self.reservoir_rate = float(np.min(alpha)) * (1 - (2 / 3) ** inst.power)

    def columns(self, centres: np.ndarray) -> np.ndarray:
        if self.dense:
            return np.broadcast_to(np.arange(self.inst.n), (len(centres), self.inst.n))
        assert self.index is not None  # noqa: S101 - set unless dense
        return self.index[centres]


def _knapsack(rc, w, lower, upper, want_x=False):
    """Row-wise min Σ rc·x, 0≤x≤1, lower ≤ Σ w·x ≤ upper (rows: centres)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(w > 0, rc / w, np.inf)
    order = np.argsort(ratio, axis=1, kind="stable")
    r_sorted = np.take_along_axis(ratio, order, axis=1)
    w_sorted = np.take_along_axis(w, order, axis=1)
    cum_w = np.cumsum(w_sorted, axis=1)
    negative_weight = np.sum(np.where(r_sorted < 0, w_sorted, 0.0), axis=1)
    target = np.clip(negative_weight, lower, upper)
    full = cum_w <= target[:, None] + 1e-12
    prev_w = cum_w - w_sorted
    part = np.where(full, 1.0, np.clip((target[:, None] - prev_w) / np.where(
        w_sorted > 0, w_sorted, 1.0), 0.0, 1.0))
    part = np.where(np.isfinite(r_sorted), part, 0.0)
    value = np.sum(np.where(part > 0, part * w_sorted * np.nan_to_num(r_sorted), 0.0), axis=1)
    if not want_x:
        return value, None, None
    return value, order, part


def lagrangian_bound(
    inst: Instance, upper_bound: float, unit_costs: np.ndarray, deadline: float,
    max_iterations: int = 200,
) -> float:
    """Best L(λ) before ``deadline``, starting from λ = each unit's cost in a good solution."""
    inst, unit_costs = _merge_colocated(inst, unit_costs)
    k_free = int(inst.k - inst.is_pinned.sum())
    w = inst.weights[:, 0]
    lower, upper = inst.lower[0], inst.upper[0]
    size = inst.n if inst.n <= 2500 else min(inst.n, int(np.ceil(1.6 * inst.n / inst.k)) + 16)
    hoods = _Neighbourhoods(inst, size, half_load=lower / 2)
    step = 1.0
    if hoods.half_radius is not None:
        # On large instances start from half of what a unit pays in a typical territory
        # around it: cheap, and (measured on the US ZIP codes) where L(λ) is still rising
        # with the scale; the subgradient then only fine-tunes, so its steps start small.
        lam = 0.5 * inst.activity * hoods.half_radius ** inst.power
        step = 0.1
    else:
        lam = np.where(w > 0, unit_costs, 0.0).astype(float)
    lam = np.minimum(lam, hoods.cap)
    lam[w <= 0] = 0.0
    if _evaluate(inst, hoods, lam, w, lower, upper, k_free)[0] < 0:
        lam = np.zeros(inst.n)  # L(0): each centre gathers its cheapest minimum load
    best, stall = 0.0, 0
    last = 0.0  # seconds the last step took: do not start one that would end past the deadline
    for _ in range(max_iterations):
        if time.monotonic() + last > deadline:
            break
        step_started = time.monotonic()
        value, grad = _evaluate(inst, hoods, lam, w, lower, upper, k_free)
        last = time.monotonic() - step_started
        if value > best + 1e-12 * max(1.0, abs(best)):
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 4:
                step, stall = step / 2, 0
        norm = float(grad @ grad)
        if norm <= 0 or step < 1e-4 or upper_bound - value <= 1e-9 * abs(upper_bound):
            break
        lam = lam + step * (upper_bound - value) / norm * grad
        lam = np.minimum(lam, hoods.cap)
        lam[w <= 0] = 0.0
    return min(best, upper_bound) if np.isfinite(upper_bound) else best


def _merge_colocated(inst: Instance, unit_costs: np.ndarray):
    """The units with every point once: weights, activities and costs added up."""
    points, group = np.unique(inst.xy, axis=0, return_inverse=True)
    group = group.ravel()
    if len(points) == inst.n:
        return SimpleNamespace(
            xy=inst.xy, n=inst.n, k=inst.k, power=inst.power, is_pinned=inst.is_pinned,
            pinned=inst.pinned, lower=inst.lower, upper=inst.upper, activity=inst.activity,
            weights=inst.weights, multiplicity=np.ones(inst.n, dtype=np.int64)), unit_costs
    size = len(points)
    merged = SimpleNamespace(
        multiplicity=np.bincount(group, minlength=size),
        xy=points, n=size, k=inst.k, power=inst.power, is_pinned=inst.is_pinned,
        pinned=inst.pinned, lower=inst.lower, upper=inst.upper,
        activity=np.bincount(group, weights=inst.activity, minlength=size),
        weights=np.bincount(group, weights=inst.weights[:, 0], minlength=size)[:, None])
    costs = np.bincount(group, weights=np.where(inst.weights[:, 0] > 0, unit_costs, 0.0),
                        minlength=size)
    return merged, costs


def _evaluate(inst, hoods, lam, w, lower, upper, k_free):
    """L(λ) and a subgradient (1 − how often each unit is taken)."""
    n = inst.n
    g = np.empty(n)
    cols_per_row = hoods.size if not hoods.dense else n
    chunk = max(1, _CHUNK_CELLS // max(cols_per_row, 1))
    for lo in range(0, n, chunk):
        centres = np.arange(lo, min(n, lo + chunk))
        g[centres] = _subproblem(inst, hoods, centres, None, lam, w, lower, upper,
)[0]
    chosen, copies = _cheapest_centres(g, inst.multiplicity, k_free)
    value = float(lam.sum() + (g[chosen] * copies).sum())
    taken = np.zeros(n)
    pinned = np.flatnonzero(inst.is_pinned)
    for centres, points, times in ((chosen, None, copies),
                                   (pinned, "pinned", np.ones(len(pinned)))):
        if centres.size == 0:
            continue
        pts = inst.pinned[centres] if points else None
        val, cols, x = _subproblem(inst, hoods, centres, pts, lam, w, lower, upper,
                                   want_x=True)
        if points:
            value += float(val.sum())
        x = x * times[:, None]
        np.add.at(taken, cols[cols >= 0], x[cols >= 0])
    return value, 1.0 - taken


def _cheapest_centres(g: np.ndarray, multiplicity: np.ndarray, k_free: int):
    """The k_free cheapest centres, a point holding m units counting up to m times (m
    territories may be centred on m units at one point)."""
    order = np.argsort(g, kind="stable")
    before = np.cumsum(multiplicity[order]) - multiplicity[order]
    copies = np.clip(k_free - before, 0, multiplicity[order])
    keep = copies > 0
    return order[keep], copies[keep].astype(float)


def _subproblem(inst, hoods, centres, points, lam, w, lower, upper, want_x=False):
    """g for each centre (rows): exact on its neighbourhood, a reservoir for the rest."""
    if points is None:
        cols = np.asarray(hoods.columns(centres))
        origin = inst.xy[centres]
    else:  # pinned centres see every unit exactly
        cols = np.broadcast_to(np.arange(inst.n), (len(centres), inst.n))
        origin = points
    safe = np.maximum(cols, 0)
    d2 = np.sum((inst.xy[safe] - origin[:, None, :]) ** 2, axis=2)
    dist = d2 if inst.power == 2 else np.sqrt(d2)
    rc = inst.activity[safe] * dist - lam[safe]
    weights = np.where(cols >= 0, w[safe], 0.0)
    rc = np.where(cols >= 0, rc, 0.0)
    if not hoods.dense and points is None:
        outside = np.maximum(w.sum() - weights.sum(axis=1), 0.0)
        price = hoods.reservoir_rate * hoods.radius[centres] ** inst.power
        rc = np.concatenate([rc, (price * outside)[:, None]], axis=1)
        weights = np.concatenate([weights, outside[:, None]], axis=1)
        cols = np.concatenate([cols, np.full((len(centres), 1), -1)], axis=1)
    value, order, part = _knapsack(rc, weights, lower, upper, want_x)
    if not want_x:
        return value, None, None
    sorted_cols = np.take_along_axis(cols, order, axis=1)
    return value, sorted_cols, part
