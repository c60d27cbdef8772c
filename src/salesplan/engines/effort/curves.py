"""Sales-response curves: expected sales in a period as a function of the effort put in.

ADBUDG (Little, 1970), the form CALLPLAN uses:

    r(x) = floor + (ceiling − floor) · x^shape / (scale + x^shape)

`floor` is what the unit buys with no effort, `ceiling` what it buys at saturation; with
shape ≤ 1 the curve is concave, above 1 it is S-shaped. It is fitted from history
(`fit_adbudg`) or from a manager's four judgement points (`from_judgement`). A
piecewise-linear concave curve (`PiecewiseLinearCurve`) is the other way to enter one.
Every curve must rise with effort; anything else is refused with a `CurveError`.
"""

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit


class CurveError(ValueError):
    """A curve that cannot be used (not increasing, too little data, bad numbers)."""


def _adbudg(x, floor, rise, shape, scale):
    xc = np.power(np.maximum(np.asarray(x, dtype=float), 0.0), shape)
    return floor + rise * xc / (scale + xc)


@dataclass(frozen=True)
class AdbudgCurve:
    """r(x) = floor + (ceiling − floor) · x^shape / (scale + x^shape), x ≥ 0."""

    floor: float
    ceiling: float
    shape: float
    scale: float

    def __post_init__(self) -> None:
        values = (self.floor, self.ceiling, self.shape, self.scale)
        if not all(math.isfinite(v) for v in values):
            raise CurveError("Every curve parameter must be a finite number.")
        if self.floor < 0:
            raise CurveError("Sales with no effort cannot be negative.")
        if self.ceiling <= self.floor:
            raise CurveError("The curve must rise with effort: sales at saturation must be "
                             "above sales with no effort.")
        if self.shape <= 0 or self.scale <= 0:
            raise CurveError("The curve's shape and scale must be above zero.")

    def __call__(self, x) -> np.ndarray:
        return _adbudg(x, self.floor, self.ceiling - self.floor, self.shape, self.scale)

    @property
    def concave(self) -> bool:
        return self.shape <= 1

    def params(self) -> dict[str, float]:
        return {"floor": self.floor, "ceiling": self.ceiling, "shape": self.shape,
                "scale": self.scale}


@dataclass(frozen=True)
class CappedCurve:
    """A curve trusted only up to `cap` (the most effort seen in its history, or the
    highest effort a manager judged): beyond it, sales are held at the cap's level, so
    more effort there buys nothing and the optimiser never recommends it."""

    curve: "AdbudgCurve | PiecewiseLinearCurve | FlatCurve"
    cap: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.cap) or self.cap < 0:
            raise CurveError("The effort cap must be a finite number of zero or more.")

    def __call__(self, x) -> np.ndarray:
        return self.curve(np.minimum(np.asarray(x, dtype=float), self.cap))


@dataclass(frozen=True)
class FlatCurve:
    """No measurable response: the same sales whatever the effort (a segment whose
    history shows no rise, which the plan then leaves at today's effort)."""

    level: float

    def __call__(self, x) -> np.ndarray:
        return np.full(np.shape(np.asarray(x, dtype=float)), float(self.level))


def from_judgement(*, no_effort: float, current: float, plus_half: float, saturation: float,
                   current_effort: float) -> AdbudgCurve:
    """The ADBUDG curve through a manager's four figures: expected sales with no effort,
    with the current effort, with 50% more effort, and at saturation (unlimited effort).

    With u = effort ÷ current effort the curve is floor + (sat − floor)·u^c/(d + u^c):
    the current point gives d = (sat − floor)/(current − floor) − 1 and the +50% point
    gives c = ln(y·d/(1 − y)) / ln 1.5 with y = (plus_half − floor)/(sat − floor).
    """
    figures = [no_effort, current, plus_half, saturation]
    if not all(math.isfinite(float(v)) for v in figures) or current_effort <= 0:
        raise CurveError("Give four finite sales figures and a current effort above zero.")
    if no_effort < 0:
        raise CurveError("Sales with no effort cannot be negative.")
    if not (no_effort < current < plus_half < saturation):
        raise CurveError("Expected sales must rise with effort: no effort < current effort "
                         "< 50% more effort < saturation.")
    span = saturation - no_effort
    d = span / (current - no_effort) - 1
    y = (plus_half - no_effort) / span
    shape = math.log(y * d / (1 - y)) / math.log(1.5)
    return AdbudgCurve(float(no_effort), float(saturation), shape,
                       d * float(current_effort) ** shape)


MIN_POINTS = 6
# An S-shape steeper than MAX_SHAPE is a step the data cannot tell from noise; a shape
# below MIN_SHAPE puts most of the rise on the first fraction of a call.
MIN_SHAPE, MAX_SHAPE = 0.5, 3.0
# A work budget, not a time limit: a fit that has not settled by then is wandering along
# a flat valley of noise, and is refused as not fitted.
MAX_EVALUATIONS = 400


def _adbudg_by_half(x, floor, rise, shape, half):
    return _adbudg(x, floor, rise, shape, half ** shape)


