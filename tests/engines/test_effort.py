"""The effort allocation engine: curves, and an optimum equal to brute force and MILP."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesplan.engines.effort import (
    AdbudgCurve,
    CurveError,
    EffortProblem,
    InfeasibleError,
    PiecewiseLinearCurve,
    ProblemError,
    brute_force,
    contribution,
    fit_adbudg,
    from_judgement,
    objective_of,
    solve,
    solve_milp,
)

# --- curves --------------------------------------------------------------------------------


def test_judgement_curve_passes_through_the_four_figures():
    curve = from_judgement(no_effort=100, current=400, plus_half=500, saturation=700,
                           current_effort=4)
    assert float(curve(0)) == pytest.approx(100)
    assert float(curve(4)) == pytest.approx(400)
    assert float(curve(6)) == pytest.approx(500)
    assert float(curve(1e9)) == pytest.approx(700, rel=1e-3)
    # d = (700-100)/(400-100) - 1 = 1; y = 400/600; c = ln(2)/ln(1.5)
    assert curve.shape == pytest.approx(math.log(2) / math.log(1.5))


@pytest.mark.parametrize("figures", [
    (100, 90, 500, 700),    # current below no effort
    (100, 400, 400, 700),   # +50% adds nothing
    (100, 400, 500, 450),   # saturation below +50%
])
def test_judgement_that_does_not_rise_is_refused(figures):
    a, b, c, d = figures
    with pytest.raises(CurveError, match="rise with effort"):
        from_judgement(no_effort=a, current=b, plus_half=c, saturation=d, current_effort=2)


def test_adbudg_must_rise():
    with pytest.raises(CurveError, match="rise"):
        AdbudgCurve(floor=10, ceiling=5, shape=1, scale=1)


def test_fit_recovers_a_known_curve():
    truth = AdbudgCurve(floor=50, ceiling=1000, shape=0.8, scale=3.0)
    x = np.repeat(np.arange(0, 12, dtype=float), 3)
    fitted = fit_adbudg(x, truth(x))
    assert float(fitted(5)) == pytest.approx(float(truth(5)), rel=1e-3)
    assert fitted.ceiling > fitted.floor


def test_fit_refuses_flat_or_thin_history():
    with pytest.raises(CurveError, match="Too little history"):
        fit_adbudg([0, 1, 2], [1, 2, 3])
    with pytest.raises(CurveError, match="do not rise|No sales"):
        fit_adbudg([0, 1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 0, 0, 0])


def test_piecewise_linear_curve_is_checked():
    curve = PiecewiseLinearCurve((0, 2, 4), (10, 50, 70))
    assert float(curve(1)) == pytest.approx(30)
    assert float(curve(9)) == pytest.approx(70)  # flat after the last point
    with pytest.raises(CurveError, match="concave"):
        PiecewiseLinearCurve((0, 2, 4), (10, 20, 60))
    with pytest.raises(CurveError, match="between effort 2 and 4"):
        PiecewiseLinearCurve((0, 2, 4), (10, 20, 20))


# --- the problem ---------------------------------------------------------------------------


def test_negative_capacity_and_infeasible_coverage_are_refused():
    hours = np.array([[0.0, 1.0, 2.0]])
    with pytest.raises(ProblemError, match="negative capacity"):
        EffortProblem(hours, hours, np.array([0]), np.array([-1.0]))
    allowed = np.array([[False, False, True]])
    with pytest.raises(InfeasibleError, match="need 2.0 hours but only 1.0"):
        EffortProblem(hours, hours, np.array([0]), np.array([1.0]), allowed)


def test_hand_computed_allocation():
    # Two accounts, one rep with 3 hours; levels 0, 1, 2, 3 calls of one hour.
    # Contribution rises 0, 100, 150, 170 (A) and 0, 80, 140, 160 (B).
    hours = np.tile(np.arange(4.0), (2, 1))
    value = np.array([[0, 100, 150, 170], [0, 80, 140, 160.0]])
    solution = solve(EffortProblem(hours, value, np.array([0, 0]), np.array([3.0])))
    # best use of 3 hours: A=2, B=1 (230) or A=1, B=2 (240) -> 240
    assert solution.objective == pytest.approx(240)
    assert list(solution.level) == [1, 2]
    assert solution.hours_used[0] == pytest.approx(3)
    assert solution.shadow_price[0] > 0


def test_capacity_that_does_not_bind_has_no_shadow_price():
    hours = np.tile(np.arange(3.0), (2, 1))
    value = np.array([[0, 50, 60], [0, 30, 35.0]])
    solution = solve(EffortProblem(hours, value, np.array([0, 0]), np.array([10.0])))
    assert solution.objective == pytest.approx(95)
    assert solution.shadow_price[0] == 0


def test_fixed_commitment_and_minimum_coverage_are_honoured():
    hours = np.tile(np.arange(4.0), (3, 1))
    value = np.array([[0, 100, 150, 170], [0, 80, 140, 160.0], [0, 5, 6, 7.0]])
    allowed = np.ones((3, 4), dtype=bool)
    allowed[2, :2] = False  # unit 2 must get at least two calls
    allowed[0] = [False, False, False, True]  # unit 0 is committed to three calls
    solution = solve(EffortProblem(hours, value, np.zeros(3, int), np.array([6.0]), allowed))
    assert solution.level[0] == 3 and solution.level[2] >= 2
    assert solution.hours_used[0] <= 6 + 1e-9
    assert solution.objective == pytest.approx(brute_force(
        EffortProblem(hours, value, np.zeros(3, int), np.array([6.0]), allowed)))


@st.composite
def instances(draw):
    units = draw(st.integers(1, 6))
    levels = draw(st.integers(2, 4))
    groups = draw(st.integers(1, 2))
    concave = draw(st.booleans())
    grid = draw(st.booleans())
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    per_call = (rng.choice([0.5, 1.0, 1.5], units) if grid
                else rng.uniform(0.3, 2.0, units))
    x = np.arange(levels, dtype=float)
    hours = x[None, :] * per_call[:, None]
    ceiling = rng.uniform(100, 1000, units)
    shape = rng.uniform(0.4, 1.0, units) if concave else rng.uniform(0.4, 3.0, units)
    response = ceiling[:, None] * x ** shape[:, None] / (rng.uniform(0.5, 3, units)[:, None]
                                                         + x ** shape[:, None])
    value = contribution(response, 0.4, hours, 20.0)
    group = rng.integers(0, groups, units)
    allowed = np.ones((units, levels), dtype=bool)
    for j in range(units):
        rule = rng.integers(0, 4)
        if rule == 1:
            allowed[j, :1] = False  # coverage: at least one call
        elif rule == 2:
            allowed[j] = False
            allowed[j, rng.integers(0, levels)] = True  # a fixed commitment
    base = np.bincount(group, weights=hours[np.arange(units), np.argmax(allowed, 1)],
                       minlength=groups)
    capacity = base + rng.uniform(0, 4, groups)
    return EffortProblem(hours, value, group, capacity, allowed)


@settings(max_examples=150, deadline=None)
@given(instances())
def test_optimum_equals_brute_force_and_respects_capacity_and_coverage(problem):
    solution = solve(problem)
    best = brute_force(problem)
    assert solution.objective == pytest.approx(best, rel=1e-9, abs=1e-6)
    assert objective_of(problem, solution.level) == pytest.approx(solution.objective)
    rows = np.arange(problem.units)
    assert problem.mask[rows, solution.level].all()
    used = np.bincount(problem.group, weights=problem.hours[rows, solution.level],
                       minlength=problem.groups)
    assert np.all(used <= problem.capacity + 1e-9)
    assert solution.lp_bound >= solution.objective - 1e-6


def test_equals_milp_on_a_mid_size_instance():
    rng = np.random.default_rng(7)
    units, levels = 300, 8
    per_call = rng.choice([0.5, 1.0, 1.5, 2.0], units)
    x = np.arange(levels, dtype=float)
    hours = x[None, :] * per_call[:, None]
    shape = rng.uniform(0.5, 1.0, units)
    response = rng.uniform(1e3, 5e4, units)[:, None] * x ** shape[:, None] / (
        rng.uniform(1, 4, units)[:, None] + x ** shape[:, None])
    value = contribution(response, 0.3, hours, 60.0)
    group = rng.integers(0, 5, units)
    capacity = np.bincount(group, weights=hours[:, 2], minlength=5)
    problem = EffortProblem(hours, value, group, capacity)
    solution = solve(problem)
    _, milp = solve_milp(problem)
    assert solution.objective == pytest.approx(milp, rel=1e-7)
