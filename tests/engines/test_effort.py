"""The effort allocation engine: curves, and an optimum equal to brute force and MILP."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesplan.engines.effort import (
    AdbudgCurve,
    CurveError,
    Economics,
    EffortProblem,
    InfeasibleError,
    PiecewiseLinearCurve,
    ProblemError,
    SegmentHistory,
    Units,
    brute_force,
    contribution,
    fit_adbudg,
    fit_segment,
    from_judgement,
    held_out_error,
    judged_segment,
    objective_of,
    plan_effort,
    reallocation_range,
    solve,
    solve_milp,
    trusted_up_to,
)
from salesplan.engines.effort.known_truth import generate_company, recovery

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


# --- a plan a manager can believe: caps, held-out checks, gains apart, known truth -------


def _cheap_calls_history(most: int = 3, accounts: int = 6, months: int = 12):
    """Calls 0..`most` a month on a curve still rising steeply at the top: a naive
    optimiser would push far past what the history holds."""
    truth = AdbudgCurve(floor=100, ceiling=50_000, shape=1.0, scale=20.0)
    effort = np.array([[(a + m) % (most + 1) for m in range(months)]
                       for a in range(accounts)], dtype=float)
    return truth, SegmentHistory(effort, truth(effort))


def test_no_recommended_effort_beyond_the_most_seen_unless_a_manager_sets_it():
    _, history = _cheap_calls_history(most=3)
    segment = fit_segment(history)
    assert segment.trusted and segment.cap == 3.0
    units = Units(segment=[0] * 6, size=[1.0] * 6, count=[1.0] * 6,
                  current=history.current_effort(), group=[0, 0, 0, 1, 1, 1],
                  fixed=[np.nan] * 5 + [6.0])
    economics = Economics(margin=0.5, cost_per_hour=1.0, hours_per_call=1.0)
    plan = plan_effort([segment], units, np.array([500.0, 500.0]), [0, 1, 2, 4, 6, 8],
                       economics)
    # Hours to spare and every call pays on the curve, yet nobody goes past 3 calls but
    # the account the manager committed to 6.
    assert list(plan.planned_effort[:5]) == [3.0] * 5
    assert plan.planned_effort[5] == 6.0
    assert list(np.flatnonzero(plan.above_cap(plan.planned))) == [5]
    assert np.all(plan.reallocated_effort[:5] <= 3.0)
    # A manager's curve is trusted up to the effort they judged.
    judged = judged_segment(AdbudgCurve(100, 5000, 1.0, 2.0), judged_up_to=4.5, history=history)
    assert judged.cap == 4.5


def test_gains_are_reported_apart_and_add_up():
    _, history = _cheap_calls_history(most=3)
    segment = fit_segment(history)
    units = Units(segment=[0] * 6, size=[1.0] * 6, count=[1.0] * 6,
                  current=[0.5, 0.5, 3.0, 3.0, 1.5, 1.5], group=[0, 0, 0, 1, 1, 1])
    economics = Economics(margin=0.5, cost_per_hour=1.0, hours_per_call=1.0)
    plan = plan_effort([segment], units, np.array([9.0, 9.0]), [0, 1, 2, 3], economics)
    # Same hours per rep as today; the reallocation moves calls to the accounts with few.
    assert np.all(plan.same_hours.hours_used <= plan.current_hours + 1e-6)
    assert plan.reallocation_gain > 0
    assert plan.added_hours_gain > 0  # each rep gets more hours than the 4 or 6 of today
    total = plan.current_total + plan.reallocation_gain + plan.added_hours_gain
    assert total == pytest.approx(plan.planned.objective)


def test_held_out_error_is_the_later_months_missed_by_the_earlier_fit():
    truth = AdbudgCurve(floor=100, ceiling=1000, shape=1.0, scale=2.0)
    effort = np.array([[0, 1, 2, 2], [3, 4, 5, 6]], dtype=float)
    sales = truth(effort)
    sales[:, 3] = [700.0, 500.0]  # the held-out month, off the curve
    check = held_out_error(SegmentHistory(effort, sales))
    assert (check.fit_months, check.test_months, check.observations) == (3, 1, 2)
    # Fitted exactly on the first three months; 6 calls is past the 5 seen there, so
    # the prediction is the curve at 5 (held flat).
    predicted = np.array([100 + 900 * 2 / 4, 100 + 900 * 5 / 7])
    expected = math.sqrt(np.mean((predicted - [700.0, 500.0]) ** 2))
    assert check.curve_error == pytest.approx(expected, rel=1e-3)
    naive = float(truth(effort[:, :3]).mean())
    assert check.naive_error == pytest.approx(math.sqrt(np.mean((naive - np.array(
        [700.0, 500.0])) ** 2)))
    assert check.beats_naive == (check.curve_error < check.naive_error)


def test_a_curve_no_better_than_ignoring_calls_is_not_used():
    rng = np.random.default_rng(4)
    effort = rng.integers(0, 4, (30, 12)).astype(float)
    sales = rng.gamma(2.0, 500.0, effort.shape)  # bookings unrelated to calls
    segment = fit_segment(SegmentHistory(effort, sales))
    assert not segment.trusted
    units = Units(segment=[0] * 3, size=[1.0] * 3, count=[1.0] * 3, current=[1.0, 2.0, 0.5],
                  group=[0, 0, 0])
    plan = plan_effort([segment], units, np.array([20.0]), [0, 1, 2, 3],
                       Economics(0.5, 1.0, 1.0))
    assert list(plan.planned_effort) == [1.0, 2.0, 0.5]  # today's calls, nothing claimed
    assert plan.reallocation_gain == pytest.approx(0.0)


def test_plan_from_noisy_history_recovers_the_true_optimum_gain():
    company = generate_company(seed=1, segments=3)
    found, plan, fitted = recovery(company)
    assert found.trusted_segments == 3
    assert found.optimum_gain > 0
    assert found.share >= 0.95
    spread = reallocation_range(company.histories, fitted, company.units, plan,
                                company.economics, iterations=30, seed=7)
    again = reallocation_range(company.histories, fitted, company.units, plan,
                               company.economics, iterations=30, seed=7)
    assert spread == again  # seeded: the same range every time
    assert spread.iterations == 30 and spread.low <= spread.median <= spread.high
    assert spread.low > 0  # real curves: the reallocation pays in every plausible world
    # Choosing the best allocation on fitted curves overstates its gain; the range is
    # moved down by that optimism, and holds the gain the plan makes on the true curves,
    # which the uncorrected range (the same plan on every replicate's curves) misses.
    assert spread.optimism > 0
    assert spread.high < spread.naive_high and spread.low < spread.naive_low
    assert spread.low <= found.true_gain <= spread.high
    assert not spread.naive_low <= found.true_gain <= spread.naive_high


def test_range_of_a_gain_with_no_room_is_zero():
    """A curve nobody can move (not trusted): no allocation to choose, no optimism."""
    rng = np.random.default_rng(4)
    effort = rng.integers(0, 4, (30, 12)).astype(float)
    history = SegmentHistory(effort, rng.gamma(2.0, 500.0, effort.shape))
    segment = fit_segment(history)
    units = Units(segment=[0] * 3, size=[1.0] * 3, count=[1.0] * 3, current=[1.0, 2.0, 0.5],
                  group=[0, 0, 0])
    economics = Economics(0.5, 1.0, 1.0)
    plan = plan_effort([segment], units, np.array([20.0]), [0, 1, 2, 3], economics)
    spread = reallocation_range([history], [segment], units, plan, economics, iterations=20)
    assert (spread.low, spread.high, spread.optimism) == (0.0, 0.0, 0.0)
    with pytest.raises(CurveError):
        reallocation_range([history], [segment], units, plan, economics, coverage=1.0)


def test_a_manager_may_trust_curves_beyond_the_most_calls_seen():
    _, history = _cheap_calls_history(most=3)
    assert fit_segment(history).cap == 3.0
    believed = fit_segment(history, above_seen=0.3)
    assert believed.trusted and believed.cap == pytest.approx(3.9)
    units = Units(segment=[0] * 6, size=[1.0] * 6, count=[1.0] * 6,
                  current=history.current_effort(), group=[0] * 6)
    economics = Economics(margin=0.5, cost_per_hour=1.0, hours_per_call=1.0)
    plan = plan_effort([believed], units, np.array([500.0]), [0, 1, 2, 4, 6, 8], economics)
    # Every call pays on this curve and hours are plenty: each account goes to the point
    # the manager believes still pays — past the 3 seen, and not to the 4 on offer.
    assert list(plan.planned_effort) == pytest.approx([3.9] * 6)
    assert not plan.above_cap(plan.planned).any()
    assert trusted_up_to(3.0, None) == 3.0
    with pytest.raises(CurveError):
        trusted_up_to(3.0, -0.1)
