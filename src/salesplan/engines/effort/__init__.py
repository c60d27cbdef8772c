"""Sales effort allocated for maximum profit (in the spirit of Lodish's CALLPLAN).

Pure numerical code, no Django import. A planning unit (an account, or a segment of
accounts) has a sales-response curve: expected sales for an effort per period. Given the
contribution of each discrete effort level (margin × response − effort cost), the hours
each level takes and the hours each rep (capacity group) has, `solve` picks one level per
unit that maximises total contribution — exactly, for the discretised problem.

A plan a manager can believe (`gains`, `evidence`): curves are capped at the most effort
the history (or the manager's judgement) holds, checked on held-out months against a
naive forecast, and the gain of reallocating today's hours is reported apart from the
gain of the hours added, with a bootstrap range. `known_truth` generates a company whose
true curves are known, to measure how much of the true optimum's gain a plan recovers.
"""

from .curves import (
    AdbudgCurve,
    CappedCurve,
    CurveError,
    FlatCurve,
    PiecewiseLinearCurve,
    fit_adbudg,
    from_judgement,
)
from .evidence import (
    HeldOut,
    SegmentCurve,
    SegmentHistory,
    fit_segment,
    held_out_error,
    judged_segment,
    trusted_up_to,
)
from .gains import (
    Economics,
    EffortPlan,
    GainRange,
    Units,
    plan_effort,
    reallocation_range,
    unit_values,
)
from .problem import EffortProblem, InfeasibleError, ProblemError, contribution
from .solve import EffortSolution, brute_force, objective_of, solve, solve_milp

__all__ = [
    "AdbudgCurve", "CappedCurve", "CurveError", "Economics", "EffortPlan", "EffortProblem",
    "EffortSolution", "FlatCurve", "GainRange", "HeldOut", "InfeasibleError",
    "PiecewiseLinearCurve", "ProblemError", "SegmentCurve", "SegmentHistory", "Units",
    "brute_force", "contribution", "fit_adbudg", "fit_segment", "from_judgement",
    "held_out_error", "judged_segment", "objective_of", "plan_effort", "reallocation_range",
    "solve", "solve_milp", "trusted_up_to", "unit_values",
]
