"""The effort plan and the gains it claims, each measured against today on the same curves.

Two problems are solved on the same capped curves:
- **same hours**: each rep (capacity group) keeps exactly the hours they spend today and
  only moves them between accounts — the gain from reallocation;
- **planned hours**: each rep has the hours of the plan — the further gain (or loss) is
  what the change in hours is worth.
Each unit chooses among the effort levels asked for that lie within its curve's trusted
range, plus its own effort today and the top of that range; so today's plan is always a
choice, and no level beyond the cap is offered unless a coverage rule or a fixed
commitment (a manager's figure) asks for it. The range of the reallocation gain comes
from a bootstrap over accounts and months (`reallocation_range`) that repeats the whole
procedure on each replicate — refit, choose the best allocation, see how far its claimed
gain overshoots — so it corrects for the optimism of picking the best plan on fitted
curves.
"""

from dataclasses import dataclass, field

import numpy as np

from .curves import AdbudgCurve, CappedCurve, CurveError, FlatCurve, fit_adbudg
from .evidence import SegmentCurve, SegmentHistory, resample
from .problem import EffortProblem
from .solve import EffortSolution, solve

TOL = 1e-9


@dataclass(frozen=True)
class Economics:
    """margin × bookings − cost_per_hour × hours; hours = calls × hours_per_call."""

    margin: float
    cost_per_hour: float
    hours_per_call: float


@dataclass
class Units:
    """The planning units: each one account, or several of one segment (a rep's
    accounts of a tier and industry). `size` scales the segment's per-account curve
    (accounts × potential weight); `count` multiplies the hours of a call level;
    `current` is today's calls per account per month; `minimum` a coverage rule (0 for
    none); `fixed` a committed level (NaN for none)."""

    segment: np.ndarray
    size: np.ndarray
    count: np.ndarray
    current: np.ndarray
    group: np.ndarray
    minimum: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fixed: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        self.segment = np.asarray(self.segment, dtype=np.int64)
        n = len(self.segment)
        self.size = np.asarray(self.size, dtype=float)
        self.count = np.asarray(self.count, dtype=float)
        self.current = np.asarray(self.current, dtype=float)
        self.group = np.asarray(self.group, dtype=np.int64)
        self.minimum = (
            np.zeros(n) if len(self.minimum) == 0 else np.asarray(self.minimum, dtype=float)
        )
        self.fixed = (
            np.full(n, np.nan) if len(self.fixed) == 0 else np.asarray(self.fixed, dtype=float)
        )
        for name in ("size", "count", "current", "group", "minimum", "fixed"):
            if getattr(self, name).shape != (n,):
                raise CurveError(f"Give one {name} per unit.")
        if np.any(self.count <= 0):
            raise CurveError("Every unit holds at least one account.")

    def __len__(self) -> int:
        return len(self.segment)


@dataclass
class EffortPlan:
    """The plan at today's hours and at the planned hours, with what each is worth."""

    effort: np.ndarray  # (units, choices): calls per account per month of each choice
    allowed: np.ndarray
    cap: np.ndarray  # per unit: the most effort its curve is trusted at
    current_value: np.ndarray  # per unit, per month
    current_hours: np.ndarray  # per group
    same_hours: EffortSolution
    planned: EffortSolution
    same_hours_problem: EffortProblem
    planned_problem: EffortProblem

    def chosen(self, solution: EffortSolution) -> np.ndarray:
        return self.effort[np.arange(len(self.cap)), solution.level]

    @property
    def reallocated_effort(self) -> np.ndarray:
        return self.chosen(self.same_hours)

    @property
    def planned_effort(self) -> np.ndarray:
        return self.chosen(self.planned)

    @property
    def current_total(self) -> float:
        return float(self.current_value.sum())

    @property
    def reallocation_gain(self) -> float:
        return self.same_hours.objective - self.current_total

    @property
    def added_hours_gain(self) -> float:
        return self.planned.objective - self.same_hours.objective

    def above_cap(self, solution: EffortSolution) -> np.ndarray:
        """Units whose chosen effort lies beyond their curve's cap (only ever where a
        coverage rule or fixed commitment put them)."""
        return self.chosen(solution) > self.cap + 1e-9


