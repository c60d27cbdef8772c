"""Location–allocation alternation with balance/contiguity repair and local search.

1. Seed: balanced recursive bisection of the plane (or the current alignment).
2. Repeat: allocate units to the centres by the balanced transportation LP,
   round, cut off pieces that break contiguity, repair balance by moves that
   keep contiguity, improve by cost-reducing moves, then move each free centre
   to the best unit of its territory (Hess: the unit nearest the weighted
   centroid). Stop when the centres no longer change or time runs out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .allocation import allocate, arc_costs
from .contiguity import contiguity_status, fragments, stays_connected_without
from .instance import BALANCE_TOLERANCE, Instance


@dataclass
class Alignment:
    assignment: np.ndarray
    centre_units: np.ndarray  # -1 where the centre is pinned
    centre_xy: np.ndarray


def totals_of(inst: Instance, assignment: np.ndarray) -> np.ndarray:
    return np.stack(
        [np.bincount(assignment, weights=inst.weights[:, m], minlength=inst.k)
         for m in range(inst.weights.shape[1])],
        axis=1,
    )


def violation(inst: Instance, totals: np.ndarray) -> np.ndarray:
    """Per territory: summed relative excess over the bounds (0 when balanced)."""
    slack = inst.mean * BALANCE_TOLERANCE
    over = np.maximum(0.0, totals - inst.upper - slack)
    under = np.maximum(0.0, inst.lower - slack - totals)
    return ((over + under) / inst.mean).sum(axis=-1)


def objective(inst: Instance, al: Alignment) -> float:
    units = np.arange(inst.n)
    return float(arc_costs(inst, al.centre_xy, units, al.assignment).sum())


def kept_weight(inst: Instance, assignment: np.ndarray) -> float:
    if inst.current is None:
        return 0.0
    return float(inst.weights[inst.current == assignment, 0].sum())


# ---------------------------------------------------------------- seeding


def seed(inst: Instance) -> np.ndarray:
    """A balanced, compact first assignment consistent with graph components and labels."""
    if inst.current is not None and np.all(inst.current >= 0):
        assignment = inst.current.copy()
        assignment[inst.locked >= 0] = inst.locked[inst.locked >= 0]
        return assignment
    groups = _component_groups(inst)
    assignment = np.empty(inst.n, dtype=np.int64)
    next_label = 0
    for members, count in groups:
        parts = _bisect(inst.xy[members], inst.weights[members, 0] + 1e-12, count)
        assignment[members] = parts + next_label
        next_label += count
    return _match_labels(inst, assignment)


def _component_groups(inst: Instance) -> list[tuple[np.ndarray, int]]:
    if inst.graph is None:
        return [(np.arange(inst.n), inst.k)]
    count, labels = connected_components(inst.graph, directed=False)
    share = np.bincount(labels, weights=inst.weights[:, 0], minlength=count) / inst.mean[0]
    low = np.maximum(1, np.ceil(share / (1 + inst.tau[0]) - 1e-9)).astype(int)
    wanted = np.clip(np.round(share).astype(int), low, None)
    while wanted.sum() > inst.k:
        spare = np.flatnonzero(wanted > low)
        wanted[spare[np.argmin((share - wanted)[spare])]] -= 1
    while wanted.sum() < inst.k:
        wanted[np.argmax(share - wanted)] += 1
    return [(np.flatnonzero(labels == c), int(wanted[c])) for c in range(count)]


def _bisect(xy: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """Split points into k parts of near-equal weight by recursive cuts along the long side."""
    out = np.zeros(len(xy), dtype=np.int64)
    stack = [(np.arange(len(xy)), k, 0)]
    while stack:
        idx, parts, base = stack.pop()
        if parts == 1 or len(idx) <= 1:
            out[idx] = base
            continue
        left_parts = parts // 2
        span = xy[idx].max(axis=0) - xy[idx].min(axis=0)
        axis = int(np.argmax(span))
        order = idx[np.argsort(xy[idx, axis], kind="stable")]
        cum = np.cumsum(w[order])
        cut = int(np.searchsorted(cum, cum[-1] * left_parts / parts))
        cut = min(max(cut, left_parts), len(order) - (parts - left_parts))
        stack.append((order[:cut], left_parts, base))
        stack.append((order[cut:], parts - left_parts, base + left_parts))
    return out


def _match_labels(inst: Instance, assignment: np.ndarray) -> np.ndarray:
    """Give seed parts the territory labels that fit their locks, pins and current units best."""
    k = inst.k
    score = np.zeros((k, k))
    locked = inst.locked >= 0
    if locked.any():
        np.add.at(score, (assignment[locked], inst.locked[locked]), 1e6)
    if inst.current is not None:
        known = inst.current >= 0
        np.add.at(score, (assignment[known], inst.current[known]), inst.weights[known, 0])
    pinned = np.flatnonzero(inst.is_pinned)
    if pinned.size:
        cx = _centroids(inst, assignment)
        dist = np.linalg.norm(cx[:, None, :] - inst.pinned[None, pinned, :], axis=2)
        score[:, pinned] -= dist * (inst.weights[:, 0].sum() / k)
    rows, cols = linear_sum_assignment(score, maximize=True)
    relabel = np.empty(k, dtype=np.int64)
    relabel[rows] = cols
    out = relabel[assignment]
    out[locked] = inst.locked[locked]
    return out


def _centroids(inst: Instance, assignment: np.ndarray) -> np.ndarray:
    w = inst.activity + 1e-9
    total = np.bincount(assignment, weights=w, minlength=inst.k)
    cx = np.bincount(assignment, weights=w * inst.xy[:, 0], minlength=inst.k)
    cy = np.bincount(assignment, weights=w * inst.xy[:, 1], minlength=inst.k)
    safe = np.where(total > 0, total, 1.0)
    return np.column_stack([cx / safe, cy / safe])


# ---------------------------------------------------------------- centres


def recentre(inst: Instance, assignment: np.ndarray) -> Alignment:
    """Best centre unit of each territory (pinned centres stay)."""
    centre_units = np.full(inst.k, -1, dtype=np.int64)
    centre_xy = inst.pinned.copy()
    target = _centroids(inst, assignment)
    order = np.argsort(assignment, kind="stable")
    splits = np.split(order, np.flatnonzero(np.diff(assignment[order])) + 1)
    for members in splits:
        if members.size == 0:
            continue
        t = int(assignment[members[0]])
        if inst.is_pinned[t]:
            continue
        if inst.power == 2:
            best = members[np.argmin(np.sum((inst.xy[members] - target[t]) ** 2, axis=1))]
        else:
            best = _medoid(inst, members, target[t])
        centre_units[t] = best
        centre_xy[t] = inst.xy[best]
    for empty in np.flatnonzero(np.isnan(centre_xy[:, 0])):  # empty free territory
        centre_units[empty] = -1
        centre_xy[empty] = inst.xy[0]
    return Alignment(assignment, centre_units, centre_xy)


def _medoid(inst: Instance, members: np.ndarray, start: np.ndarray) -> int:
    point = start
    w = inst.activity[members] + 1e-12
    for _ in range(20):  # Weiszfeld steps towards the weighted geometric median
        d = np.maximum(np.linalg.norm(inst.xy[members] - point, axis=1), 1e-9)
        point = (w / d) @ inst.xy[members] / np.sum(w / d)
    near = members[np.argsort(np.sum((inst.xy[members] - point) ** 2, axis=1))[:12]]
    costs = [np.sum(w * np.linalg.norm(inst.xy[members] - inst.xy[c], axis=1)) for c in near]
    return int(near[int(np.argmin(costs))])


# ---------------------------------------------------------------- moves


class Mover:
    """Applies single-unit moves while tracking totals, kept weight and contiguity."""

    def __init__(self, inst: Instance, al: Alignment, nearest: int = 8):
        self.inst, self.al = inst, al
        self.totals = totals_of(inst, al.assignment)
        self.kept = kept_weight(inst, al.assignment)
        self.min_kept = (
            inst.min_keep_share * inst.weights[:, 0].sum() - 1e-9
            if inst.min_keep_share is not None else -np.inf
        )
        self.frozen = inst.locked >= 0
        self.frozen[al.centre_units[al.centre_units >= 0]] = True
        if inst.graph is None:
            q = min(nearest, inst.k)
            self.near = cKDTree(al.centre_xy).query(inst.xy, k=q)[1].reshape(inst.n, q)

    def arcs(self, wanted_territories: np.ndarray | None = None):
        a = self.al.assignment
        if self.inst.graph is None:
            units = np.repeat(np.arange(self.inst.n), self.near.shape[1])
            terr = self.near.reshape(-1)
        else:
            coo = self.inst.graph.tocoo()
            units, terr = coo.row, a[coo.col]
        keep = (terr != a[units]) & ~self.frozen[units]
        if wanted_territories is not None:
            keep &= wanted_territories[a[units]] | wanted_territories[terr]
        units, terr = units[keep], terr[keep]
        if self.inst.graph is not None:
            pairs = np.unique(units * self.inst.k + terr)
            units, terr = pairs // self.inst.k, pairs % self.inst.k
        return units, terr

    def delta_cost(self, units, terr):
        a = self.al.assignment
        xy = self.al.centre_xy
        return arc_costs(self.inst, xy, units, terr) - arc_costs(self.inst, xy, units, a[units])

    def kept_change(self, unit: int, target: int) -> float:
        cur = self.inst.current
        if cur is None:
            return 0.0
        w = self.inst.weights[unit, 0]
        return w * (int(cur[unit] == target) - int(cur[unit] == self.al.assignment[unit]))

    def try_move(self, unit: int, target: int) -> bool:
        a = self.al.assignment
        change = self.kept_change(unit, target)
        if change < 0 and self.kept + change < self.min_kept:
            return False
        if self.inst.graph is not None and not stays_connected_without(self.inst.graph, a, unit):
            return False
        source = a[unit]
        self.totals[source] -= self.inst.weights[unit]
        self.totals[target] += self.inst.weights[unit]
        self.kept += change
        a[unit] = target
        return True


def repair_balance(inst: Instance, al: Alignment, deadline: float, max_rounds: int = 400) -> bool:
    """Move units out of heavy and into light territories, cheapest per unit of violation."""
    mover = Mover(inst, al)
    for _ in range(max_rounds):
        viol = violation(inst, mover.totals)
        bad = viol > 0
        if not bad.any():
            return True
        if time.monotonic() > deadline:
            return False
        units, terr = mover.arcs(bad)
        if units.size == 0:
            return False
        src = al.assignment[units]
        w = inst.weights[units]
        dv = (violation(inst, mover.totals[src] - w) + violation(inst, mover.totals[terr] + w)
              - viol[src] - viol[terr])
        push = _push_towards_room(inst, mover, viol, units, terr, dv)
        ok = (dv < -1e-12) | push
        if not ok.any():
            return False
        units, terr, dv = units[ok], terr[ok], dv[ok]
        dc = mover.delta_cost(units, terr)
        score = np.where(dv < -1e-12, dc / np.maximum(-dv, 1e-12), 1e30 + dc)
        if not _apply_in_order(mover, units, terr, np.argsort(score, kind="stable")):
            return False  # nothing moved (all kept in place): every later round is the same
    return not (violation(inst, mover.totals) > 0).any()


def _push_towards_room(inst, mover, viol, units, terr, dv) -> np.ndarray:
    """Allow neutral moves that pass excess one step closer to a territory with room."""
    if inst.graph is None or not (viol > 0).any():
        return np.zeros(units.shape, dtype=bool)
    a = mover.al.assignment
    coo = inst.graph.tocoo()
    cross = a[coo.row] != a[coo.col]
    tgraph = sparse.coo_matrix(
        (np.ones(int(cross.sum())), (a[coo.row][cross], a[coo.col][cross])), shape=(inst.k, inst.k)
    ).tocsr()
    over = (mover.totals > inst.upper).any(axis=1)
    typical = inst.weights.mean(axis=0)
    room = ~over & np.all(mover.totals + typical <= inst.upper, axis=1)
    hops = _hops_from(tgraph, room)
    src = a[units]
    return over[src] & (hops[terr] < hops[src]) & (dv <= 1e-12 + 1.0)


def _hops_from(tgraph: sparse.csr_matrix, sources: np.ndarray) -> np.ndarray:
    hops = np.where(sources, 0.0, np.inf)
    frontier = sources.copy()
    step = 0
    while frontier.any():
        step += 1
        reached = (tgraph @ frontier.astype(float)) > 0
        new = reached & np.isinf(hops)
        hops[new] = step
        frontier = new
    return hops


def _apply_in_order(mover: Mover, units, terr, order, limit: int = 20000) -> int:
    touched = np.zeros(mover.inst.k, dtype=bool)
    applied = 0
    src = mover.al.assignment[units]
    for idx in order[:limit]:
        s, t = src[idx], terr[idx]
        if touched[s] or touched[t]:
            continue
        if mover.try_move(int(units[idx]), int(t)):
            touched[s] = touched[t] = True
            applied += 1
    return applied


def improve(inst: Instance, al: Alignment, deadline: float, max_rounds: int = 200) -> int:
    """Cost-reducing single moves that keep every territory within balance."""
    mover = Mover(inst, al)
    moves = 0
    tol = inst.mean * BALANCE_TOLERANCE
    for _ in range(max_rounds):
        if time.monotonic() > deadline:
            break
        units, terr = mover.arcs()
        dc = mover.delta_cost(units, terr)
        ok = dc < -1e-9
        units, terr, dc = units[ok], terr[ok], dc[ok]
        w = inst.weights[units]
        src = al.assignment[units]
        fits = np.all(mover.totals[src] - w >= inst.lower - tol, axis=1) & np.all(
            mover.totals[terr] + w <= inst.upper + tol, axis=1
        )
        units, terr, dc = units[fits], terr[fits], dc[fits]
        if units.size == 0:
            break
        applied = _apply_in_order(mover, units, terr, np.argsort(dc, kind="stable"))
        moves += applied
        if applied == 0:
            break
    for _ in range(max_rounds):
        if time.monotonic() > deadline:
            break
        swapped = _swap_round(inst, mover)
        moves += swapped
        if swapped == 0:
            break
    return moves


def _swap_round(inst: Instance, mover: Mover, per_side: int = 12) -> int:
    """Exchange a unit of a with a unit of b when it lowers cost and keeps both balanced."""
    a = mover.al.assignment
    units, terr = mover.arcs()
    if units.size == 0:
        return 0
    dc = mover.delta_cost(units, terr)
    src = a[units]
    order = np.lexsort((dc, terr, src))
    units, terr, dc, src = units[order], terr[order], dc[order], src[order]
    key = src * inst.k + terr
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], key.size]
    block = {int(key[s]): (s, min(e, s + per_side)) for s, e in zip(starts, ends, strict=True)}
    tol = inst.mean * BALANCE_TOLERANCE
    touched = np.zeros(inst.k, dtype=bool)
    done = 0
    for kab, (s1, e1) in block.items():
        ta, tb = divmod(kab, inst.k)
        if ta > tb or touched[ta] or touched[tb] or (tb * inst.k + ta) not in block:
            continue
        s2, e2 = block[tb * inst.k + ta]
        gain = dc[s1:e1, None] + dc[None, s2:e2]
        wi = inst.weights[units[s1:e1]][:, None, :]
        wj = inst.weights[units[s2:e2]][None, :, :]
        new_a = mover.totals[ta] - wi + wj
        new_b = mover.totals[tb] + wi - wj
        ok = (gain < -1e-9) & np.all(
            (new_a >= inst.lower - tol) & (new_a <= inst.upper + tol)
            & (new_b >= inst.lower - tol) & (new_b <= inst.upper + tol), axis=2)
        for flat in np.argsort(np.where(ok, gain, np.inf), axis=None)[: int(ok.sum())]:
            i, j = np.unravel_index(flat, gain.shape)
            ui, uj = int(units[s1 + i]), int(units[s2 + j])
            if _swap(mover, ui, uj, ta, tb):
                touched[ta] = touched[tb] = True
                done += 1
                break
    return done


def _swap(mover: Mover, ui: int, uj: int, ta: int, tb: int) -> bool:
    if not mover.try_move(ui, tb):
        return False
    if mover.inst.graph is not None and not _touches(mover, uj, ta):
        mover.try_move(ui, ta)
        return False
    if mover.try_move(uj, ta):
        return True
    mover.try_move(ui, ta)
    return False


def _touches(mover: Mover, unit: int, territory: int) -> bool:
    g = mover.inst.graph
    assert g is not None  # noqa: S101 - contiguity moves need the adjacency graph
    neighbours = g.indices[g.indptr[unit] : g.indptr[unit + 1]]
    return bool(np.any(mover.al.assignment[neighbours] == territory))


def repair_contiguity(inst: Instance, al: Alignment) -> None:
    """Hand every stray piece of a territory to the neighbouring territory it touches most."""
    if inst.graph is None:
        return
    locked = inst.locked >= 0
    centres = np.zeros(inst.n, dtype=bool)
    centres[al.centre_units[al.centre_units >= 0]] = True
    a = al.assignment
    for _ in range(50):
        # A centre's piece gives way to a locked unit's piece of the same territory: the
        # locked unit cannot move, the centre is re-chosen inside what the territory keeps.
        strays = fragments(inst.graph, a, locked, prefer=centres)
        if not strays:
            break
        for piece in strays:
            nbrs = inst.graph[piece].indices
            nbrs = nbrs[a[nbrs] != a[piece[0]]]
            if nbrs.size == 0:
                continue
            a[piece] = np.bincount(a[nbrs], minlength=inst.k).argmax()
    _recentre_moved(inst, al)


def _recentre_moved(inst: Instance, al: Alignment) -> None:
    """Give a territory whose centre unit was handed to another territory a centre
    among its own units (the repairs and moves that follow keep centres in place)."""
    for t in np.flatnonzero(al.centre_units >= 0):
        if al.assignment[al.centre_units[t]] == t:
            continue
        members = np.flatnonzero(al.assignment == t)
        if members.size == 0:
            continue
        unit = members[np.argmin(np.sum((inst.xy[members] - al.centre_xy[t]) ** 2, axis=1))]
        al.centre_units[t] = unit
        al.centre_xy[t] = inst.xy[unit]


def is_contiguous(inst: Instance, assignment: np.ndarray) -> bool:
    return inst.graph is None or bool(contiguity_status(inst.graph, assignment, inst.k).all())


def feasible(inst: Instance, assignment: np.ndarray) -> bool:
    ok = not (violation(inst, totals_of(inst, assignment)) > 0).any()
    if inst.min_keep_share is not None:
        ok &= kept_weight(inst, assignment) >= inst.min_keep_share * inst.weights[:, 0].sum() - 1e-9
    return bool(ok and is_contiguous(inst, assignment))


def alternate(
    inst: Instance, deadline: float, progress, seed_value: int = 0, patience: int = 40,
    keep: int = 3, max_starts: int | None = None, first: np.ndarray | None = None,
) -> tuple[list[Alignment], int]:
    """Multi-start location–allocation: the best feasible local optimum over several seeds.

    The first start is the current alignment (or a balanced bisection); later ones
    alternate between bisecting the plane along a random direction and spreading
    random centres (each drawn with odds growing with the squared distance to those
    already drawn). Bisections all give the same grid-like layout of territories, and
    each layout has its own local optimum; spread centres reach other layouts, which is
    where the best alignments of a few hundred units were found. Stops after
    ``patience`` starts without improvement, after ``max_starts`` starts or at the
    deadline (the first start always begins). ``first``, when given, is the first start
    instead of the current alignment or bisection. Returns the best few
    feasible local optima of different cost, best first (or the start's result nearest to
    feasible when none is), and the number of allocation rounds.
    """
    rng = np.random.default_rng(seed_value)
    started = time.monotonic()
    elite: list[tuple[float, Alignment]] = []
    best_obj, fallback, rounds, since_best, start, spent = np.inf, None, 0, 0, 0, 0.0
    limit = np.inf if max_starts is None else max_starts
    while since_best < patience and start < limit and (start == 0 or time.monotonic() < deadline):
        if start == 0:
            initial = seed(inst) if first is None else first
        else:
            initial = _rotated_seed(inst, rng) if start % 2 else _spread_seed(inst, rng)
        al, used = _local_optimum(inst, recentre(inst, initial), deadline)
        rounds += used
        start += 1
        shortfall = _shortfall(inst, al)
        if fallback is None or shortfall < fallback[0]:
            fallback = (shortfall, al)
        obj = objective(inst, al)
        since_best += 1
        if feasible(inst, al.assignment):
            if obj < best_obj - 1e-9 * max(1.0, abs(obj)):
                best_obj, since_best = obj, 0
            _keep_among_best(elite, obj, al, keep)
        if progress:
            # Whichever runs out first, the time or the starts, tells how far along we are;
            # a better start resets the patience count, but the bar never moves back.
            spent = max(spent, (time.monotonic() - started) / max(deadline - started, 1e-9),
                        start / limit, since_best / patience)
            progress(min(0.7, 0.1 + 0.6 * spent), f"start {start}: best objective {best_obj:.4g}")
    assert fallback is not None, "no start ran"  # noqa: S101
    return [al for _, al in elite] or [fallback[1]], rounds


def _shortfall(inst: Instance, al: Alignment) -> float:
    """How far an alignment is from meeting every constraint: its balance violation,
    plus one per territory in more than one piece (0 when feasible)."""
    total = float(violation(inst, totals_of(inst, al.assignment)).sum())
    if inst.graph is not None:
        total += float((~contiguity_status(inst.graph, al.assignment, inst.k)).sum())
    return total


def _keep_among_best(elite: list, obj: float, al: Alignment, keep: int) -> None:
    """Insert ``al`` into the sorted list of the ``keep`` best, skipping equal costs."""
    if any(abs(obj - other) <= 1e-9 * max(1.0, abs(obj)) for other, _ in elite):
        return
    elite.append((obj, al))
    elite.sort(key=lambda pair: pair[0])
    del elite[keep:]


def _rotated_seed(inst: Instance, rng: np.random.Generator) -> np.ndarray:
    angle = rng.uniform(0, np.pi)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    saved = inst.xy
    inst.xy = saved @ rot
    try:
        jitter = inst.weights[:, 0] * rng.uniform(0.8, 1.2, inst.n)
        groups = _component_groups(inst)
        assignment = np.empty(inst.n, dtype=np.int64)
        label = 0
        for members, count in groups:
            assignment[members] = _bisect(inst.xy[members], jitter[members] + 1e-12, count) + label
            label += count
    finally:
        inst.xy = saved
    return _match_labels(inst, assignment)


def _spread_seed(inst: Instance, rng: np.random.Generator) -> np.ndarray:
    """Units served by their nearest of randomly spread centres (k-means++ draws)."""
    assignment = np.empty(inst.n, dtype=np.int64)
    label = 0
    for members, count in _component_groups(inst):
        xy = inst.xy[members]
        odds = inst.activity[members] + 1e-12
        centres = [int(rng.choice(members.size, p=odds / odds.sum()))]
        nearest = np.sum((xy - xy[centres[0]]) ** 2, axis=1)
        for _ in range(count - 1):
            spread = nearest * odds
            total = spread.sum()
            pick = (int(rng.choice(members.size, p=spread / total)) if total > 0
                    else int(rng.integers(members.size)))
            centres.append(pick)
            nearest = np.minimum(nearest, np.sum((xy - xy[pick]) ** 2, axis=1))
        assignment[members] = cKDTree(xy[centres]).query(xy)[1] + label
        label += count
    return _match_labels(inst, assignment)


def _local_optimum(inst: Instance, al: Alignment, deadline: float) -> tuple[Alignment, int]:
    """Alternate allocation (LP + repair + local search) and recentring until stable."""
    best, best_obj, rounds = al, np.inf, 0
    while time.monotonic() < deadline:
        rounds += 1
        fixed = np.full(inst.n, -1, dtype=np.int64)
        free = al.centre_units >= 0
        fixed[al.centre_units[free]] = np.flatnonzero(free)
        remaining = deadline - time.monotonic()
        assignment = allocate(
            inst, al.centre_xy, fixed, al.assignment, nearest=5, time_limit=remaining
        )
        al = Alignment(assignment, al.centre_units, al.centre_xy)
        repair_contiguity(inst, al)
        repair_balance(inst, al, deadline)
        improve(inst, al, deadline)
        moved = recentre(inst, al.assignment)
        obj = objective(inst, moved)
        ok = feasible(inst, moved.assignment)
        if ok and obj < best_obj - 1e-9 * max(1.0, abs(obj)):
            best, best_obj = moved, obj
        elif ok or rounds > 30:
            break
        if np.array_equal(moved.centre_units, al.centre_units):
            if not ok:
                best = moved
            break
        al = moved
    return best, rounds
