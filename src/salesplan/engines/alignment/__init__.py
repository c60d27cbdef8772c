"""Territory alignment optimiser: balanced, compact, contiguous territories.

Pure numerics (numpy, scipy, HiGHS); no Django. Entry point: ``optimise``.
"""

from .model import (
    AlignmentInfeasible,
    AlignmentOptions,
    AlignmentProblem,
    AlignmentResult,
    WorkBudget,
)
from .solver import optimise

__all__ = [
    "AlignmentInfeasible",
    "AlignmentOptions",
    "AlignmentProblem",
    "AlignmentResult",
    "WorkBudget",
    "optimise",
]
