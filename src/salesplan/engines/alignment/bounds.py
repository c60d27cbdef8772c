"""Proven lower bounds for the alignment objective.

Two bounds; the solver reports the better one. ``lagrangian_bound`` is the LP
(Lagrangian) bound described below: strong where units are spread out. ``isolation_bound``
counts whole territories in remote places (islands, many units at one point), which
the LP relaxation serves with fractional territories at almost no cost.

The Lagrangian bound: what it proves
------------------------------------
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
improve λ step by step and keep the best L(λ) seen.

Up to ``DENSE_MAX_UNITS`` distinct points g_j is computed over every unit, exactly
(``dense_bound``), and λ moves by the Volume algorithm; the best L(λ) found is then the
value of the Lagrangian dual at a point, so it is proven without any further argument.
Its maximum over λ is the bound of the compact LP relaxation (x_ij ≤ y_j, Σ y_j = K,
band per centre); how close the steps get to it in the time is what limits the bound.

On large instances each g_j looks only at the ``neighbourhood`` nearest units
of j (radius r_j: the distance to the first unit outside it); all units outside are
replaced by one reservoir holding their weight at a price per unit of weight below
every one of their reduced costs there: the bound stays valid, only less tight.
As the radius is 1-Lipschitz, a unit i outside has d_ij ≥ max(r_j, r_i − r_j). Up to
``LIPSCHITZ_MAX_UNITS`` units the price is the least over all units of
(a_i · max(r_j, r_i − r_j)^p − λ_i) / w_i, whatever λ (the unit setting it gets the
reservoir's share in the subgradient). Above it, every multiplier λ_i is capped at
a_i · (r_i / 3)^p, so that (activity/weight)_min · r_j^p · (1 − (2/3)^p) is such a
price; the cap holds back the multipliers of the units far from their centre, and
with it the bound (on 1,729 ZIP codes into 50 territories, 200 steps from the same
plan: 16.9% below the best plan known capped, 13.5% priced from the multipliers).

Units at the same point are merged first (weights and activities added, their
multipliers' starting values too): they cost the same from every centre, and the
relaxation may split them anyway, so its optimum is unchanged. Without this a
cluster of more units at one point than a neighbourhood holds has radius 0, caps
its multipliers at 0, and the bound collapses to nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError, cKDTree

from .dense_bound import DenseLagrangian, volume_ascent
from .instance import Instance

_CHUNK_CELLS = 4_000_000
# Up to this many distinct points every centre's knapsack looks at every unit, exactly
# (``dense_bound``: a cost matrix of 8 bytes a cell, built once, 72 MB at 3,000 points;
# each step partitions a copy of it). On 1,729 ZIP codes (1,613 points), 300 steps from
# the same plan, the bound ended 4.6% (K = 20) and 7.5% (K = 50) below the best plan known
# against 9.9% and 12.8% with neighbourhoods and subgradient steps, in 26 and 18
# processor seconds (23 and 9).
# Above it the neighbourhoods' cheaper steps win.
DENSE_MAX_UNITS = 3000
# A centre's neighbourhood holds about this many territories' worth of units. Wider
# neighbourhoods let the multipliers grow further (their cap is a third of the radius),
# at more work per step: on the same ZIP codes (K = 50, 200 steps from the same plan)
# 1.6 territories ended 31% below the plan's cost, 4 territories 23% in about the same
# time, 8 territories 18% in three times as long.
NEIGHBOURHOOD_TERRITORIES = 4.0
# Up to this many units the reservoir's price is the least, over all units, of a bound on
# their reduced cost outside a neighbourhood (n² simple operations a step, no sort), and
# the multipliers need no cap. Above it: the cap and a fixed rate.
LIPSCHITZ_MAX_UNITS = 6000


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
        self.half_radius = _reach_for_load(inst, dist, index, half_load)
        # r(x) = distance to the (size+1)-th nearest unit is 1-Lipschitz, so a unit i
        # outside j's neighbourhood has d_ij ≥ r_j and r_i ≤ r_j + d_ij ≤ 2·d_ij; with
        # λ_i ≤ a_i (r_i / 3)^p its reduced cost there is ≥ a_i r_j^p (1 − (2/3)^p).
        self.radius = dist[:, size]
        with np.errstate(divide="ignore", invalid="ignore"):
            self.alpha = np.where(inst.weights[:, 0] > 0,
                                  inst.activity / inst.weights[:, 0], np.inf)
        self.reservoir_rate = float(np.min(self.alpha)) * (1 - (2 / 3) ** inst.power)
        # Up to LIPSCHITZ_MAX_UNITS units the reservoir is priced from the multipliers
        # themselves (``reservoir``) and they need no cap.
        self.lipschitz = inst.n <= LIPSCHITZ_MAX_UNITS
        self._reach_all: np.ndarray | None = None
        if not self.lipschitz:
            self.cap = inst.activity * (self.radius / 3) ** inst.power

    def reservoir(self, centres: np.ndarray, lam: np.ndarray, want_setter: bool = True):
        """Per centre: a price per unit of weight below the reduced cost of every unit
        outside its neighbourhood, and the unit that sets it (-1: none).

        A unit i outside j's neighbourhood has d_ij ≥ r_j, and as r is 1-Lipschitz also
        d_ij ≥ r_i − r_j; so its reduced cost per weight is at least
        (a_i · max(r_j, r_i − r_j)^p − λ_i) / w_i, and the least of these over all units
        prices every outside unit from below, whatever λ. Without the Lipschitz pricing:
        the capped multipliers' rate (see ``__init__``)."""
        p = self.inst.power
        if not self.lipschitz:
            return self.reservoir_rate * self.radius[centres] ** p, np.full(centres.size, -1)
        w = self.inst.weights[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            beta = np.where(w > 0, lam / w, 0.0)
        price = np.empty(centres.size)
        arg = np.empty(centres.size, dtype=np.int64)
        rows = max(1, _CHUNK_CELLS // max(self.inst.n, 1))
        for lo in range(0, centres.size, rows):
            f = self._reach(centres[lo: lo + rows]) - beta[None, :]
            if not want_setter:
                price[lo: lo + rows] = np.min(f, axis=1)
                continue
            arg[lo: lo + rows] = np.argmin(f, axis=1)
            price[lo: lo + rows] = f[np.arange(f.shape[0]), arg[lo: lo + rows]]
        return price, arg

    def _reach(self, centres: np.ndarray) -> np.ndarray:
        """a_i · max(r_j, r_i − r_j)^p / w_i (rows: centres); kept for small instances,
        where it is the same every step."""
        if self._reach_all is not None:
            every = np.array_equal(centres, np.arange(self.inst.n))
            return self._reach_all if every else self._reach_all[centres]
        r_j = self.radius[centres][:, None]
        reach = self.alpha[None, :] * np.maximum(r_j, self.radius[None, :] - r_j) ** self.inst.power
        if centres.size == self.inst.n and self.inst.n ** 2 <= _CHUNK_CELLS * 2:
            self._reach_all = reach
        return reach

    def columns(self, centres: np.ndarray) -> np.ndarray:
        if self.dense:
            return np.broadcast_to(np.arange(self.inst.n), (len(centres), self.inst.n))
        assert self.index is not None  # noqa: S101 - set unless dense
        return self.index[centres]


def _reach_for_load(inst, dist: np.ndarray, index: np.ndarray, load: float) -> np.ndarray:
    """How far each unit must reach (over its nearest units, ``dist``/``index`` as from
    a k-d tree query) to gather ``load``: a territory around it of twice that load pays
    about that distance (to the power p) per unit, on average."""
    size = index.shape[1] - 1
    gathered = np.cumsum(inst.weights[:, 0][index[:, :size]], axis=1)
    first = np.argmax(gathered >= load, axis=1)
    return np.where(gathered[:, -1] >= load, dist[np.arange(inst.n), first], dist[:, size])


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
    max_iterations: int = 200, start: np.ndarray | None = None, *,
    target_now: Callable[[], float] | None = None,
    on_step: Callable[[float, int], None] | None = None,
) -> float:
    """Best L(λ) before ``deadline``, starting from λ = each unit's cost in a good solution
    or, when given and better, from ``start`` (e.g. LP duals: any λ gives a valid bound).

    ``on_step(best so far, steps taken)`` follows the steps (every value it is told is a
    proven bound); ``target_now`` gives the Volume steps a better plan's cost as it is
    found (up to ``DENSE_MAX_UNITS`` points; the neighbourhood steps keep the first)."""
    merged_start = _merge_colocated(inst, start)[1] if start is not None else None
    inst, unit_costs = _merge_colocated(inst, unit_costs)
    if inst.n <= DENSE_MAX_UNITS:
        return _dense_bound(inst, upper_bound, unit_costs, merged_start, deadline,
                            max_iterations, target_now=target_now, on_step=on_step)
    k_free = int(inst.k - inst.is_pinned.sum())
    w = inst.weights[:, 0]
    lower, upper = inst.lower[0], inst.upper[0]
    size = (inst.n if inst.n <= DENSE_MAX_UNITS
            else min(inst.n, int(np.ceil(NEIGHBOURHOOD_TERRITORIES * inst.n / inst.k)) + 16))
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
    if merged_start is not None and hoods.dense:
        given = np.where(w > 0, merged_start, 0.0)
        if (_evaluate(inst, hoods, given, w, lower, upper, k_free)[0]
                > _evaluate(inst, hoods, lam, w, lower, upper, k_free)[0]):
            lam = given
    best, stall = 0.0, 0
    last = 0.0  # seconds the last step took: do not start one that would end past the deadline
    for iteration in range(max_iterations):
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
        if on_step is not None:
            on_step(best, iteration + 1)
        norm = float(grad @ grad)
        if norm <= 0 or step < 1e-4 or upper_bound - value <= 1e-9 * abs(upper_bound):
            break
        lam = lam + step * (upper_bound - value) / norm * grad
        lam = np.minimum(lam, hoods.cap)
        lam[w <= 0] = 0.0
    return min(best, upper_bound) if np.isfinite(upper_bound) else best


# Multiples of what a unit pays in a typical territory around it, tried as starts: on the
# ZIP codes of Kentucky and Tennessee the best was once the half (K = 20), once the whole
# (K = 50), at 29% and 35% below the plan against 50% and 52% for the half alone.
_TYPICAL_SCALES = (0.5, 0.75, 1.0, 1.25)


def _dense_bound(inst, upper_bound: float, unit_costs: np.ndarray,
                 start: np.ndarray | None, deadline: float, max_iterations: int, *,
                 target_now=None, on_step=None) -> float:
    """The exact Lagrangian over every unit (``dense_bound``), from the best of several
    starts: each unit's cost in the plan, a few multiples of what a unit pays in a
    typical territory around it, and ``start`` (e.g. LP duals)."""
    lagrangian = DenseLagrangian(inst)
    units = lagrangian.units
    if units.size == 0:
        return 0.0  # nothing weighs anything: nothing to prove beyond 0
    size = min(inst.n - 1, int(np.ceil(4 * inst.n / inst.k)) + 16)
    starts = [np.where(unit_costs[units] > 0, unit_costs[units], 0.0)]
    if size >= 1:
        dist, index = cKDTree(inst.xy).query(inst.xy, k=size + 1)
        reach = _reach_for_load(inst, dist, index, float(inst.lower[0]) / 2)
        typical = inst.activity[units] * reach[units] ** inst.power
        starts += [scale * typical for scale in _TYPICAL_SCALES]
    if start is not None:
        starts.append(start[units])
    values = [lagrangian.evaluate(lam)[0] for lam in starts]
    lam = starts[int(np.argmax(values))]
    target = (upper_bound if np.isfinite(upper_bound)
              else max(values) + abs(max(values)) + 1.0)
    if on_step is not None:
        on_step(max(values), 0)
    best, _ = volume_ascent(lagrangian, lam, target, deadline, max_iterations,
                            target_now=target_now, on_step=on_step)
    best = max(best, max(values), 0.0)
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
        # x: the weight taken of each column. A reservoir whose price a unit sets counts
        # as that much weight of the unit: L's slope in its multiplier.
        x = x * times[:, None]
        unit = np.where(cols >= 0, cols, -2 - cols)
        real = cols != -1
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(w[unit[real]] > 0, x[real] / w[unit[real]], 0.0)
        np.add.at(taken, unit[real], share)
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
        price, setter = hoods.reservoir(centres, lam, want_setter=want_x)
        rc = np.concatenate([rc, (price * outside)[:, None]], axis=1)
        weights = np.concatenate([weights, outside[:, None]], axis=1)
        # The reservoir's column is -2 - (the unit that sets its price), or -1.
        cols = np.concatenate([cols, np.where(setter >= 0, -2 - setter, -1)[:, None]], axis=1)
    value, order, part = _knapsack(rc, weights, lower, upper, want_x)
    if not want_x:
        return value, None, None
    sorted_cols = np.take_along_axis(cols, order, axis=1)
    return value, sorted_cols, part * np.take_along_axis(weights, order, axis=1)


def isolation_bound(inst: Instance, deadline: float | None = None, max_cuts: int = 64,
                    max_regions: int = 64) -> float:
    """A bound from whole numbers of territories in isolated places (valid for the model).

    The Lagrangian bound is that of the LP relaxation, which may centre a fractional
    number of territories on a remote place (an island, or hundreds of ZIP codes
    recorded at one coordinate) and so serve it at almost no cost. Take a region Q of
    units. Some whole number t of territories (at most Q's unit count) have their
    centre in Q. They hold at most t·upper of Q's weight, so the rest of Q is served
    from a centre outside Q: each such unit pays at least its activity × (distance to
    the nearest unit outside Q)^p. They hold at least t·lower, so weight from outside
    Q is brought in, each such unit paying at least activity × (distance to Q)^p. These
    two costs fall on different units and every other cost is ≥ 0, so their least sum
    over t bounds every alignment.

    For several disjoint regions the bounds add up when a unit of one region brought
    into another counts as free there: its cost is already counted in its own region.
    Regions are the pieces left by cutting the longest edges of the points' minimum
    spanning tree (single-link clusters), or single points holding several units; the
    best total over the cuts tried (finer ones while before ``deadline``) is returned.
    """
    if inst.is_pinned.any() or inst.n < 2:
        return 0.0  # a pinned centre may sit in a region: t is not limited by its units
    places = _Places(inst)
    if places.size < 2:
        return 0.0
    best, last = 0.0, 0.0
    for labels in _region_levels(places, max_cuts):
        # Finer cuts hold more regions and take longer: do not start one that would
        # likely end past the deadline.
        if deadline is not None and time.monotonic() + 2 * last > deadline:
            break
        started = time.monotonic()
        best = max(best, _level_bound(places, labels, max_regions))
        last = time.monotonic() - started
    return best


class _Places:
    """The distinct points, what each holds, and a search tree over them."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self.xy, self.group = np.unique(inst.xy, axis=0, return_inverse=True)
        self.group = self.group.ravel()
        self.size = len(self.xy)
        w = inst.weights[:, 0]
        self.weight = np.bincount(self.group, weights=w, minlength=self.size)
        self.activity = np.bincount(self.group, weights=inst.activity, minlength=self.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(w > 0, inst.activity / w, np.inf)
        # The least activity per unit of weight at each point prices its weight from below.
        self.rate = np.full(self.size, np.inf)
        np.minimum.at(self.rate, self.group, rate)
        self.least_rate = float(rate.min())
        self.tree = cKDTree(self.xy)
        self.units = np.split(np.argsort(self.group, kind="stable"),
                              np.cumsum(np.bincount(self.group, minlength=self.size))[:-1])


def _region_levels(places: _Places, max_cuts: int):
    """Point labels: each point alone, then the single-link pieces after cutting the
    1, 2, 4... longest edges of the minimum spanning tree."""
    yield np.arange(places.size)
    if places.size < 3:
        return
    try:
        triangles = Delaunay(places.xy).simplices
    except QhullError:  # all points on one line: no triangulation, no cuts
        return
    edges = np.unique(np.sort(np.concatenate(
        [triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [0, 2]]]), axis=1), axis=0)
    length = np.linalg.norm(places.xy[edges[:, 0]] - places.xy[edges[:, 1]], axis=1)
    shape = (places.size, places.size)
    graph = sparse.coo_matrix((length + 1e-300, (edges[:, 0], edges[:, 1])), shape=shape)
    tree = minimum_spanning_tree(graph).tocoo()
    order = np.argsort(-tree.data, kind="stable")
    cuts = 1
    while cuts <= min(max_cuts, len(order)):
        keep = order[cuts:]
        pieces = sparse.coo_matrix((np.ones(keep.size), (tree.row[keep], tree.col[keep])),
                                   shape=shape)
        yield connected_components(pieces, directed=False)[1]
        cuts *= 2


def _level_bound(places: _Places, labels: np.ndarray, max_regions: int,
                 max_points: int = 3000) -> float:
    """Best sum of region bounds among the regions of one labelling of the points."""
    inst = places.inst
    lower, upper = float(inst.lower[0]), float(inst.upper[0])
    points = np.bincount(labels)
    count = np.bincount(labels, weights=np.bincount(places.group, minlength=places.size))
    weight = np.bincount(labels, weights=places.weight, minlength=points.size)
    # Regions that whole territories can fill exactly (lower·t ≤ weight ≤ upper·t for
    # some feasible t) prove nothing; rank the rest by what they could prove at most.
    fewest = np.ceil(weight / upper - 1e-12)
    fits = (fewest <= np.floor(weight / max(lower, 1e-300) + 1e-12)) & (
        fewest <= np.minimum(count, inst.k))
    fits |= (weight <= 0) | (points > max_points)
    candidates = np.flatnonzero(~fits)
    if candidates.size == 0:
        return 0.0
    dist, nearest = places.tree.query(places.xy, k=min(places.size, 9))
    outside = labels[nearest] != labels[:, None]
    gap = np.where(outside.any(axis=1), dist[np.arange(places.size), np.argmax(outside, axis=1)],
                   dist[:, -1] * 4)  # deep inside its region: somewhat beyond its neighbours
    ceiling = np.bincount(labels, weights=places.activity * gap ** inst.power,
                          minlength=points.size)
    candidates = candidates[np.argsort(-ceiling[candidates], kind="stable")][:max_regions]
    members = np.split(np.argsort(labels, kind="stable"), np.cumsum(points)[:-1])
    alone = np.array([_region_bound(places, members[c], None) for c in candidates])
    ranked = candidates[np.argsort(-alone, kind="stable")]
    best = float(alone.max(initial=0.0))
    chosen_count = 2
    while chosen_count <= ranked.size:
        chosen = ranked[:chosen_count]
        free = np.isin(labels, chosen)
        best = max(best, sum(_region_bound(places, members[c], free) for c in chosen))
        chosen_count *= 2
    return best


def _region_bound(places: _Places, region: np.ndarray, free: np.ndarray | None) -> float:
    """min over t of (cost of the region's units served from outside + cost of the
    weight brought in); points marked ``free`` come in at no cost."""
    inst = places.inst
    w = inst.weights[:, 0]
    lower, upper = float(inst.lower[0]), float(inst.upper[0])
    inside = np.zeros(places.size, dtype=bool)
    inside[region] = True
    if inside.all():
        return 0.0
    units = np.concatenate([places.units[p] for p in region])
    own = float(w[units].sum())
    # Past ceil(own / upper) territories nothing is left over and more only bring in more.
    t = np.arange(min(units.size, inst.k, int(np.ceil(own / upper - 1e-12))) + 1)
    leftover_weight = np.maximum(own - t * upper, 0.0)
    imported_weight = np.maximum(t * lower - own, 0.0)
    escape = _escape_distance(places, region, inside)
    unit_escape = np.repeat(escape, [places.units[p].size for p in region])
    leftover = _cheapest_fill(inst.activity[units] * unit_escape ** inst.power, w[units],
                              leftover_weight)
    imported = _import_cost(places, region, inside, free, float(escape.min()),
                            float(imported_weight.max()), imported_weight)
    return float(np.min(leftover + imported))


def _escape_distance(places: _Places, region: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Distance from each point of the region to the nearest point outside it."""
    k = min(places.size, 16)
    while True:
        dist, near = places.tree.query(places.xy[region], k=k)
        dist, near = dist.reshape(region.size, -1), near.reshape(region.size, -1)
        out = ~inside[near]
        if out.any(axis=1).all() or k >= places.size:
            return dist[np.arange(region.size), np.argmax(out, axis=1)]
        k = min(places.size, 4 * k)


def _import_cost(places, region, inside, free, start_radius, needed, amounts):
    """Least cost of bringing each amount of weight into the region: the points within a
    radius exactly, everything beyond at the radius and the least activity per weight."""
    radius = max(start_radius, 1e-9)
    total_outside = float(places.weight[~inside].sum())
    # Free points come in at no cost however far they are: leaving one to the weight
    # beyond the radius would price it there and overstate the bound.
    free_outside = (np.flatnonzero(free & ~inside) if free is not None
                    else np.empty(0, dtype=np.int64))
    while True:
        hits = places.tree.query_ball_point(places.xy[region], radius)
        near = np.unique(np.concatenate([np.asarray(h, dtype=np.int64) for h in hits]
                                        + [free_outside]))
        near = near[~inside[near]]
        carried = float(places.weight[near].sum())
        if carried >= needed or carried >= total_outside or radius > 1e12:
            break
        radius *= 2
    reach = cKDTree(places.xy[region]).query(places.xy[near])[0] ** places.inst.power
    cost = places.rate[near] * places.weight[near] * reach
    if free is not None:
        cost = np.where(free[near], 0.0, cost)
    beyond = max(total_outside - carried, 0.0)
    cost = np.append(cost, places.least_rate * radius ** places.inst.power * beyond
                     if beyond > 0 else 0.0)
    return _cheapest_fill(cost, np.append(places.weight[near], beyond), amounts)


def _cheapest_fill(cost: np.ndarray, weight: np.ndarray, needed: np.ndarray) -> np.ndarray:
    """For each amount in ``needed``: min Σ cost·x with Σ weight·x ≥ amount, 0 ≤ x ≤ 1
    (infinite when the items cannot carry that much)."""
    carrying = weight > 0
    cost, weight = cost[carrying], weight[carrying]
    ratio = cost / weight
    order = np.argsort(ratio, kind="stable")
    cum_w = np.concatenate([[0.0], np.cumsum(weight[order])])
    cum_c = np.concatenate([[0.0], np.cumsum(cost[order])])
    needed = np.asarray(needed, dtype=float)
    at = np.clip(np.searchsorted(cum_w, needed, side="left"), 1, max(len(order), 1))
    if len(order) == 0:
        return np.where(needed > 0, np.inf, 0.0)
    value = cum_c[at - 1] + (needed - cum_w[at - 1]) * ratio[order][at - 1]
    return np.where(needed <= 0, 0.0, np.where(needed > cum_w[-1] * (1 + 1e-12), np.inf, value))


def lp_multipliers(inst: Instance, deadline: float,
                   iterations: int | None = None) -> np.ndarray | None:
    """Duals of "each unit is served once" in the LP relaxation of the exact model.

    The subgradient steps stall a few per cent short of the LP bound on instances of a
    few hundred units; these duals start the Lagrangian at (about) the LP optimum. Any
    λ gives a valid bound, so an LP stopped early only makes the start worse.
    """
    from .exact import lp_relaxation_duals  # the exact model lives with the MILP

    return lp_relaxation_duals(inst, deadline, iterations)