def _choices(
    levels: np.ndarray, units: Units, caps: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per unit, the efforts on offer: the levels within its cap, the cap, and any
    coverage minimum or commitment (`allowed`), plus its effort today (`today`, which
    only the same-hours plan may keep where a rule now refuses it). Padded to one width
    with disallowed columns that keep the hours rising."""
    rows, width = [], 0
    for i in range(len(units)):
        now = round(float(units.current[i]), 9)
        if np.isfinite(units.fixed[i]):
            options = {float(units.fixed[i])}
        else:
            options = set(levels[levels <= caps[i] + TOL].tolist()) | {float(caps[i]), now}
            if units.minimum[i] > 0:
                options = {x for x in options if x >= units.minimum[i] - TOL}
                if not options or min(options) > units.minimum[i] + TOL:
                    above = levels[levels >= units.minimum[i] - TOL]
                    options.add(float(above[0]) if above.size else float(units.minimum[i]))
        rows.append((sorted(options | {now}), options, now))
        width = max(width, len(rows[-1][0]))
    effort = np.zeros((len(units), width))
    allowed = np.zeros((len(units), width), dtype=bool)
    today = np.zeros((len(units), width), dtype=bool)
    for i, (row, options, now) in enumerate(rows):
        effort[i] = row + [row[-1] + k + 1.0 for k in range(width - len(row))]
        allowed[i, : len(row)] = [x in options for x in row]
        today[i, row.index(now)] = True
    return effort, allowed, today


def unit_values(
    curves: list[CappedCurve], units: Units, effort: np.ndarray, economics: Economics
) -> np.ndarray:
    """Contribution per month of each unit at each effort (same shape as `effort`)."""
    response = np.zeros(effort.shape, dtype=float)
    for s, curve in enumerate(curves):
        members = units.segment == s
        if members.any():
            response[members] = curve(effort[members])
    hours = effort * (units.count * economics.hours_per_call).reshape(
        (-1,) + (1,) * (effort.ndim - 1)
    )
    size = units.size.reshape((-1,) + (1,) * (effort.ndim - 1))
    return economics.margin * size * response - economics.cost_per_hour * hours


def plan_effort(
    segments: list[SegmentCurve], units: Units, capacity: np.ndarray, levels, economics: Economics
) -> EffortPlan:
    """Solve at today's hours and at the planned `capacity` (hours per group)."""
    levels = np.unique(np.asarray(levels, dtype=float))
    caps = np.array([segments[s].cap for s in units.segment], dtype=float)
    fixed = units.fixed.copy()
    # no evidence of a response: the plan holds today's effort and claims nothing
    silent = np.array([not segments[s].responds for s in units.segment], dtype=bool)
    fixed[silent & ~np.isfinite(fixed)] = units.current[silent & ~np.isfinite(fixed)]
    held = Units(
        units.segment, units.size, units.count, units.current, units.group, units.minimum, fixed
    )
    effort, allowed, today = _choices(levels, held, caps)
    curves = [s.curve for s in segments]
    value = unit_values(curves, held, effort, economics)
    hours = effort * (held.count * economics.hours_per_call)[:, None]
    current_value = unit_values(curves, held, held.current, economics)
    current_hours_unit = held.current * held.count * economics.hours_per_call
    groups = len(capacity)
    current_hours = np.bincount(held.group, weights=current_hours_unit, minlength=groups)
    # today's own level stays a choice even where a rule would now refuse it, so the
    # same-hours plan can always keep today's allocation
    same_problem = EffortProblem(
        hours, value, held.group, current_hours * (1 + 1e-12) + 1e-9, allowed | today
    )
    planned_problem = EffortProblem(hours, value, held.group, np.asarray(capacity, float), allowed)
    return EffortPlan(
        effort,
        allowed,
        caps,
        current_value,
        current_hours,
        solve(same_problem),
        solve(planned_problem),
        same_problem,
        planned_problem,
    )


@dataclass(frozen=True)
class GainRange:
    """The range of the reallocation gain: the low and high ends of a `coverage` range
    (0.9: nine chances in ten of holding the true gain), corrected for the optimism of
    choosing the best allocation on fitted curves, and the uncorrected ends
    (`naive_low`, `naive_high`: the same plan scored on every replicate's curves) that
    such a range used to be. `optimism`: how much, on average over the replicates, a
    plan chosen on a sample's curves overstated its own gain."""

    low: float
    high: float
    median: float
    iterations: int
    coverage: float
    seed: int
    naive_low: float = 0.0
    naive_high: float = 0.0
    optimism: float = 0.0

    def as_dict(self) -> dict:
        return {
            "low": self.low,
            "high": self.high,
            "median": self.median,
            "iterations": self.iterations,
            "coverage": self.coverage,
            "seed": self.seed,
            "naive_low": self.naive_low,
            "naive_high": self.naive_high,
            "optimism": self.optimism,
            "method": "optimism-corrected bootstrap",
        }


def reallocation_range(
    histories: list[SegmentHistory | None],
    segments: list[SegmentCurve],
    units: Units,
    plan: EffortPlan,
    economics: Economics,
    *,
    iterations: int = 200,
    seed: int = 0,
    coverage: float = 0.9,
) -> GainRange:
    """The range of the same-hours plan's gain over today's, from bootstrap replicates
    of the history (accounts and months drawn with replacement, seeded).

    The claimed gain is the best allocation's on the fitted curves, and picking the best
    on noisy curves overstates it. Each replicate repeats the whole procedure: refit the
    curves, choose the best same-hours allocation on them, and compare the gain it
    claims there with what it gains on the original fit — the error a plan made from a
    sample makes about its own gain. The range is the claimed gain less the central
    `coverage` share of those errors (a basic bootstrap interval on the whole
    procedure). Curves from history are refitted; a replicate in which no rising curve
    fits counts no sales gain for that segment. A manager's curve is not refitted.
    Today's effort per unit stays as observed."""
    if iterations < 1:
        raise CurveError("The bootstrap needs at least one iteration.")
    if not 0 < coverage < 1:
        raise CurveError("The range's coverage is a share between 0 and 1.")
    rng = np.random.default_rng(seed)
    usable = [
        h if h is not None else SegmentHistory(np.zeros((0, 0)), np.zeros((0, 0)))
        for h in histories
    ]
    same = plan.same_hours_problem
    original = [s.curve for s in segments]
    recommended = plan.reallocated_effort
    rows = np.arange(len(units))
    scored, errors = np.empty(iterations), np.empty(iterations)
    for b in range(iterations):
        replicate, _ = resample(usable, rng)
        curves = [_refit(seg, rep) for seg, rep in zip(segments, replicate, strict=True)]
        scored[b] = _gain(curves, units, recommended, economics)
        # the same choices and hours as the plan's; only what each is worth differs
        value = unit_values(curves, units, plan.effort, economics)
        replanned = EffortProblem(same.hours, value, same.group, same.capacity, same.mask)
        chosen = plan.effort[rows, solve(replanned).level]
        errors[b] = _gain(curves, units, chosen, economics) - _gain(
            original, units, chosen, economics
        )
    tail = (1 - coverage) / 2 * 100
    claimed = plan.reallocation_gain
    low_error, mid_error, high_error = np.percentile(errors, [tail, 50, 100 - tail])
    naive_low, naive_high = np.percentile(scored, [tail, 100 - tail])
    return GainRange(
        float(claimed - high_error),
        float(claimed - low_error),
        float(claimed - mid_error),
        iterations,
        coverage,
        seed,
        float(naive_low),
        float(naive_high),
        float(errors.mean()),
    )


def _gain(curves: list[CappedCurve], units: Units, effort: np.ndarray,
          economics: Economics) -> float:
    """Contribution a month of `effort` over today's, on `curves`."""
    return float(
        (
            unit_values(curves, units, effort, economics)
            - unit_values(curves, units, units.current, economics)
        ).sum()
    )


def _refit(segment: SegmentCurve, history: SegmentHistory) -> CappedCurve:
    if segment.source != "history" or not segment.trusted:
        return segment.curve  # a manager's curve, or a segment the plan does not move
    fitted = segment.curve.curve
    start = fitted if isinstance(fitted, AdbudgCurve) else None
    try:
        return CappedCurve(
            fit_adbudg(history.effort.ravel(), history.per_account.ravel(), start=start),
            segment.cap,
        )
    except CurveError:
        return CappedCurve(FlatCurve(0.0), segment.cap)
