"""The lower bound proved in a second process beside the search: as valid as the one the
run proves itself, the same for the same inputs and steps, and a child that fails or is
killed never costs the caller its plan or leaves a process behind.

Step budgets, no time limits: the same result on any machine."""

import math

import numpy as np
import pytest

from salesplan.engines.alignment import (
    AlignmentOptions,
    AlignmentProblem,
    WorkBudget,
    bounds,
    concurrent_bound,
    optimise,
)
from salesplan.engines.alignment.allocation import arc_costs
from salesplan.engines.alignment.instance import build_instance

EXACT = AlignmentOptions(time_limit=None, method="exact",
                         budget=WorkBudget(exact_nodes=50_000, bound_lp_iterations=5_000))
SMALL = WorkBudget(starts=6, patience=3, polish_solves=4, region_solves=2,
                   bound_iterations=60)


@pytest.fixture(scope="module")
def solved():
    """60 units into four territories and their optimum, proven by the exact model."""
    rng = np.random.default_rng(1)
    xy, w = rng.uniform(0, 200, (60, 2)), rng.uniform(1, 3, 60)
    problem = AlignmentProblem(coordinates=xy, weights=w, k=4, tau=0.05, geographic=False)
    exact = optimise(problem, EXACT)
    assert exact.status == "optimal"
    return problem, exact


def _costs(inst, result):
    return arc_costs(inst, inst.xy[result.centre_units], np.arange(inst.n), result.assignment)


def test_the_childs_bound_equals_the_same_steps_in_process(solved):
    """Same plan, same 40 steps: the child proves exactly what the caller's process
    proves, below the optimum, and says how many steps it took."""
    problem, exact = solved
    inst = build_instance(problem)
    plan_cost = exact.objective * 1.05  # a plan somewhat worse than the optimum
    in_process = bounds.lagrangian_bound(inst, plan_cost, _costs(inst, exact), math.inf,
                                         max_iterations=40)
    with concurrent_bound.ConcurrentBound() as child:
        assert child.start(inst, plan_cost, _costs(inst, exact), math.inf, 40, follow=False)
        found, steps, finished = child.result(math.inf)

    assert finished and 0 < steps <= 40
    assert found == in_process
    assert 0 < found <= exact.objective * (1 + 1e-9)


def test_a_run_with_the_bound_beside_the_search_proves_a_valid_bound(solved):
    """The whole run with the bound in a second process (forced, no time limit): the
    bound is below the proven optimum and the returned plan's cost, and the run is
    reproducible."""
    problem, exact = solved
    options = AlignmentOptions(time_limit=None, method="heuristic", budget=SMALL, seed=2,
                               concurrent_bound=True)
    first, second = optimise(problem, options), optimise(problem, options)

    assert first.bound_steps > 0
    assert 0 < first.lower_bound <= exact.objective * (1 + 1e-9)
    assert first.lower_bound <= first.objective
    assert (second.lower_bound, second.objective) == (first.lower_bound, first.objective)


def test_a_child_that_fails_reports_it_without_hanging(solved):
    """Costs of the wrong length make the child raise at once: the caller learns it
    failed (and does not wait for a deadline), and the process is gone."""
    problem, exact = solved
    inst = build_instance(problem)
    child = concurrent_bound.ConcurrentBound()
    assert child.start(inst, exact.objective, np.ones(3), math.inf, 40)
    process = child.process

    found, _, finished = child.result(math.inf)

    assert not finished and found == 0.0
    assert child.process is None
    with pytest.raises(ValueError, match="closed"):
        process.is_alive()  # closed: reaped, nothing left running


def test_a_killed_child_falls_back_to_the_bound_in_process(solved, monkeypatch):
    """The child is killed as soon as it starts: the run still returns its plan with the
    bound the main process proves itself, as if the bound had never left it."""
    problem, exact = solved
    started = []
    start = concurrent_bound.ConcurrentBound.start

    def start_then_kill(self, *args, **kwargs):
        ok = start(self, *args, **kwargs)
        self.process.kill()
        started.append(self.process)
        return ok

    monkeypatch.setattr(concurrent_bound.ConcurrentBound, "start", start_then_kill)
    options = AlignmentOptions(time_limit=None, method="heuristic", budget=SMALL, seed=2)
    alone = optimise(problem, options)
    killed = optimise(problem, AlignmentOptions(time_limit=None, method="heuristic",
                                                budget=SMALL, seed=2, concurrent_bound=True))

    assert len(started) == 1
    assert killed.objective == alone.objective
    assert killed.lower_bound == alone.lower_bound
    assert killed.bound_steps == alone.bound_steps > 0


def test_the_child_is_ended_when_the_run_fails(solved, monkeypatch):
    """An error in the search after the child started: the error reaches the caller and
    the child does not outlive the run."""
    problem, _ = solved
    children = []
    start = concurrent_bound.ConcurrentBound.start

    def start_and_remember(self, *args, **kwargs):
        ok = start(self, *args, **kwargs)
        children.append(self.process)
        return ok

    def broken(*args, **kwargs):
        raise RuntimeError("search failed")

    monkeypatch.setattr(concurrent_bound.ConcurrentBound, "start", start_and_remember)
    from salesplan.engines.alignment import solver
    monkeypatch.setattr(solver, "_polish_best", broken)
    with pytest.raises(RuntimeError, match="search failed"):
        optimise(problem, AlignmentOptions(time_limit=None, method="heuristic", budget=SMALL,
                                           concurrent_bound=True))

    assert len(children) == 1
    with pytest.raises(ValueError, match="closed"):
        children[0].is_alive()


def test_left_to_itself_the_bound_stays_in_process_without_a_time_limit():
    """Reproducible runs (no time limit) and small instances never start a child."""
    rng = np.random.default_rng(1)
    inst = build_instance(AlignmentProblem(coordinates=rng.uniform(0, 99, (600, 2)),
                                           weights=np.ones(600), k=4, geographic=False))
    small = build_instance(AlignmentProblem(coordinates=rng.uniform(0, 99, (60, 2)),
                                            weights=np.ones(60), k=4, geographic=False))
    from salesplan.engines.alignment.solver import _wants_concurrent_bound

    assert not _wants_concurrent_bound(AlignmentOptions(time_limit=None), inst, False)
    assert not _wants_concurrent_bound(AlignmentOptions(time_limit=60), small, False)
    assert not _wants_concurrent_bound(AlignmentOptions(concurrent_bound=True), inst, True)
    assert _wants_concurrent_bound(AlignmentOptions(concurrent_bound=True, time_limit=None),
                                   inst, False)
