"""The lower bound on large instances (neighbourhoods and a reservoir) proves only what is
true: never above the optimum the exact model proves, whatever the neighbourhood size.

Iteration budgets, no time limits: the same result on any machine."""

import math

import numpy as np
import pytest

from salesplan.engines.alignment import (
    AlignmentOptions,
    AlignmentProblem,
    WorkBudget,
    bounds,
    dense_bound,
    optimise,
)
from salesplan.engines.alignment.allocation import arc_costs
from salesplan.engines.alignment.instance import build_instance

EXACT = AlignmentOptions(time_limit=None, method="exact",
                         budget=WorkBudget(exact_nodes=50_000, bound_lp_iterations=5_000))


@pytest.fixture(scope="module", params=[("squared", 1), ("distance", 2)])
def solved(request):
    """A small instance and its optimum, proven by the exact model."""
    objective, seed = request.param
    rng = np.random.default_rng(seed)
    xy, w = rng.uniform(0, 200, (60, 2)), rng.uniform(1, 3, 60)
    problem = AlignmentProblem(coordinates=xy, weights=w, k=4, tau=0.05, geographic=False,
                               objective=objective)
    exact = optimise(problem, EXACT)
    assert exact.status == "optimal"
    return problem, exact


@pytest.mark.parametrize("territories", [1.0, 2.0])
@pytest.mark.parametrize("reservoir", ["lipschitz", "capped"])
def test_neighbourhood_bound_never_exceeds_the_proven_optimum(solved, territories, reservoir,
                                                              monkeypatch):
    """Neighbourhoods of one or two territories' worth of units (of 60 units, four
    territories): units outside a centre's neighbourhood are priced by the reservoir
    (from the multipliers themselves, or at a fixed rate with capped multipliers), and
    the bound stays below the optimum while proving a good part of it."""
    problem, exact = solved
    monkeypatch.setattr(bounds, "DENSE_MAX_UNITS", 0)
    if reservoir == "capped":
        monkeypatch.setattr(bounds, "LIPSCHITZ_MAX_UNITS", 0)
    monkeypatch.setattr(bounds, "NEIGHBOURHOOD_TERRITORIES", territories)
    inst = build_instance(problem)
    size = int(np.ceil(territories * inst.n / inst.k)) + 16
    assert size < inst.n  # the neighbourhoods, not every unit, are searched
    costs = arc_costs(inst, inst.xy[exact.centre_units], np.arange(inst.n), exact.assignment)

    bound = bounds.lagrangian_bound(inst, exact.objective, costs, math.inf, max_iterations=300)

    assert 0.0 < bound <= exact.objective * (1 + 1e-9)


def test_the_bound_is_below_every_plan_the_optimiser_returns(solved):
    problem, exact = solved
    heuristic = optimise(problem, AlignmentOptions(
        time_limit=None, method="heuristic",
        budget=WorkBudget(starts=6, patience=4, polish_solves=2, bound_lp_iterations=500)))
    assert heuristic.lower_bound <= exact.objective * (1 + 1e-9)
    assert heuristic.gap == pytest.approx(
        (heuristic.objective - heuristic.lower_bound) / heuristic.objective)


@pytest.mark.parametrize("power", [1, 2])
def test_the_reservoir_price_is_below_every_unit_outside_the_neighbourhood(power):
    """Whatever the multipliers (here random, some far above what a unit pays anywhere),
    no unit outside a centre's neighbourhood has a smaller reduced cost per unit of
    weight than the reservoir's price there."""
    rng = np.random.default_rng(5)
    xy, w = rng.uniform(0, 200, (150, 2)), rng.lognormal(0, 0.8, 150)
    problem = AlignmentProblem(coordinates=xy, weights=w, k=6, tau=0.05, geographic=False,
                               objective="squared" if power == 2 else "distance")
    inst = build_instance(problem)
    hoods = bounds._Neighbourhoods(inst, 30)
    assert hoods.lipschitz
    centres = np.arange(inst.n)
    dist = np.linalg.norm(inst.xy[:, None, :] - inst.xy[None, :, :], axis=2) ** power
    for scale in (0.1, 1.0, 10.0):
        lam = rng.uniform(-1, 1, inst.n) * scale * inst.activity * 50.0 ** power
        price, setter = hoods.reservoir(centres, lam)
        per_weight = (inst.activity[None, :] * dist - lam[None, :]) / w[None, :]
        outside = np.ones((inst.n, inst.n), dtype=bool)
        np.put_along_axis(outside, hoods.index, False, axis=1)
        assert np.all(per_weight[outside] >= np.broadcast_to(price[:, None], outside.shape)
                      [outside] - 1e-9 * np.abs(per_weight[outside]).max())
        assert np.all(setter >= 0)


