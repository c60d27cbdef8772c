"""Balance repair that keeps territories in one piece: a tabu search on the violation.

When the location–allocation starts end with territories outside the band (tight bands,
heavy units, contiguity), the greedy repair in ``heuristic`` stops at the first
alignment where no single move lowers the violation. This search keeps going: each step
moves the one boundary unit whose move lowers the total violation the most (or raises it
the least), to a neighbouring territory, never breaking a territory in two or emptying
it; a unit just moved may not move again for a few steps (the tabu), unless the move
reaches a new best. The violation counts the weight kept in its current territory too,
below the minimum share (``min_keep_share``), so a repair never buys balance by moving
what must stay, and brings back what an earlier step moved away. Worsening steps walk
the excess through territories that are full to ones with room. Ties go to the move
that brings totals nearer the mean, then to the cheaper one, then at random (seeded).

The work is counted in steps (``WorkBudget.repair_steps``), so a run with the same seed
and budget gives the same alignment on any machine.
"""

from __future__ import annotations

import time

import numpy as np

from .allocation import arc_costs
from .contiguity import stays_connected_without
from .heuristic import (
    Alignment,
    feasible,
    improve,
    is_contiguous,
    kept_weight,
    recentre,
    repair_contiguity,
    totals_of,
    violation,
)
from .instance import Instance


