"""Forecasting maths: calibrated stage probabilities, weighted pipeline, statistical
forecasts of monthly bookings and their rolling-origin backtests.

Pure functions on numbers (no Django). Money arrives as Decimal and leaves as Decimal;
the statistical models work in floats internally (they are estimates, rounded to the
currency on the way out by the caller).

Calibration with shrinkage
--------------------------
A stage's observed win rate is `won / (won + lost)` over the opportunities that were in
the stage and have since closed. With few closed deals that ratio is noisy, so the
calibrated probability pulls it toward the stated probability as if `prior_weight`
extra deals had closed exactly at the stated rate (a Beta prior centred on the stated
probability):

    calibrated = (won + k · stated) / (won + lost + k)

With k = 20, a stage with 5 closed deals moves a fifth of the way to its observed rate;
with 200 closed deals it sits within a tenth of the observed rate.

Backtests
---------
`rolling_origin_backtest` fits the model on the history up to each origin t (the first
t months), forecasts the next `horizon` months and compares them with what happened.
Nothing after t is passed to the model for that fold: the training slice is copied
before fitting. MAPE skips months whose actual is zero (the percentage is undefined);
MASE divides the mean absolute error by the in-sample mean absolute error of the
seasonal-naive forecast (same month last season) on the training slice, so MASE < 1
means better than repeating last year.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

DEFAULT_PRIOR_WEIGHT = 20
SEASON = 12
MIN_SEASONAL_HISTORY = 2 * SEASON  # Holt-Winters needs two full seasons
MIN_TREND_HISTORY = 6  # below this there is nothing to fit


# --- Calibration and weighted pipeline -------------------------------------------------


@dataclass(frozen=True)
class StageCalibration:
    """One stage's stated probability beside what history shows."""

    stage_id: int
    stated: Decimal  # percent, 0–100
    won: int
    lost: int
    prior_weight: int = DEFAULT_PRIOR_WEIGHT

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def observed(self) -> Decimal | None:
        """Observed win rate in percent; None when nothing has closed."""
        if not self.closed:
            return None
        return _pct(Decimal(100 * self.won) / Decimal(self.closed))

    @property
    def calibrated(self) -> Decimal:
        """The win rate shrunk toward the stated probability (percent)."""
        k = Decimal(self.prior_weight)
        if self.closed + self.prior_weight == 0:  # no history and no prior: keep the stated
            return _pct(self.stated)
        value = (Decimal(100 * self.won) + k * self.stated) / (Decimal(self.closed) + k)
        return _pct(value)


def calibrate(stages: Sequence[tuple[int, int]], outcomes: dict[int, tuple[int, int]],
              prior_weight: int = DEFAULT_PRIOR_WEIGHT) -> list[StageCalibration]:
    """Calibration rows for `stages` [(stage_id, stated percent)], given
    `outcomes` {stage_id: (won, lost)} of the deals that passed through each stage."""
    if prior_weight < 0:
        raise ValueError("The prior weight cannot be negative.")
    rows = []
    for stage_id, stated in stages:
        won, lost = outcomes.get(stage_id, (0, 0))
        rows.append(StageCalibration(stage_id, Decimal(stated), won, lost, prior_weight))
    return rows


def weighted_amount(amount: Decimal, probability_pct: Decimal) -> Decimal:
    """amount × probability, to the cent."""
    return (amount * probability_pct / Decimal(100)).quantize(Decimal("0.01"),
                                                              rounding=ROUND_HALF_EVEN)


def weighted_pipeline(amounts: dict[int, Decimal], probabilities: dict[int, Decimal]) -> Decimal:
    """Sum over stages of open amount × the stage's probability (percent)."""
    return sum((weighted_amount(amount, probabilities.get(stage_id, Decimal(0)))
                for stage_id, amount in amounts.items()), Decimal("0.00"))


