"""Large-neighbourhood search: re-solve regions of neighbouring territories afresh.

The location–allocation starts each end in the local optimum of their layout (which
territory sits next to which), and the exact window re-solves (``polish``) move units
and centres between two or three territories without changing that layout. With many
territories the best layout is out of reach of both: on the ZIP codes of two states
into 50 territories the best of a minute's starts stayed near 4% above the best plan
known. This search frees the units of one territory and its nearest ``size - 1``
territories and solves that smaller alignment problem from scratch by the same
multi-start location–allocation (spread and bisection starts, repair, local moves),
which reaches layouts the whole-problem starts did not. The region's new plan replaces
the old one only when the whole alignment then costs less and still meets every
constraint, so the search never worsens the plan.

The region is a problem of its own with the same absolute balance band (the whole
problem's mean), its units' adjacency (a territory in one piece there is in one piece
in the whole graph), locks, pinned centres and the current territories of its units;
the weight it must keep in place is what the whole plan must keep less what the units
outside the region already keep.

Work is counted in region solves and starts per region, so the same seed and budget
give the same alignment on any machine.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.spatial import cKDTree

from .heuristic import Alignment, alternate, feasible, kept_weight, objective, recentre
from .instance import Instance

# Territories per region, in turn: the seed territory and its nearest neighbours. Measured
# on the ZIP codes of Kentucky and Tennessee into 50 territories, 30 s from the same start:
# regions of 4 territories gained 1.4%, of 8 3.3%, of 12 3.0% (fewer, slower re-solves).
# Each size stops at its own local optimum: once regions of 8 improved no more (1.24%
# above the best plan then known, after 22 processor seconds with 3 starts a region),
# regions of 12 took that plan 2.9% lower in 29 s, regions of 5 only 0.1%.
REGION_SIZES = (8, 12)
REGION_SIZE = REGION_SIZES[0]


def region_search(inst: Instance, al: Alignment, deadline: float, *,
                  sizes: tuple[int, ...] = REGION_SIZES, starts: int = 3,
                  max_solves: int | None = None, seed: int = 0) -> tuple[Alignment, int]:
    """Re-solve regions of neighbouring territories, one region size after the other,
    until no size improves (or ``max_solves`` regions were solved, or the deadline passed).

    Each region is solved by ``starts`` location–allocation starts. A region whose units
    and territories are as they were when it last failed to improve is not solved again.
    A size gives way to the next once a pass over every territory improves nothing, or
    after ``inst.k // 2`` solves in a row without improvement (a size's last regions gain
    little, the next size's first ones much more). The sizes take turns until each in
    turn has every region tried without improvement; sizes of ``inst.k`` or more
    territories are skipped. Returns the improved alignment (never worse than ``al``)
    and the regions solved.
    """
    sizes = tuple(size for size in sizes if size < inst.k)
    if not sizes or not feasible(inst, al.assignment):
        return al, 0
    rng = np.random.default_rng(seed)
    best = objective(inst, al)
    solved = 0
    tried: set[tuple[bytes, bytes]] = set()
    settled = 0  # sizes in a row whose every region was tried without improvement
    patience = max(1, inst.k // 2)  # solves in a row without improvement that end a size's turn
    turn = 0
    while settled < len(sizes):
        size = sizes[turn % len(sizes)]
        turn += 1
        gained = False
        improved, idle = True, 0
        while improved and idle < patience:
            improved = False
            for t in rng.permutation(inst.k):
                if time.monotonic() > deadline or (max_solves is not None
                                                   and solved >= max_solves):
                    return al, solved
                if idle >= patience:
                    break
                region = _region(al, int(t), size)
                members = np.flatnonzero(np.isin(al.assignment, region))
                state = (region.tobytes(), al.assignment[members].tobytes())
                if state in tried:
                    continue
                tried.add(state)
                solved += 1
                idle += 1
                found = _resolve(inst, al, region, members, deadline, starts,
                                 int(rng.integers(1 << 31)))
                if found is None:
                    continue
                cost = objective(inst, found)
                if cost < best - 1e-9 * max(1.0, abs(best)) and feasible(inst, found.assignment):
                    al, best, improved, gained, idle = found, cost, True, True, 0
        # A turn ended by its patience left regions of its size untried: not settled.
        settled = 0 if gained else settled + 1 if idle < patience else settled
    return al, solved


def _region(al: Alignment, territory: int, size: int) -> np.ndarray:
    """The territory and its ``size - 1`` nearest territories (by centre), sorted."""
    near = cKDTree(al.centre_xy).query(al.centre_xy[territory], k=size)[1]
    return np.unique(np.concatenate([[territory], np.atleast_1d(near)]))[:size]


def _resolve(inst: Instance, al: Alignment, region: np.ndarray, members: np.ndarray,
             deadline: float, starts: int, seed: int) -> Alignment | None:
    """The whole alignment with the region's units re-aligned afresh (None if the region
    found no plan meeting its constraints)."""
    sub = _sub_instance(inst, al, region, members)
    if sub is None:
        return None
    # The region's present plan is the first start: it meets every constraint, which the
    # other starts may struggle to (a high share of units to keep in place).
    present = np.searchsorted(region, al.assignment[members])
    optima, _ = alternate(sub, deadline, None, seed, patience=starts, max_starts=starts,
                          first=present)
    local = optima[0]
    if not feasible(sub, local.assignment):
        return None
    assignment = al.assignment.copy()
    assignment[members] = region[local.assignment]
    return recentre(inst, assignment)


def _sub_instance(inst: Instance, al: Alignment, region: np.ndarray,
                  members: np.ndarray) -> Instance | None:
    """The region as a problem of its own: its units, its territories relabelled 0..r-1."""
    local = np.full(inst.k, -1, dtype=np.int64)
    local[region] = np.arange(region.size)
    graph = None
    if inst.graph is not None:
        graph = inst.graph[members][:, members].tocsr()
    current = None
    keep_share = None
    if inst.current is not None:
        current = np.where(inst.current[members] >= 0, local[np.maximum(inst.current[members], 0)],
                           -1)
        if inst.min_keep_share is not None:
            kept_outside = kept_weight(inst, al.assignment) - float(
                inst.weights[members, 0][inst.current[members] == al.assignment[members]].sum())
            needed = inst.min_keep_share * inst.weights[:, 0].sum() - kept_outside
            own = float(inst.weights[members, 0].sum())
            if own <= 0 or needed > own:
                return None
            keep_share = max(0.0, needed / own)
    locked = np.where(inst.locked[members] >= 0, local[np.maximum(inst.locked[members], 0)], -1)
    return Instance(
        xy=inst.xy[members], weights=inst.weights[members], activity=inst.activity[members],
        k=int(region.size), power=inst.power, mean=inst.mean, lower=inst.lower,
        upper=inst.upper, tau=inst.tau, graph=graph, locked=locked,
        pinned=inst.pinned[region], current=current, min_keep_share=keep_share,
        move_penalty=inst.move_penalty, origin=None,
    )