class _State:
    """The assignment and totals under repair, with the tabu list."""

    def __init__(self, inst: Instance, assignment: np.ndarray, rng: np.random.Generator):
        self.inst = inst
        self.a = assignment.copy()
        self.totals = totals_of(inst, self.a)
        self.count = np.bincount(self.a, minlength=inst.k)
        self.tabu_until = np.zeros(inst.n, dtype=np.int64)
        self.rng = rng
        self.frozen = inst.locked >= 0
        self.kept = kept_weight(inst, self.a)
        self.min_kept = (inst.min_keep_share * inst.weights[:, 0].sum()
                         if inst.min_keep_share is not None and inst.current is not None
                         else -np.inf)
        if inst.graph is not None:
            coo = inst.graph.tocoo()
            self.rows, self.cols = coo.row.astype(np.int64), coo.col.astype(np.int64)

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """(unit, territory) moves to a neighbouring territory (any nearby one without
        adjacency), for units not locked."""
        a = self.a
        if self.inst.graph is not None:
            units, terr = self.rows, a[self.cols]
        else:
            centres = _centroids(self.inst, a)
            q = min(4, self.inst.k)
            d = ((self.inst.xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
            near = np.argsort(d, axis=1)[:, :q]
            units, terr = np.repeat(np.arange(self.inst.n), q), near.reshape(-1)
        keep = (terr != a[units]) & ~self.frozen[units]
        units, terr = units[keep], terr[keep]
        pairs = np.unique(units * self.inst.k + terr)
        return pairs // self.inst.k, pairs % self.inst.k

    def move(self, unit: int, target: int, step: int, tenure: int) -> None:
        source = self.a[unit]
        w = self.inst.weights[unit]
        self.totals[source] -= w
        self.totals[target] += w
        self.count[source] -= 1
        self.count[target] += 1
        self.kept += float(self.kept_change(np.array([unit]), np.array([target]))[0])
        self.a[unit] = target
        self.tabu_until[unit] = step + tenure

    def kept_change(self, units: np.ndarray, terr: np.ndarray) -> np.ndarray:
        """How each move changes the weight kept in its current territory."""
        cur = self.inst.current
        if cur is None:
            return np.zeros(units.size)
        w = self.inst.weights[units, 0]
        return w * ((cur[units] == terr).astype(float) - (cur[units] == self.a[units]))

    def keep_shortfall(self, kept: np.ndarray | float) -> np.ndarray | float:
        """How far the kept weight falls short of the minimum share, in territory means
        (the unit of ``violation``): a repair that lowers the balance violation by
        moving what must stay has not repaired anything."""
        return np.maximum(0.0, self.min_kept - 1e-9 - kept) / self.inst.mean[0]

    def may_leave(self, unit: int) -> bool:
        if self.count[self.a[unit]] <= 1:
            return False
        graph = self.inst.graph
        return graph is None or stays_connected_without(graph, self.a, unit)


def _centroids(inst: Instance, a: np.ndarray) -> np.ndarray:
    w = inst.activity + 1e-9
    total = np.maximum(np.bincount(a, weights=w, minlength=inst.k), 1e-12)
    return np.column_stack([np.bincount(a, weights=w * inst.xy[:, c], minlength=inst.k)
                            / total for c in range(2)])


def _spread(inst: Instance, totals: np.ndarray) -> np.ndarray:
    """Per territory, the squared relative distance of its totals from the mean."""
    return (((totals - inst.mean) / inst.mean) ** 2).sum(axis=-1)


def balance_search(inst: Instance, al: Alignment, deadline: float, max_steps: int,
                   seed: int = 0) -> tuple[Alignment, int]:
    """Tabu search from ``al`` for an alignment within the band (contiguous when the
    problem has adjacency); returns the least violating alignment found (recentred)
    and the steps taken. Stops when balanced, after ``max_steps`` or at the deadline."""
    rng = np.random.default_rng(seed)
    state = _State(inst, al.assignment, rng)
    viol = violation(inst, state.totals)
    short = float(state.keep_shortfall(state.kept))
    best_a, best_v = state.a.copy(), float(viol.sum()) + short
    tenure_low = max(3, int(np.sqrt(inst.n) / 2))
    scale = max(float(al.centre_xy.std()), 1.0)
    step = 0
    while best_v > 0 and step < max_steps and time.monotonic() < deadline:
        step += 1
        units, terr = state.candidates()
        if units.size == 0:
            break
        src = state.a[units]
        w = inst.weights[units]
        new_src, new_terr = state.totals[src] - w, state.totals[terr] + w
        dv = (violation(inst, new_src) + violation(inst, new_terr) - viol[src] - viol[terr]
              + state.keep_shortfall(state.kept + state.kept_change(units, terr)) - short)
        ds = (_spread(inst, new_src) + _spread(inst, new_terr)
              - _spread(inst, state.totals[src]) - _spread(inst, state.totals[terr]))
        centres = _centroids(inst, state.a)
        dc = (inst.cost_to_points(units, centres[terr])
              - inst.cost_to_points(units, centres[src])) / (scale**inst.power)
        dc = dc / max(float(inst.activity.mean()), 1e-12)
        total_v = float(viol.sum()) + short
        allowed = (state.tabu_until[units] < step) | (total_v + dv < best_v - 1e-12)
        score = dv + 1e-3 * ds + 1e-6 * dc + 1e-9 * rng.random(units.size)
        score = np.where(allowed, score, np.inf)
        moved = False
        for idx in np.argsort(score, kind="stable")[:64]:
            if not np.isfinite(score[idx]):
                break
            unit = int(units[idx])
            if state.may_leave(unit):
                tenure = tenure_low + int(rng.integers(0, tenure_low + 1))
                state.move(unit, int(terr[idx]), step, tenure)
                moved = True
                break
        if not moved:
            break
        viol = violation(inst, state.totals)
        short = float(state.keep_shortfall(state.kept))
        if float(viol.sum()) + short < best_v - 1e-12:
            best_a, best_v = state.a.copy(), float(viol.sum()) + short
    return recentre(inst, best_a), step


def repair(inst: Instance, al: Alignment, deadline: float, max_steps: int,
           seed: int = 0) -> tuple[Alignment, int]:
    """Balance ``al`` by ``balance_search``, then improve it by moves and swaps that keep
    every constraint. Returns the result (feasible or the least violating) and steps."""
    if inst.graph is not None and not is_contiguous(inst, al.assignment):
        # The tabu moves keep each territory in one piece but never join pieces: start
        # from an alignment whose stray pieces went to the territories they touch.
        al = Alignment(al.assignment.copy(), al.centre_units.copy(), al.centre_xy.copy())
        repair_contiguity(inst, al)
    found, steps = balance_search(inst, al, deadline, max_steps, seed)
    if not feasible(inst, found.assignment):
        return found, steps
    best, best_cost = found, _cost(inst, found)
    for _ in range(20):  # improve at fixed centres, move the centres, until stable
        trial = Alignment(best.assignment.copy(), best.centre_units, best.centre_xy)
        improve(inst, trial, deadline)
        trial = recentre(inst, trial.assignment)
        cost = _cost(inst, trial)
        if not feasible(inst, trial.assignment) or cost >= best_cost - 1e-9 * abs(best_cost):
            break
        best, best_cost = trial, cost
    return best, steps


def _cost(inst: Instance, al: Alignment) -> float:
    return float(arc_costs(inst, al.centre_xy, np.arange(inst.n), al.assignment).sum())