def _pct(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


# --- Accuracy measures ------------------------------------------------------------------


def mape(actual: Sequence[float], forecast: Sequence[float]) -> float | None:
    """Mean absolute percentage error in percent, over the points whose actual is not
    zero; None when every actual is zero."""
    terms = [abs(a - f) / abs(a) for a, f in zip(actual, forecast, strict=True) if a != 0]
    return 100 * sum(terms) / len(terms) if terms else None


def mae(actual: Sequence[float], forecast: Sequence[float]) -> float:
    pairs = list(zip(actual, forecast, strict=True))
    return sum(abs(a - f) for a, f in pairs) / len(pairs) if pairs else 0.0


def seasonal_naive_scale(history: Sequence[float], season: int = SEASON) -> float | None:
    """In-sample MAE of the seasonal-naive forecast (y[t - season]); falls back to the
    naive forecast (y[t - 1]) when the history is shorter than two seasons. None when the
    history is too short or perfectly flat (the scale would be zero)."""
    lag = season if len(history) > season else 1
    diffs = [abs(history[i] - history[i - lag]) for i in range(lag, len(history))]
    if not diffs:
        return None
    scale = sum(diffs) / len(diffs)
    return scale if scale > 0 else None


def seasonal_naive_forecast(history: Sequence[float], horizon: int,
                            season: int = SEASON) -> list[float]:
    """Repeat the last season (or the last value when there is less than a season)."""
    if not history:
        raise ValueError("No history to forecast from.")
    if len(history) >= season:
        last = list(history[-season:])
        return [last[i % season] for i in range(horizon)]
    return [history[-1]] * horizon


# --- Models -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelChoice:
    """Which model a history supports, and why."""

    name: str  # "holt_winters", "holt", "seasonal_naive"
    label: str
    note: str


def choose_model(length: int) -> ModelChoice:
    if length >= MIN_SEASONAL_HISTORY:
        return ModelChoice("holt_winters", "Holt-Winters (additive trend and seasonality)",
                           f"{length} months of history: seasonal model fitted.")
    if length >= MIN_TREND_HISTORY:
        return ModelChoice("holt", "Holt (trend, no seasonality)",
                           f"Only {length} months of history: a seasonal model needs "
                           f"{MIN_SEASONAL_HISTORY}, so the forecast has no seasonality.")
    return ModelChoice("seasonal_naive", "Last value repeated",
                       f"Only {length} months of history: too short to fit a model "
                       f"({MIN_TREND_HISTORY} needed); the last month is repeated.")


def fit_forecast(history: Sequence[float], horizon: int,
                 model: str | None = None) -> list[float]:
    """Forecast `horizon` months after `history` with the model the history supports
    (or the named one). Bookings cannot be negative, so forecasts are floored at zero."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    data = [float(v) for v in history]  # a copy: the model never sees the caller's list
    name = model or choose_model(len(data)).name
    if name == "seasonal_naive" or len(data) < MIN_TREND_HISTORY:
        return seasonal_naive_forecast(data, horizon)
    # Heuristic initial states (from the first two seasons) leave the optimiser three
    # smoothing parameters instead of fifteen: several times faster, similar forecasts.
    kwargs: dict[str, object]
    if name == "holt_winters" and len(data) >= MIN_SEASONAL_HISTORY:
        kwargs = {"trend": "add", "seasonal": "add", "seasonal_periods": SEASON,
                  "damped_trend": True, "initialization_method": "heuristic"}
    else:
        kwargs = {"trend": "add", "damped_trend": True, "initialization_method": "estimated"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short series
        fitted = ExponentialSmoothing(data, **kwargs).fit()
        values = fitted.forecast(horizon)
    return [max(0.0, float(v)) if math.isfinite(float(v)) else 0.0 for v in values]


# --- Rolling-origin backtest -------------------------------------------------------------


@dataclass(frozen=True)
class Fold:
    """One backtest fold: trained on months [0, origin), scored on the next months."""

    origin: int
    actual: list[float]
    forecast: list[float]
    baseline: list[float]  # seasonal naive from the same training slice
    scale: float | None


@dataclass
class Backtest:
    folds: list[Fold] = field(default_factory=list)
    model: str = ""

    def _all(self, attr: str) -> tuple[list[float], list[float]]:
        actual = [a for f in self.folds for a in f.actual]
        return actual, [v for f in self.folds for v in getattr(f, attr)]

    def _mase(self, attr: str) -> float | None:
        ratios = [mae(f.actual, getattr(f, attr)) / f.scale for f in self.folds if f.scale]
        return sum(ratios) / len(ratios) if ratios else None

    @property
    def mape(self) -> float | None:
        return mape(*self._all("forecast")) if self.folds else None

    @property
    def mase(self) -> float | None:
        return self._mase("forecast")

    @property
    def baseline_mape(self) -> float | None:
        return mape(*self._all("baseline")) if self.folds else None

    @property
    def baseline_mase(self) -> float | None:
        return self._mase("baseline")


Forecaster = Callable[[Sequence[float], int], list[float]]


def rolling_origin_backtest(history: Sequence[float], *, horizon: int = 3, folds: int = 6,
                            min_train: int = MIN_TREND_HISTORY,
                            forecaster: Forecaster | None = None) -> Backtest:
    """Refit at each of the last `folds` origins and score the following `horizon`
    months. Origins leave at least one held-out month; the last fold may be shorter than
    the horizon. The forecaster receives only the training slice."""
    series = [float(v) for v in history]
    forecaster = forecaster or (lambda train, h: fit_forecast(train, h))
    last_origin = len(series) - 1
    first_origin = max(min_train, last_origin - folds + 1)
    result = Backtest(model=choose_model(len(series)).name)
    for origin in range(first_origin, last_origin + 1):
        train = series[:origin]
        actual = series[origin:origin + horizon]
        result.folds.append(Fold(
            origin=origin, actual=actual,
            forecast=forecaster(list(train), len(actual)),
            baseline=seasonal_naive_forecast(train, len(actual)),
            scale=seasonal_naive_scale(train)))
    return result


@dataclass(frozen=True)
class SubmissionAccuracy:
    """How close submitted figures came to what was booked, against a naive guess."""

    periods: int
    mape: float | None
    mase: float | None
    baseline_mape: float | None


def submission_accuracy(submitted: Sequence[float], actual: Sequence[float],
                        previous_actual: Sequence[float]) -> SubmissionAccuracy:
    """Accuracy of per-period submissions against the actuals. The baseline is the naive
    guess "the same as the period before": `previous_actual[i]` is what was booked in the
    period before period i. MASE divides the submissions' MAE by the baseline's MAE over
    the same periods, so below 1 means the submissions beat the naive guess."""
    if not len(submitted) == len(actual) == len(previous_actual):
        raise ValueError("Submitted, actual and previous figures must cover the same periods.")
    scale = mae(actual, previous_actual) if actual else 0.0
    return SubmissionAccuracy(
        periods=len(actual), mape=mape(actual, submitted),
        mase=mae(actual, submitted) / scale if scale else None,
        baseline_mape=mape(actual, previous_actual) if actual else None)
