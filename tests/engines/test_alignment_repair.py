"""The alignment optimiser does not give up early, proves what cannot be done, and reports
the objective of the plan it returns.

Work budgets and seeds decide how much the solver does (no time limit anywhere here)."""

import numpy as np
import pytest

from salesplan.engines.alignment import (
    AlignmentInfeasible,
    AlignmentOptions,
    AlignmentProblem,
    WorkBudget,
    optimise,
)
from salesplan.engines.alignment.heuristic import alternate, feasible, kept_weight, recentre
from salesplan.engines.alignment.instance import build_instance
from salesplan.engines.alignment.repair import repair

QUICK = WorkBudget(starts=6, patience=4, polish_solves=1, window_nodes=50,
                   bound_iterations=10, bound_lp_iterations=50, repair_steps=3000)
HEURISTIC = AlignmentOptions(time_limit=None, method="heuristic", budget=QUICK)


def grid(side, seed, spread=1.0):
    """County-like: a grid of units with uneven weights, neighbours left-right and up-down."""
    rng = np.random.default_rng(seed)
    xy = np.array([(i, j) for i in range(side) for j in range(side)], float) * 10
    weights = np.exp(rng.normal(0, spread, side * side))
    pairs = [(i * side + j, i * side + j + 1) for i in range(side) for j in range(side - 1)]
    pairs += [(i * side + j, (i + 1) * side + j) for i in range(side - 1) for j in range(side)]
    return xy, weights, np.array(pairs)


def test_repair_finds_a_balanced_contiguous_plan_where_the_starts_alone_fail():
    xy, w, pairs = grid(5, 2)
    problem = AlignmentProblem(coordinates=xy, weights=w, k=4, tau=0.02, adjacency=pairs,
                               geographic=False)
    inst = build_instance(problem)
    starts, _ = alternate(inst, float("inf"), None, 0, patience=4, max_starts=6)
    assert not feasible(inst, starts[0].assignment)  # the starts alone end out of balance

    result = optimise(problem, HEURISTIC)

    assert result.balanced and result.contiguous.all()
    assert np.abs(result.deviation).max() <= 0.02 + 1e-9
    assert result.status == "feasible"


def test_a_run_out_of_repair_steps_says_so_and_how_to_ask_again():
    xy, w, pairs = grid(5, 2)
    problem = AlignmentProblem(coordinates=xy, weights=w, k=4, tau=0.02, adjacency=pairs,
                               geographic=False)
    budget = WorkBudget(starts=1, patience=1, polish_solves=1, repair_steps=1)
    with pytest.raises(AlignmentInfeasible) as error:
        optimise(problem, AlignmentOptions(time_limit=None, method="heuristic", budget=budget))
    assert error.value.constraint == "time"
    assert "wider balance" in str(error.value)


def line(weights):
    return np.column_stack([np.arange(len(weights)) * 10.0, np.zeros(len(weights))])


@pytest.mark.parametrize(
    ("weights", "k", "tau", "words", "wider", "other_k"),
    [
        # ten accounts into four territories at ±5%: a territory would need 2.375–2.625
        ([1] * 10, 4, 0.05, "whole amounts of 1", 0.2, [2, 5]),
        # one unit with 1.5 times a territory's share
        ([1] * 9 + [5.4], 4, 0.1, "Unit 9 alone has 5.4", 0.5, [2]),
        # three heavy units, two territories
        ([1] * 20 + [30, 30, 30], 2, 0.01, "3 units each have more than half", 0.091, []),
        # units of about 1: at most 3 fit under the upper bound, 31 need 4 in some territory
        ([1 + 0.001 * i for i in range(31)], 10, 0.02, "at most 3 units", 0.274, []),
        # only ten units weigh anything
        ([1] * 10 + [0] * 5, 12, 0.5, "Only 10 units have any", None, [10]),
    ],
)
def test_impossible_balance_is_proved_at_once_with_the_fix(weights, k, tau, words, wider,
                                                           other_k):
    problem = AlignmentProblem(coordinates=line(weights), weights=weights, k=k, tau=tau,
                               geographic=False)
    with pytest.raises(AlignmentInfeasible) as error:
        build_instance(problem)
    exc = error.value
    assert exc.constraint == "tau"
    assert words in str(exc)
    assert exc.wider_tau == pytest.approx(wider) if wider is not None else exc.wider_tau is None
    assert exc.other_k == other_k
    # Each fix offered passes every argument.
    if exc.wider_tau is not None:
        build_instance(AlignmentProblem(coordinates=line(weights), weights=weights, k=k,
                                        tau=exc.wider_tau, geographic=False))
    for other in exc.other_k:
        build_instance(AlignmentProblem(coordinates=line(weights), weights=weights, k=other,
                                        tau=tau, geographic=False))


def test_the_reason_uses_the_callers_names():
    weights = [1] * 9 + [5.4]
    with pytest.raises(AlignmentInfeasible) as error:
        build_instance(AlignmentProblem(coordinates=line(weights), weights=weights, k=4,
                                        tau=0.1, geographic=False))
    text = error.value.describe(lambda m: "potential", lambda i: f"ZIP 0000{i}")
    assert text.startswith("ZIP 00009 alone has 5.4 of potential, 1.50 times a territory's")
    assert text.endswith("Allow a wider balance, e.g. ±50%, or use 2 territories instead of 4.")


def hess_cost(problem, result):
    d2 = ((np.asarray(problem.coordinates) - result.centres[result.assignment]) ** 2).sum(axis=1)
    return float((np.asarray(problem.weights) * d2).sum())


@pytest.mark.parametrize("method", ["exact", "heuristic"])
def test_reported_objective_is_the_returned_plans(method):
    rng = np.random.default_rng(4)
    xy, w = rng.uniform(0, 100, (40, 2)), rng.uniform(1, 3, 40)
    problem = AlignmentProblem(coordinates=xy, weights=w, k=4, tau=0.05, geographic=False)
    # A node budget stops the exact model early, as a time limit would.
    budget = WorkBudget(starts=3, patience=2, polish_solves=1, exact_nodes=1,
                        bound_lp_iterations=100, bound_iterations=20)
    result = optimise(problem, AlignmentOptions(time_limit=None, method=method, budget=budget))
    assert result.objective == pytest.approx(hess_cost(problem, result), rel=1e-9)
    assert result.lower_bound <= result.objective


@pytest.mark.parametrize("share", [0.5, 0.6])
def test_repair_keeps_the_minimum_share_of_units_in_place(share):
    """Current: four quadrants. The plan to repair: four horizontal strips, out of balance
    and keeping about half the weight in place. A repair that only balanced would leave
    too little where it is."""
    side = 8
    xy, w, pairs = grid(side, 3, 0.4)
    current = np.array([(i >= 4) * 2 + (j >= 4) for i in range(side) for j in range(side)])
    strips = np.array([i // 2 for i in range(side) for j in range(side)])
    problem = AlignmentProblem(coordinates=xy, weights=w, k=4, tau=0.05, adjacency=pairs,
                               geographic=False, current=current, min_keep_share=share)
    inst = build_instance(problem)
    assert not feasible(inst, strips)

    found, _ = repair(inst, recentre(inst, strips), float("inf"), 3000, seed=0)

    assert feasible(inst, found.assignment)
    assert kept_weight(inst, found.assignment) >= share * w.sum() - 1e-9
