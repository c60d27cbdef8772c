"""The alignment problem, its options and its result, as plain dataclasses.

Units are indexed 0..n-1 and territories 0..K-1; the caller maps them to ZIP
codes, accounts and territory records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Objective = Literal["squared", "distance"]
ProgressCallback = Callable[[float, str], None]
Namer = Callable[[int], str]
Explain = Callable[[Namer, Namer, Namer], str]


class AlignmentInfeasible(ValueError):
    """The request cannot be met; the message names the constraint and by how much.

    ``constraint`` is a short machine-readable key ("k", "tau", "locked",
    "adjacency", "current", "keep_share", "pinned", "weights", "coordinates", "time").

    Where a counting or weight argument proves the balance impossible, ``wider_tau`` is
    the narrowest tolerance (a share, e.g. 0.087) that this argument passes, ``other_k``
    the nearest territory counts that pass at the tolerance asked, and ``describe`` says
    it in the caller's words (its names for measures and units) with the fix.
    """

    def __init__(self, constraint: str, message: str, *, explain: Explain | None = None,
                 wider_tau: float | None = None, other_k: Sequence[int] = ()):
        super().__init__(message)
        self.constraint = constraint
        self.explain = explain
        self.wider_tau = wider_tau
        self.other_k = list(other_k)

    def describe(self, measure_name: Namer | None = None, unit_name: Namer | None = None,
                 territory_name: Namer | None = None) -> str:
        """The reason and the fix, naming measures, units and territories (by index) as
        the caller does."""
        if self.explain is None:
            return str(self)
        return self.explain(measure_name or (lambda m: f"measure {m}"),
                            unit_name or (lambda i: f"unit {i}"),
                            territory_name or (lambda t: f"territory {t}"))


@dataclass
class AlignmentProblem:
    """Assign ``n`` basic units to ``k`` territories.

    coordinates: (n, 2) array; (latitude, longitude) in degrees when
        ``geographic`` is true (projected to an equal-area plane in km),
        otherwise planar (x, y) in km.
    weights: (n,) or (n, m) non-negative balance measures (workload, potential,
        number of accounts...). Every territory's total of each measure must
        lie within ``mean * (1 ± tau)``.
    activity: (n,) weight of each unit in the compactness objective; defaults
        to the first balance measure.
    objective: "squared" minimises sum(activity * distance²) to the territory
        centre (Hess); "distance" minimises sum(activity * distance).
    adjacency: optional (e, 2) pairs of neighbouring units; when given, each
        territory must be one connected piece.
    locked: {unit: territory} units that must stay in that territory.
    pinned_centres: {territory: (lat, lon) or (x, y)} fixed centre points
        (e.g. reps' home bases); other centres are chosen among the units.
    current: (n,) current territory of each unit (-1 for unassigned); used
        by ``min_keep_share`` and ``move_penalty`` and as a starting point.
    min_keep_share: keep at least this share of the first measure's total
        in its current territory.
    move_penalty: added to the objective per unit of the first measure that
        changes territory (same units as the objective: km² × activity for
        "squared").
    """

    coordinates: np.ndarray
    weights: np.ndarray
    k: int
    tau: float | Sequence[float] = 0.05
    objective: Objective = "squared"
    activity: np.ndarray | None = None
    adjacency: np.ndarray | Sequence[tuple[int, int]] | None = None
    locked: Mapping[int, int] = field(default_factory=dict)
    pinned_centres: Mapping[int, tuple[float, float]] = field(default_factory=dict)
    current: np.ndarray | None = None
    min_keep_share: float | None = None
    move_penalty: float = 0.0
    geographic: bool = True


# Bound steps of a run with a time limit: enough to use the time the search leaves on a
# few thousand units (0.06–0.09 CPU-seconds a step on 1,729 ZIP codes), while budgeted
# runs without a limit (tests, reproducible runs) keep their own, smaller count.
TIMED_BOUND_ITERATIONS = 2000


@dataclass(frozen=True)
class WorkBudget:
    """How much work each stage may do, counted in steps rather than seconds.

    With the same problem, budget and seed, ``optimise`` returns the same alignment on a
    fast or a slow machine, as long as the time limit (a safety cap) is not reached
    first. ``None`` means "until the stage has nothing left to improve".

    starts: multi-starts of the location–allocation alternation at most; it also stops
        after ``patience`` starts in a row without a better alignment.
    polish_solves: exact neighbourhood re-solves in all (split over the best local
        optima); ``None`` re-solves until no window of neighbouring territories improves.
    region_solves: regions of neighbouring territories re-solved afresh in all (``regions``);
        ``None`` re-solves until no region improves.
    region_starts: location–allocation starts per region re-solve (three: on the ZIP codes
        of two states into 50 territories, regions of 8 with 3 starts stopped 0.1% above
        where 6 starts stopped, in 23 processor seconds instead of 40).
    window_nodes: branch-and-bound nodes HiGHS may explore per neighbourhood re-solve
        (it finds a window's improvement early and then only proves it optimal).
    exact_nodes: branch-and-bound nodes for the exact model per contiguity round;
        ``None``: until optimal (or the time limit).
    bound_iterations: steps of the Lagrangian lower bound (Volume steps over every unit
        up to a few thousand places, subgradient steps over neighbourhoods above). A run
        with a time limit takes at least ``TIMED_BOUND_ITERATIONS``: its bound keeps
        stepping for the time the search leaves.
    repair_steps: moves of the tabu balance repair in all (``repair``), used only when
        the starts end with no alignment meeting every constraint; a run does not give up
        while steps (and time) remain.
    bound_lp_iterations: simplex iterations of the LP relaxation whose duals start the
        Lagrangian bound on instances of a few hundred units (an LP stopped early only
        starts it lower); ``None``: until the LP is solved.
    """

    starts: int = 400
    patience: int = 40
    polish_solves: int | None = None
    region_solves: int | None = None
    region_starts: int = 3
    window_nodes: int = 500
    exact_nodes: int | None = None
    bound_iterations: int = 200
    bound_lp_iterations: int | None = 10_000
    repair_steps: int = 50_000

    def __post_init__(self) -> None:
        for name in ("starts", "patience", "polish_solves", "region_solves", "region_starts",
                     "window_nodes", "exact_nodes",
                     "bound_iterations", "bound_lp_iterations", "repair_steps"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")


@dataclass
class AlignmentOptions:
    """How hard to try.

    method: "auto" runs the heuristic and, for instances of at most
        ``exact_max_units`` units, the exact MILP warm-started from it;
        "exact" forces the MILP; "heuristic" never runs it.
    budget: the work each stage may do (see ``WorkBudget``); it decides the result.
    time_limit: seconds, a safety cap for production runs (``None``: no cap). When it is
        reached first the result depends on the machine's speed; tests and reproducible
        runs leave it out and let the budget decide.
    seed: the random starts' seed, also HiGHS's ``random_seed``.
    concurrent_bound: prove the lower bound in a second process while the search runs
        (``concurrent_bound``). None: only under a time limit on a few hundred units or
        more with a second processor; True: whenever the exact model does not run (then
        without a time limit the bound keeps the first plan's cost as its target and
        its result still depends only on the inputs and the budget); False: never.
    """

    time_limit: float | None = 60.0
    method: Literal["auto", "exact", "heuristic"] = "auto"
    budget: WorkBudget = field(default_factory=WorkBudget)
    exact_max_units: int = 150
    mip_rel_gap: float = 1e-4
    seed: int = 0
    progress: ProgressCallback | None = None
    concurrent_bound: bool | None = None


@dataclass
class AlignmentResult:
    """The proposed alignment and how good it provably is.

    lower_bound is a proven bound on the objective of *every* alignment that
    satisfies the model (the best of ``bounds.lagrangian_bound``,
    ``bounds.isolation_bound`` and the MILP dual bound);
    gap = (objective - lower_bound) / objective.
    deviation[k, m] is total[k, m] / mean[m] - 1; ``balanced`` says every
    deviation is within ±tau. ``contiguous`` is None when no adjacency was given.
    ``bound_steps``: steps the Lagrangian bound took (0 when the exact model proved
    optimality).
    """

    assignment: np.ndarray
    centres: np.ndarray
    centre_units: np.ndarray
    totals: np.ndarray
    mean: np.ndarray
    deviation: np.ndarray
    balanced: bool
    objective: float
    lower_bound: float
    gap: float
    contiguous: np.ndarray | None
    kept_share: float | None
    moved_units: int
    method: str
    status: str
    iterations: int
    seconds: float
    messages: list[str] = field(default_factory=list)
    bound_steps: int = 0
