"""Normalise and check a problem: projection, bounds, adjacency, clear errors."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .model import AlignmentInfeasible, AlignmentProblem
from .proofs import BalanceProofs, reason, remedy

EARTH_RADIUS_KM = 6371.0088
# Totals may exceed a bound by this relative amount (float sums) and still count as balanced.
BALANCE_TOLERANCE = 1e-9


def project_equal_area(lat_lon: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Lambert azimuthal equal-area projection (sphere) centred on the points' middle, in km."""
    lat = np.radians(lat_lon[:, 0])
    lon = np.radians(lat_lon[:, 1])
    lat0 = float(np.mean(lat))
    lon0 = float(np.arctan2(np.mean(np.sin(lon)), np.mean(np.cos(lon))))
    return _laea(lat, lon, lat0, lon0), (lat0, lon0)


def _laea(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    cos_c = np.sin(lat0) * np.sin(lat) + np.cos(lat0) * np.cos(lat) * np.cos(lon - lon0)
    kp = np.sqrt(2.0 / np.maximum(1.0 + cos_c, 1e-12))
    x = kp * np.cos(lat) * np.sin(lon - lon0)
    y = kp * (np.cos(lat0) * np.sin(lat) - np.sin(lat0) * np.cos(lat) * np.cos(lon - lon0))
    return EARTH_RADIUS_KM * np.column_stack([x, y])


def unproject(xy: np.ndarray, origin: tuple[float, float]) -> np.ndarray:
    """Inverse of the projection: km back to (lat, lon) degrees."""
    lat0, lon0 = origin
    x, y = xy[:, 0] / EARTH_RADIUS_KM, xy[:, 1] / EARTH_RADIUS_KM
    rho = np.hypot(x, y)
    c = 2.0 * np.arcsin(np.clip(rho / 2.0, -1.0, 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        lat = np.arcsin(
            np.cos(c) * np.sin(lat0) + np.where(rho > 0, y * np.sin(c) * np.cos(lat0) / rho, 0.0)
        )
        lon = lon0 + np.arctan2(
            x * np.sin(c), rho * np.cos(lat0) * np.cos(c) - y * np.sin(lat0) * np.sin(c)
        )
    return np.column_stack([np.degrees(lat), (np.degrees(lon) + 180.0) % 360.0 - 180.0])


@dataclass
class Instance:
    """A checked problem in planar km with every array in the shape the solvers use."""

    xy: np.ndarray  # (n, 2) km
    weights: np.ndarray  # (n, m)
    activity: np.ndarray  # (n,)
    k: int
    power: int  # 2 for squared distance, 1 for distance
    mean: np.ndarray  # (m,)
    lower: np.ndarray  # (m,)
    upper: np.ndarray  # (m,)
    tau: np.ndarray  # (m,)
    graph: sparse.csr_matrix | None  # symmetric adjacency
    locked: np.ndarray  # (n,) territory or -1
    pinned: np.ndarray  # (k, 2) km, NaN where the centre is free
    current: np.ndarray | None  # (n,) territory or -1
    min_keep_share: float | None
    move_penalty: float
    origin: tuple[float, float] | None

    @property
    def n(self) -> int:
        return self.xy.shape[0]

    @property
    def is_pinned(self) -> np.ndarray:
        return ~np.isnan(self.pinned[:, 0])

    def cost_to_points(self, units: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Objective cost of serving ``units`` (array) from ``points`` ((len, 2) or (2,))."""
        d2 = np.sum((self.xy[units] - points) ** 2, axis=-1)
        dist = d2 if self.power == 2 else np.sqrt(d2)
        return self.activity[units] * dist

    def to_output_coordinates(self, xy: np.ndarray) -> np.ndarray:
        return unproject(xy, self.origin) if self.origin is not None else xy


def build_instance(problem: AlignmentProblem) -> Instance:
    """Validate ``problem`` and raise AlignmentInfeasible naming what cannot be met."""
    coords = np.asarray(problem.coordinates, dtype=float)
    n = coords.shape[0] if coords.ndim == 2 else 0
    if coords.ndim != 2 or coords.shape[1] != 2 or not np.all(np.isfinite(coords)):
        raise AlignmentInfeasible("coordinates", "coordinates must be finite (n, 2) pairs")
    weights = _weights(problem, n)
    k = int(problem.k)
    if k < 1:
        raise AlignmentInfeasible("k", f"K must be at least 1, got {k}")
    if k > n:
        raise AlignmentInfeasible(
            "k", f"K={k} territories but only {n} units: {k - n} territories would stay empty"
        )
    tau = np.broadcast_to(np.asarray(problem.tau, dtype=float), (weights.shape[1],)).copy()
    if np.any(tau < 0) or not np.all(np.isfinite(tau)):
        raise AlignmentInfeasible("tau", "tau must be a non-negative share, e.g. 0.05")
    mean = weights.sum(axis=0) / k
    lower, upper = mean * (1 - tau), mean * (1 + tau)
    if problem.geographic:
        xy, origin = project_equal_area(coords)
    else:
        xy, origin = coords.copy(), None
    activity = _activity(problem, weights, n)
    pinned = _pinned(problem, k, origin)
    inst = Instance(
        xy=xy, weights=weights, activity=activity, k=k,
        power=2 if problem.objective == "squared" else 1,
        mean=mean, lower=lower, upper=upper, tau=tau,
        graph=_graph(problem.adjacency, n), locked=_locked(problem, n, k),
        pinned=pinned, current=_current(problem, n, k),
        min_keep_share=problem.min_keep_share, move_penalty=float(problem.move_penalty),
        origin=origin,
    )
    _check_balance_is_reachable(inst)
    _check_locked(inst)
    _check_adjacency(inst)
    _check_disruption(inst)
    return inst


def _weights(problem: AlignmentProblem, n: int) -> np.ndarray:
    weights = np.asarray(problem.weights, dtype=float)
    if weights.ndim == 1:
        weights = weights[:, None]
    if weights.ndim != 2 or weights.shape[0] != n:
        raise AlignmentInfeasible("weights", f"weights must have one row per unit ({n})")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        bad = int(np.argmax(~np.isfinite(weights).all(axis=1) | (weights < 0).any(axis=1)))
        raise AlignmentInfeasible("weights", f"unit {bad} has a negative or missing weight")
    if np.any(weights.sum(axis=0) <= 0):
        raise AlignmentInfeasible("weights", "every balance measure needs a positive total")
    return weights


def _activity(problem: AlignmentProblem, weights: np.ndarray, n: int) -> np.ndarray:
    if problem.activity is None:
        return weights[:, 0].copy()
    activity = np.asarray(problem.activity, dtype=float).reshape(-1)
    if activity.shape[0] != n or np.any(activity < 0) or not np.all(np.isfinite(activity)):
        raise AlignmentInfeasible("activity", "activity must be one non-negative number per unit")
    return activity


def _pinned(problem: AlignmentProblem, k: int, origin) -> np.ndarray:
    pinned = np.full((k, 2), np.nan)
    for territory, point in problem.pinned_centres.items():
        if not 0 <= territory < k:
            raise AlignmentInfeasible(
                "pinned", f"pinned centre for territory {territory} ∉ 0..{k - 1}"
            )
        p = np.asarray(point, dtype=float).reshape(1, 2)
        if origin is not None:
            p = _laea(np.radians(p[:, 0]), np.radians(p[:, 1]), *origin)
        pinned[territory] = p[0]
    return pinned


def _graph(adjacency, n: int) -> sparse.csr_matrix | None:
    if adjacency is None:
        return None
    pairs = np.asarray(adjacency, dtype=np.int64).reshape(-1, 2)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= n):
        raise AlignmentInfeasible("adjacency", f"adjacency names a unit outside 0..{n - 1}")
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    ones = np.ones(len(pairs) * 2, dtype=np.int8)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    graph = sparse.csr_matrix((ones, (rows, cols)), shape=(n, n))
    graph.data[:] = 1
    return graph


def _locked(problem: AlignmentProblem, n: int, k: int) -> np.ndarray:
    locked = np.full(n, -1, dtype=np.int64)
    for unit, territory in problem.locked.items():
        if not 0 <= unit < n:
            raise AlignmentInfeasible("locked", f"locked unit {unit} ∉ 0..{n - 1}")
        if not 0 <= territory < k:
            raise AlignmentInfeasible(
                "locked", f"unit {unit} locked to territory {territory} ∉ 0..{k - 1}"
            )
        locked[unit] = territory
    return locked


def _current(problem: AlignmentProblem, n: int, k: int) -> np.ndarray | None:
    if problem.current is None:
        return None
    current = np.asarray(problem.current, dtype=np.int64).reshape(-1)
    if current.shape[0] != n or current.max(initial=-1) >= k or current.min(initial=0) < -1:
        raise AlignmentInfeasible(
            "current", f"current assignment must give 0..{k - 1} or -1 per unit"
        )
    return current


def _check_balance_is_reachable(inst: Instance) -> None:
    """Refuse at once what a counting or weight argument proves impossible (see
    ``proofs``), saying how wide a balance, or how many territories, would pass."""
    checks = BalanceProofs(inst.weights)
    found = checks.obstacle(inst.k, inst.tau)
    if found is None:
        return
    wider = checks.wider_tau(inst.k, inst.tau)
    other = checks.nearest_k(inst.k, inst.tau, inst.n)
    weights, k, tau = inst.weights, inst.k, inst.tau.copy()

    def explain(measure_name, unit_name, territory_name) -> str:
        text = reason(found, weights, k, tau, measure_name, unit_name)
        return f"{text[0].upper()}{text[1:]}. {remedy(wider, other, k)}"

    error = AlignmentInfeasible("tau", "", explain=explain, wider_tau=wider, other_k=other)
    error.args = (error.describe(),)
    raise error


def _check_locked(inst: Instance) -> None:
    if not np.any(inst.locked >= 0):
        return
    mask = inst.locked >= 0
    for m in range(inst.weights.shape[1]):
        totals = np.bincount(inst.locked[mask], weights=inst.weights[mask, m], minlength=inst.k)
        worst = int(np.argmax(totals))
        if totals[worst] > inst.upper[m] * (1 + BALANCE_TOLERANCE):
            held, upper, tau = float(totals[worst]), float(inst.upper[m]), float(inst.tau[m])
            wider = math.ceil(1000 * (held / inst.mean[m] - 1) - 1e-6) / 1000

            def explain(measure_name, unit_name, territory_name, m=m, worst=worst, held=held,
                        upper=upper, tau=tau, wider=wider) -> str:
                return (f"The units kept in place in {territory_name(worst)} already have "
                        f"{held:,.4g} of {measure_name(m)}, more than the {upper:,.4g} a "
                        f"territory may hold at ±{100 * tau:g}%. Keep fewer in place there, "
                        f"or allow a wider balance, e.g. ±{100 * wider:g}%.")

            error = AlignmentInfeasible("locked", "", explain=explain, wider_tau=wider)
            error.args = (error.describe(),)
            raise error


def _check_adjacency(inst: Instance) -> None:
    if inst.graph is None:
        return
    count, labels = connected_components(inst.graph, directed=False)
    if count > inst.k:
        raise AlignmentInfeasible(
            "adjacency",
            f"the adjacency splits the units into {count} separate pieces but there are only "
            f"{inst.k} territories; {count - inst.k} more territories (or more neighbour links) "
            "are needed",
        )
    low_total, high_total = 0, 0
    for c in range(count):
        members = labels == c
        totals = inst.weights[members].sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            low = np.max(np.ceil(totals / inst.upper - 1e-9))
            high = np.min(np.where(inst.lower > 0, np.floor(totals / inst.lower + 1e-9), np.inf))
        low = max(low, 1)
        if low > high:
            raise AlignmentInfeasible(
                "adjacency",
                f"the connected piece containing unit {int(np.argmax(members))} "
                f"({int(members.sum())} units, totals {np.round(totals, 3).tolist()}) cannot be "
                "split into whole territories within balance; raise tau or link it to its "
                "neighbours",
            )
        low_total += int(low)
        high_total += int(min(high, inst.k))
    if not low_total <= inst.k <= high_total:
        raise AlignmentInfeasible(
            "adjacency",
            f"the {count} connected pieces need between {low_total} and {high_total} territories "
            f"to stay within balance, not {inst.k}",
        )


def _check_disruption(inst: Instance) -> None:
    share = inst.min_keep_share
    if share is None:
        return
    if not 0 <= share <= 1:
        raise AlignmentInfeasible("keep_share", f"min_keep_share must be within 0..1, got {share}")
    if inst.current is None:
        raise AlignmentInfeasible("keep_share", "min_keep_share needs the current assignment")
    w = inst.weights[:, 0]
    conflicting = (inst.locked >= 0) & (inst.locked != inst.current)
    attainable = (w.sum() - w[conflicting].sum() - w[inst.current < 0].sum()) / w.sum()
    if attainable < share - 1e-12:
        raise AlignmentInfeasible(
            "keep_share",
            f"at most {attainable:.1%} of the weight can stay in place (locks and unassigned "
            f"units move the rest), {share - attainable:.1%} short of {share:.1%}",
        )
