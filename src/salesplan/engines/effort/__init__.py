"""Sales effort allocated for maximum profit (in the spirit of Lodish's CALLPLAN).

Pure numerical code, no Django import. A planning unit (an account, or a segment of
accounts) has a sales-response curve: expected sales for an effort per period. Given the
contribution of each discrete effort level (margin × response − effort cost), the hours
each level takes and the hours each rep (capacity group) has, `solve` picks one level per
unit that maximises total contribution — exactly, for the discretised problem.
"""

from .curves import (
    AdbudgCurve,
    CurveError,
    PiecewiseLinearCurve,
    fit_adbudg,
    from_judgement,
)
from .problem import EffortProblem, InfeasibleError, ProblemError, contribution
from .solve import EffortSolution, brute_force, objective_of, solve, solve_milp

__all__ = [
    "AdbudgCurve", "CurveError", "EffortProblem", "EffortSolution", "InfeasibleError",
    "PiecewiseLinearCurve", "ProblemError", "brute_force", "contribution", "fit_adbudg",
    "from_judgement", "objective_of", "solve", "solve_milp",
]
