"""Region re-solves improve a plan without breaking what the plan must keep.

Budgets (regions solved, starts per region) and seeds decide the work; no time limits."""

import numpy as np
import pytest

from salesplan.engines.alignment import AlignmentProblem
from salesplan.engines.alignment.contiguity import contiguity_status
from salesplan.engines.alignment.heuristic import (
    alternate,
    feasible,
    kept_weight,
    objective,
    totals_of,
)
from salesplan.engines.alignment.instance import build_instance
from salesplan.engines.alignment.regions import region_search


def grid(side, seed, spread=0.5):
    """County-like: a grid of units with uneven weights, neighbours left-right and up-down."""
    rng = np.random.default_rng(seed)
    xy = np.array([(i, j) for i in range(side) for j in range(side)], float) * 10
    xy += rng.uniform(-3, 3, xy.shape)
    weights = np.exp(rng.normal(0, spread, side * side))
    pairs = [(i * side + j, i * side + j + 1) for i in range(side) for j in range(side - 1)]
    pairs += [(i * side + j, (i + 1) * side + j) for i in range(side - 1) for j in range(side)]
    return xy, weights, np.array(pairs)


def first_start(inst):
    """One location–allocation start: a plan meeting every constraint, not the best."""
    optima, _ = alternate(inst, float("inf"), None, 0, patience=1, max_starts=1)
    assert feasible(inst, optima[0].assignment)
    return optima[0]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("with_adjacency", [False, True])
def test_region_resolves_never_worsen_the_plan_and_keep_balance_and_contiguity(
    seed, with_adjacency
):
    xy, w, pairs = grid(14, seed)
    problem = AlignmentProblem(coordinates=xy, weights=w, k=12, tau=0.05, geographic=False,
                               adjacency=pairs if with_adjacency else None)
    inst = build_instance(problem)
    start = first_start(inst)

    # Two sizes: the search turns to regions of 6 once those of 4 stop improving.
    found, solved = region_search(inst, start, float("inf"), sizes=(4, 6), starts=3,
                                  max_solves=24, seed=seed)

    assert solved <= 24
    assert objective(inst, found) <= objective(inst, start) + 1e-9
    assert feasible(inst, found.assignment)
    deviation = totals_of(inst, found.assignment)[:, 0] / inst.mean[0] - 1
    assert np.abs(deviation).max() <= 0.05 + 1e-9
    if with_adjacency:
        assert contiguity_status(inst.graph, found.assignment, inst.k).all()


def test_region_resolves_improve_a_single_start_on_many_territories():
    xy, w, _ = grid(16, 5)
    inst = build_instance(AlignmentProblem(coordinates=xy, weights=w, k=16, tau=0.05,
                                           geographic=False))
    start = first_start(inst)

    found, _ = region_search(inst, start, float("inf"), sizes=(5,), starts=4, max_solves=20,
                             seed=0)

    assert objective(inst, found) < objective(inst, start)


def test_region_resolves_keep_locked_units_and_the_minimum_share_in_place():
    xy, w, pairs = grid(12, 4)
    plain = build_instance(AlignmentProblem(coordinates=xy, weights=w, k=9, tau=0.05,
                                            geographic=False, adjacency=pairs))
    current = first_start(plain).assignment
    locked = {0: int(current[0]), 77: int(current[77])}
    problem = AlignmentProblem(coordinates=xy, weights=w, k=9, tau=0.05, geographic=False,
                               adjacency=pairs, current=current, min_keep_share=0.7,
                               locked=locked, move_penalty=0.5)
    inst = build_instance(problem)
    start = first_start(inst)

    found, _ = region_search(inst, start, float("inf"), sizes=(4,), starts=3, max_solves=12,
                             seed=2)

    assert objective(inst, found) <= objective(inst, start) + 1e-9
    assert feasible(inst, found.assignment)
    assert kept_weight(inst, found.assignment) >= 0.7 * w.sum() - 1e-9
    for unit, territory in locked.items():
        assert found.assignment[unit] == territory


def test_same_seed_and_budget_give_the_same_plan():
    xy, w, _ = grid(12, 6)
    inst = build_instance(AlignmentProblem(coordinates=xy, weights=w, k=10, tau=0.05,
                                           geographic=False))
    start = first_start(inst)

    runs = [region_search(inst, start, float("inf"), sizes=(4, 6), starts=3, max_solves=30,
                          seed=9)[0] for _ in range(2)]

    assert np.array_equal(runs[0].assignment, runs[1].assignment)


def test_search_without_a_budget_ends_once_no_region_of_either_size_improves():
    xy, w, pairs = grid(10, 3)
    inst = build_instance(AlignmentProblem(coordinates=xy, weights=w, k=8, tau=0.05,
                                           geographic=False, adjacency=pairs))
    start = first_start(inst)

    found, solved = region_search(inst, start, float("inf"), sizes=(3, 5), starts=2, seed=4)

    assert 0 < solved < 1_000
    assert objective(inst, found) <= objective(inst, start) + 1e-9
    assert feasible(inst, found.assignment)
    assert contiguity_status(inst.graph, found.assignment, inst.k).all()
