"""The territory alignment optimiser: constraints kept, clear errors, honest bounds.

Work budgets and seeds, never seconds, decide how much the solver does here: every run
has no time limit, so a test gives the same result on a fast or a loaded machine."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.spatial import Delaunay

from salesplan.engines.alignment import (
    AlignmentInfeasible,
    AlignmentOptions,
    AlignmentProblem,
    WorkBudget,
    optimise,
)

# A few starts and exact re-solves: plenty for a few dozen units.
SMALL = WorkBudget(starts=20, patience=10, polish_solves=6, bound_lp_iterations=5_000)
FAST = AlignmentOptions(time_limit=None, method="heuristic", budget=SMALL)
# The exact model runs until optimal; the node cap only stops a runaway search.
EXACT = AlignmentOptions(time_limit=None, method="exact",
                         budget=WorkBudget(exact_nodes=50_000, bound_lp_iterations=5_000))


def delaunay_pairs(xy):
    pairs = set()
    for simplex in Delaunay(xy).simplices:
        for a in range(3):
            for b in range(a + 1, 3):
                pairs.add((min(simplex[a], simplex[b]), max(simplex[a], simplex[b])))
    return np.array(sorted(pairs))


def planar(n, seed, spread=(1.0, 3.0)):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 100, (n, 2)), rng.uniform(*spread, n)


def assert_well_formed(problem, result):
    n = len(problem.coordinates)
    assert result.assignment.shape == (n,)
    assert set(np.unique(result.assignment)) <= set(range(problem.k))
    assert result.objective >= result.lower_bound - 1e-6 * max(1.0, abs(result.objective))
    assert 0.0 <= result.gap <= 1.0
    for unit, territory in problem.locked.items():
        assert result.assignment[unit] == territory


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(12, 40),
    k=st.integers(2, 5),
    seed=st.integers(0, 10_000),
    squared=st.booleans(),
    with_adjacency=st.booleans(),
)
# Found by random search: a locked unit cut off from its territory's centre by another
# territory, which left the territory in two pieces for every repair after it.
@example(n=24, k=2, seed=1051, squared=False, with_adjacency=True)
@example(n=37, k=3, seed=5108, squared=True, with_adjacency=True)
def test_heuristic_keeps_every_constraint(n, k, seed, squared, with_adjacency):
    xy, w = planar(n, seed)
    locked = {0: 0, n - 1: k - 1}
    problem = AlignmentProblem(
        coordinates=xy, weights=w, k=k, tau=0.25, geographic=False, locked=locked,
        objective="squared" if squared else "distance",
        adjacency=delaunay_pairs(xy) if with_adjacency else None,
    )
    result = optimise(problem, FAST)
    assert_well_formed(problem, result)
    assert result.balanced
    assert np.all(np.abs(result.deviation) <= 0.25 + 1e-9)
    if with_adjacency:
        assert result.contiguous.all()
    else:
        assert result.contiguous is None


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 4))
def test_exact_solution_is_optimal_and_not_beaten_by_heuristic(seed, k):
    xy, w = planar(16, seed)
    problem = AlignmentProblem(coordinates=xy, weights=w, k=k, tau=0.2, geographic=False)
    exact = optimise(problem, EXACT)
    heuristic = optimise(problem, FAST)
    assert exact.status == "optimal"
    assert exact.gap <= 1e-3
    assert exact.balanced
    assert heuristic.objective >= exact.lower_bound - 1e-6
    assert heuristic.lower_bound <= exact.objective * (1 + 1e-6)


def test_exact_model_keeps_locks_pins_contiguity_and_keep_share():
    xy, w = planar(14, 3)
    current = (xy[:, 0] > 50).astype(int)
    problem = AlignmentProblem(
        coordinates=xy, weights=w, k=2, tau=0.15, geographic=False,
        adjacency=delaunay_pairs(xy), locked={1: 1}, pinned_centres={0: (10.0, 10.0)},
        current=current, min_keep_share=0.6,
    )
    result = optimise(problem, EXACT)
    assert_well_formed(problem, result)
    assert result.balanced and result.contiguous.all()
    assert result.kept_share >= 0.6 - 1e-9
    assert result.centre_units[0] == -1
    assert np.allclose(result.centres[0], (10.0, 10.0))


def test_disruption_limits_keep_most_of_the_current_alignment():
    xy, w = planar(60, 5)
    current = np.minimum((xy[:, 1] // 25).astype(int), 3)  # horizontal stripes
    free = optimise(AlignmentProblem(coordinates=xy, weights=w, k=4, tau=0.3, geographic=False,
                                     current=current), FAST)
    kept = optimise(AlignmentProblem(coordinates=xy, weights=w, k=4, tau=0.3, geographic=False,
                                     current=current, min_keep_share=0.9), FAST)
    assert kept.kept_share >= 0.9 - 1e-9
    assert kept.kept_share >= free.kept_share
    penalised = optimise(AlignmentProblem(coordinates=xy, weights=w, k=4, tau=0.3,
                                          geographic=False, current=current,
                                          move_penalty=1e6), FAST)
    assert penalised.moved_units <= free.moved_units


def test_geographic_coordinates_give_centres_in_degrees():
    rng = np.random.default_rng(0)
    lat_lon = np.column_stack([rng.uniform(40, 42, 50), rng.uniform(-75, -72, 50)])
    result = optimise(AlignmentProblem(coordinates=lat_lon, weights=np.ones(50), k=5), FAST)
    assert result.balanced
    assert np.all((result.centres[:, 0] > 39.9) & (result.centres[:, 0] < 42.1))
    assert np.all((result.centres[:, 1] > -75.1) & (result.centres[:, 1] < -71.9))
    assert np.allclose(result.centres, lat_lon[result.centre_units], atol=1e-6)


def test_progress_is_reported_up_to_done():
    seen = []
    xy, w = planar(30, 1)
    optimise(AlignmentProblem(coordinates=xy, weights=w, k=3, tau=0.3, geographic=False),
             AlignmentOptions(time_limit=None, method="heuristic", budget=SMALL,
                              progress=lambda f, m: seen.append((f, m))))
    assert seen[-1][0] == 1.0
    assert all(0 <= f <= 1 for f, _ in seen)


@pytest.mark.parametrize(
    ("change", "constraint", "words"),
    [
        (dict(k=11), "k", "only 10 units"),
        (dict(weights=[1, 1, 1, 1, 1, 1, 1, 1, 1, 9]), "tau", "Unit 9 alone has 9"),
        (dict(locked={0: 0, 1: 0, 2: 0, 3: 0}), "locked", "territory 0 already have 4"),
        (dict(adjacency=[(0, 1)]), "adjacency", "9 separate pieces"),
        (dict(min_keep_share=0.5), "keep_share", "needs the current assignment"),
        (dict(weights=[1, 1, 1, 1, 1, 1, 1, 1, -1, 1]), "weights", "unit 8"),
    ],
)
def test_impossible_requests_say_which_constraint_and_by_how_much(change, constraint, words):
    xy, _ = planar(10, 0)
    base = dict(coordinates=xy, weights=np.ones(10), k=5, tau=0.05, geographic=False)
    with pytest.raises(AlignmentInfeasible) as error:
        optimise(AlignmentProblem(**{**base, **change}), FAST)
    assert error.value.constraint == constraint
    assert words in str(error.value)


def test_tau_too_tight_names_the_smallest_workable_tau():
    xy, _ = planar(10, 0)
    with pytest.raises(AlignmentInfeasible, match=r"wider balance, e\.g\. ±50%"):
        optimise(AlignmentProblem(coordinates=xy, weights=[1] * 9 + [5.4], k=4, tau=0.1,
                                  geographic=False), FAST)


def test_bound_stays_valid_and_useful_with_many_units_at_one_point():
    """ZIP codes often share a point: a cluster larger than a neighbourhood used to pin
    the bound's multipliers at zero and prove nothing. Merged, the bound stays below the
    proven optimum and well above zero."""
    from salesplan.engines.alignment.allocation import arc_costs
    from salesplan.engines.alignment.bounds import lagrangian_bound
    from salesplan.engines.alignment.instance import build_instance

    rng = np.random.default_rng(5)
    xy = np.concatenate([np.full((30, 2), 50.0), rng.uniform(0, 100, (50, 2))])
    problem = AlignmentProblem(coordinates=xy, weights=np.ones(80), k=4, tau=0.05,
                               geographic=False)
    exact = optimise(problem, EXACT)
    assert exact.status == "optimal"
    inst = build_instance(problem)
    centres = inst.xy[exact.centre_units]
    costs = arc_costs(inst, centres, np.arange(inst.n), exact.assignment)
    bound = lagrangian_bound(inst, exact.objective, costs, math.inf)
    assert 0.3 * exact.objective < bound <= exact.objective * (1 + 1e-9)


def remote_places(seed, n_main, n_point, n_island, squared):
    """A mainland, many units recorded at one far point, and a small far island."""
    rng = np.random.default_rng(seed)
    xy = np.concatenate([
        rng.uniform(0, 100, (n_main, 2)),
        np.full((n_point, 2), 400.0),
        rng.uniform(0, 10, (n_island, 2)) + [0.0, 300.0],
    ])
    w = rng.choice([1.0, 1.0, 2.0], size=len(xy))
    return xy, w


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_point=st.integers(0, 9),
    n_island=st.integers(0, 5),
    k=st.integers(2, 4),
    squared=st.booleans(),
    tau=st.sampled_from([0.05, 0.2]),
)
def test_isolation_bound_never_exceeds_the_proven_optimum(seed, n_point, n_island, k, squared,
                                                          tau):
    """The whole-territories bound for remote places (one coordinate holding many units,
    far islands) must stay below the exact optimum, alone and as reported."""
    from salesplan.engines.alignment.bounds import isolation_bound
    from salesplan.engines.alignment.instance import build_instance

    xy, w = remote_places(seed, 14, n_point, n_island, squared)
    problem = AlignmentProblem(coordinates=xy, weights=w, k=k, tau=tau, geographic=False,
                               objective="squared" if squared else "distance")
    try:
        exact = optimise(problem, EXACT)
    except AlignmentInfeasible:
        return
    if exact.status != "optimal":
        return
    assert isolation_bound(build_instance(problem)) <= exact.objective * (1 + 1e-6) + 1e-9
    heuristic = optimise(problem, FAST)
    assert heuristic.lower_bound <= exact.objective * (1 + 1e-6) + 1e-9


def test_isolation_bound_lets_a_far_region_bring_its_units_in_free():
    """A unit of one isolated region served from another is already paid for in its own
    region, however far it is: here the one far point (2 units) joins the island's
    territory, and pricing it again there put the bound 1% above the proven optimum."""
    from salesplan.engines.alignment.bounds import isolation_bound
    from salesplan.engines.alignment.instance import build_instance

    xy, w = remote_places(7544, 14, 1, 4, True)
    problem = AlignmentProblem(coordinates=xy, weights=w, k=2, tau=0.05, geographic=False,
                               objective="squared")
    exact = optimise(problem, EXACT)
    assert exact.status == "optimal"
    assert isolation_bound(build_instance(problem)) <= exact.objective * (1 + 1e-6)


def test_isolation_bound_proves_the_cost_of_units_recorded_at_one_far_point():
    """Thirty-five units at one far point cannot be served by whole territories of their
    own (three hold at most 33, four need at least 36): some unit travels that far, which
    the LP-based Lagrangian bound cannot see."""
    from salesplan.engines.alignment.bounds import isolation_bound
    from salesplan.engines.alignment.instance import build_instance

    rng = np.random.default_rng(2)
    xy = np.concatenate([rng.uniform(0, 100, (85, 2)), np.full((35, 2), 1000.0)])
    problem = AlignmentProblem(coordinates=xy, weights=np.ones(120), k=12, tau=0.1,
                               geographic=False)
    inst = build_instance(problem)
    nearest = float(np.min(np.sum((xy[:85] - 1000.0) ** 2, axis=1)))
    assert isolation_bound(inst) >= nearest * (1 - 1e-9)
    result = optimise(problem, FAST)
    assert result.lower_bound >= nearest * (1 - 1e-9)
    assert result.gap < 0.5


def test_proven_gap_is_tight_on_a_few_dozen_units():
    """Started from the LP duals, the heuristic's own bound proves it within a few per
    cent of the optimum (the plain subgradient stalled about twice as far away)."""
    rng = np.random.default_rng(1)
    xy, w = rng.uniform(0, 200, (60, 2)), rng.uniform(1, 3, 60)
    problem = AlignmentProblem(coordinates=xy, weights=w, k=4, tau=0.05, geographic=False)
    heuristic = optimise(problem, FAST)
    exact = optimise(problem, EXACT)
    assert exact.status == "optimal"
    assert 0.97 * exact.objective <= heuristic.lower_bound <= exact.objective * (1 + 1e-6)
    assert heuristic.gap <= 0.03


def two_hundred_units():
    rng = np.random.default_rng(4)
    xy, w = rng.uniform(0, 200, (200, 2)), rng.uniform(1, 3, 200)
    return AlignmentProblem(coordinates=xy, weights=w, k=8, tau=0.05, geographic=False)


# Forty spread and rotated starts, then six exact re-solves of neighbouring territories
# (two for each of the three best local optima). The bound is not the claim here: its LP
# start gets a short budget.
TWO_HUNDRED = AlignmentOptions(
    time_limit=None, method="heuristic", seed=0,
    budget=WorkBudget(starts=40, patience=40, polish_solves=6, bound_lp_iterations=500))


def test_heuristic_is_within_one_per_cent_of_the_optimum_on_two_hundred_units():
    """Above the exact model's size the heuristic's alignment is what the user gets. On
    200 units into 8 territories (τ = 5%) the alternation alone stopped 3.3% above the
    optimum; spread starts and six exact re-solves of neighbouring territories bring it
    within 0.1% (a few seconds on a quiet machine, however long it takes on a busy one).
    The optimum, 330,368.10, was proven by the exact MILP (HiGHS, 190 s, dual bound
    330,339.60), too slow to solve here."""
    result = optimise(two_hundred_units(), TWO_HUNDRED)
    assert result.balanced
    assert np.all(np.bincount(result.assignment, minlength=8) > 0)
    assert result.objective >= 330_339.60 * (1 - 1e-9)
    assert result.objective <= 330_368.10 * 1.01


def test_same_seed_and_budget_give_the_same_alignment():
    """A manager who reruns an optimisation with the same settings gets the same draft,
    whatever else the machine is doing: the budget, not the clock, ends each stage."""
    problem = two_hundred_units()
    options = AlignmentOptions(time_limit=None, method="heuristic", seed=7,
                               budget=WorkBudget(starts=12, patience=12, polish_solves=3,
                                                 bound_lp_iterations=200))
    first, second = optimise(problem, options), optimise(problem, options)
    assert np.array_equal(first.assignment, second.assignment)
    assert np.array_equal(first.centre_units, second.centre_units)
    assert first.objective == second.objective
    assert first.lower_bound == second.lower_bound
    assert first.iterations == second.iterations


def test_a_budget_that_is_not_a_positive_whole_number_is_refused():
    with pytest.raises(ValueError, match="polish_solves must be a whole number of at least 1"):
        WorkBudget(polish_solves=0)
