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


class AlignmentInfeasible(ValueError):
    """The request cannot be met; the message names the constraint and by how much.

    ``constraint`` is a short machine-readable key ("k", "tau", "locked",
    "adjacency", "current", "keep_share", "pinned", "weights", "coordinates").
    """

    def __init__(self, constraint: str, message: str):
        super().__init__(message)
        self.constraint = constraint


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


@dataclass
class AlignmentOptions:
    """How hard to try.

    method: "auto" runs the heuristic and, for instances of at most
        ``exact_max_units`` units, the exact MILP warm-started from it;
        "exact" forces the MILP; "heuristic" never runs it.
    """

    time_limit: float = 60.0
    method: Literal["auto", "exact", "heuristic"] = "auto"
    exact_max_units: int = 150
    mip_rel_gap: float = 1e-4
    seed: int = 0
    progress: ProgressCallback | None = None
    bound_time_share: float = 0.25


@dataclass
class AlignmentResult:
    """The proposed alignment and how good it provably is.

    lower_bound is a proven bound on the objective of *every* alignment that
    satisfies the model (the best of ``bounds.lagrangian_bound``,
    ``bounds.isolation_bound`` and the MILP dual bound);
    gap = (objective - lower_bound) / objective.
    deviation[k, m] is total[k, m] / mean[m] - 1; ``balanced`` says every
    deviation is within ±tau. ``contiguous`` is None when no adjacency was given.
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