def test_neighbourhood_bound_stays_valid_with_many_units_at_one_point(monkeypatch):
    """Twenty units at one point and thirty-six around it, each centre seeing about one
    territory's worth of places: without a cap on the multipliers the reservoir's price
    still stays below every unit outside, and the bound below the proven optimum."""
    monkeypatch.setattr(bounds, "DENSE_MAX_UNITS", 0)
    monkeypatch.setattr(bounds, "NEIGHBOURHOOD_TERRITORIES", 1.0)
    rng = np.random.default_rng(5)
    xy = np.concatenate([np.full((20, 2), 50.0), rng.uniform(0, 100, (36, 2))])
    w = np.concatenate([np.full(20, 0.5), rng.uniform(1, 3, 36)])
    w[-1] = 0.0  # a unit that weighs nothing is served at no benefit to any centre
    problem = AlignmentProblem(coordinates=xy, weights=w, k=4, tau=0.05, geographic=False)
    exact = optimise(problem, EXACT)
    assert exact.status == "optimal"
    inst = build_instance(problem)
    costs = arc_costs(inst, inst.xy[exact.centre_units], np.arange(inst.n), exact.assignment)

    bound = bounds.lagrangian_bound(inst, exact.objective, costs, math.inf, max_iterations=300)

    assert 0.3 * exact.objective < bound <= exact.objective * (1 + 1e-9)


def _planar_problem(seed, n, k, objective="squared", pinned=None):
    rng = np.random.default_rng(seed)
    xy, w = rng.uniform(0, 200, (n, 2)), rng.lognormal(0, 0.8, n)
    return AlignmentProblem(coordinates=xy, weights=w, k=k, tau=0.05, geographic=False,
                            objective=objective, pinned_centres=pinned or {})


@pytest.mark.parametrize(("objective", "pinned"), [("squared", None), ("distance", None),
                                                   ("squared", {0: (40.0, 60.0)})])
def test_exact_bound_over_every_unit_never_exceeds_the_proven_optimum(objective, pinned):
    """The Lagrangian over every unit (no neighbourhoods), its multipliers moved by the
    Volume algorithm from each plan unit's cost: below the optimum the exact model
    proves, with or without a pinned centre, and a good part of it."""
    problem = _planar_problem(3, 50, 4, objective, pinned)
    exact = optimise(problem, EXACT)
    assert exact.status == "optimal"
    inst = build_instance(problem)
    costs = arc_costs(inst, exact.centres, np.arange(inst.n),
                      exact.assignment)

    bound = bounds.lagrangian_bound(inst, exact.objective, costs, math.inf,
                                    max_iterations=400)

    assert 0.5 * exact.objective < bound <= exact.objective * (1 + 1e-9)


@pytest.mark.parametrize("power", [1, 2])
def test_partitioned_knapsacks_equal_the_fully_sorted_ones(power):
    """Each centre's knapsack sorts only its cheapest units (a few territories' worth):
    L(λ) and the units taken are those of sorting every unit, whatever λ."""
    problem = _planar_problem(8, 120, 6, "squared" if power == 2 else "distance")
    inst, _ = bounds._merge_colocated(build_instance(problem), np.zeros(120))
    lagrangian = dense_bound.DenseLagrangian(inst)
    full = dense_bound.DenseLagrangian(inst)
    full.width = full.units.size
    rng = np.random.default_rng(1)
    for scale in (0.0, 0.3, 1.0, 3.0):
        lam = scale * rng.uniform(0, 1, lagrangian.units.size) * inst.activity * 40.0 ** power
        value, taken = lagrangian.evaluate(lam)
        expected, expected_taken = full.evaluate(lam)
        assert lagrangian.width < lagrangian.units.size
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-9)
        assert np.allclose(taken, expected_taken)


def test_exact_bound_beats_the_neighbourhood_bound_with_the_same_steps(monkeypatch):
    """300 units into 6 territories, 150 steps each from the same plan: the bound over
    every unit with Volume steps proves more than neighbourhoods with subgradient steps."""
    problem = _planar_problem(11, 300, 6)
    plan = optimise(problem, AlignmentOptions(
        time_limit=None, method="heuristic",
        budget=WorkBudget(starts=4, patience=2, polish_solves=2, bound_iterations=1,
                          bound_lp_iterations=1)))
    inst = build_instance(problem)
    costs = arc_costs(inst, inst.xy[plan.centre_units], np.arange(inst.n), plan.assignment)

    exact_bound = bounds.lagrangian_bound(inst, plan.objective, costs, math.inf,
                                          max_iterations=150)
    monkeypatch.setattr(bounds, "DENSE_MAX_UNITS", 0)
    neighbourhood_bound = bounds.lagrangian_bound(inst, plan.objective, costs, math.inf,
                                                  max_iterations=150)

    assert neighbourhood_bound < exact_bound <= plan.objective