def _adbudg_by_half_slopes(x, floor, rise, shape, half):
    """The derivatives of `_adbudg_by_half` in its four parameters, one column each:
    with u = (x / half)^shape the curve is floor + rise · u / (1 + u). Exact slopes
    spare the fit the extra evaluations of numerical ones (the bootstrap refits often)."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    ratio = x / half
    u = np.power(ratio, shape)
    share = u / (1 + u)
    bend = rise * share / (1 + u)  # rise · du/(1+u)² per unit of ln u
    with np.errstate(divide="ignore"):
        log_ratio = np.where(x > 0, np.log(np.where(x > 0, ratio, 1.0)), 0.0)
    return np.column_stack([np.ones_like(x), share, bend * log_ratio, -bend * shape / half])


def fit_adbudg(effort: Sequence[float] | np.ndarray,
               sales: Sequence[float] | np.ndarray, *,
               start: AdbudgCurve | None = None) -> AdbudgCurve:
    """Least-squares ADBUDG fit to observed (effort, sales) pairs of one planning unit or
    segment. Needs at least six observations at three or more effort levels; refuses a
    history in which sales do not rise with effort. `start`: a curve near the answer
    (the fit to the whole history, when refitting a resample of it), to start from."""
    x = np.asarray(effort, dtype=float)
    y = np.asarray(sales, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise CurveError("Give one sales figure per effort figure.")
    if len(x) < MIN_POINTS or len(np.unique(x)) < 3:
        raise CurveError(f"Too little history to fit a curve: {len(x)} observations at "
                         f"{len(np.unique(x))} effort levels (need {MIN_POINTS} at 3).")
    if np.any(x < 0) or np.any(y < 0) or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise CurveError("Effort and sales must be finite and not negative.")
    top = float(y.max())
    if top <= 0:
        raise CurveError("No sales in the history: sales do not rise with effort.")
    # Least squares on the mean sales at each effort level, weighted by how many
    # observations it holds, is the same fit as on every observation, and much cheaper
    # (the bootstrap refits many times).
    levels, where, counts = np.unique(x, return_inverse=True, return_counts=True)
    means = np.bincount(where, weights=y) / counts
    least = float(x[x > 0].min()) if np.any(x > 0) else 1.0
    most = float(x.max())
    mid = float(np.median(x[x > 0])) if np.any(x > 0) else 1.0
    lower = [0.0, 0.0, MIN_SHAPE, least / 2]
    upper = [np.inf, 10 * top + 1, MAX_SHAPE, 100 * max(most, 1.0)]
    guess = [max(float(means[0]), 0.0), top, 1.0, max(mid, least)]
    guess[1] = max(guess[1] - guess[0], top * 0.1)
    if start is not None:
        guess = [start.floor, start.ceiling - start.floor, start.shape,
                 start.scale ** (1 / start.shape)]
    guess = [min(max(g, lo), hi) for g, lo, hi in zip(guess, lower, upper, strict=True)]
    # Fitted by the effort that buys half the rise (`half`, scale = half^shape): it may
    # not lie below half the least effort observed, or a jump between no calls and the
    # first observed level would read as a step at zero that the data cannot show.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)  # the covariance is not used
            params, _ = curve_fit(_adbudg_by_half, levels, means, p0=guess,
                                  sigma=1 / np.sqrt(counts), maxfev=MAX_EVALUATIONS,
                                  bounds=(lower, upper), jac=_adbudg_by_half_slopes)
    except (RuntimeError, ValueError) as exc:
        raise CurveError(f"The curve could not be fitted to the history ({exc}).") from exc
    floor, rise, shape, half = (float(p) for p in params)
    scale = half ** shape
    gained = float(_adbudg(most, floor, rise, shape, scale)) - floor
    if gained <= 0.005 * max(float(y.mean()), 1e-9):
        raise CurveError("In the history, sales do not rise with effort.")
    return AdbudgCurve(floor, floor + rise, shape, scale)


@dataclass(frozen=True)
class PiecewiseLinearCurve:
    """Sales at given effort points, straight lines between them and flat after the last.
    The points must start at zero effort, rise, and bend down (concave)."""

    efforts: tuple[float, ...]
    sales: tuple[float, ...]

    def __post_init__(self) -> None:
        x, y = np.asarray(self.efforts, float), np.asarray(self.sales, float)
        if len(x) < 2 or x.shape != y.shape:
            raise CurveError("Give at least two (effort, sales) points.")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise CurveError("Every point must be a finite number.")
        if x[0] != 0 or np.any(np.diff(x) <= 0):
            raise CurveError("Effort points must start at zero and increase.")
        if y[0] < 0:
            raise CurveError("Sales with no effort cannot be negative.")
        slopes = np.diff(y) / np.diff(x)
        for i, s in enumerate(slopes):
            if s <= 0:
                raise CurveError(f"The curve must rise with effort: sales fall or stay flat "
                                 f"between effort {x[i]:g} and {x[i + 1]:g}.")
        for i in range(1, len(slopes)):
            if slopes[i] > slopes[i - 1] * (1 + 1e-12):
                raise CurveError(f"The curve must bend down (concave): it steepens after "
                                 f"effort {x[i]:g}.")

    def __call__(self, x) -> np.ndarray:
        return np.interp(np.asarray(x, float), self.efforts, self.sales)

    @property
    def concave(self) -> bool:
        return True
