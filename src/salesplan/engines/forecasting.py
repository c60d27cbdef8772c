"""Forecasting maths: calibrated stage probabilities, weighted pipeline, accuracy
measures and the accuracy of submitted forecasts. The statistical forecast of monthly
bookings (model choice by backtest) is `engines/model_choice.py`.

Pure functions on numbers (no Django). Money arrives as Decimal and leaves as Decimal.

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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

DEFAULT_PRIOR_WEIGHT = 20
SEASON = 12


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


def calibrate(
    stages: Sequence[tuple[int, int]],
    outcomes: dict[int, tuple[int, int]],
    prior_weight: int = DEFAULT_PRIOR_WEIGHT,
) -> list[StageCalibration]:
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
    return (amount * probability_pct / Decimal(100)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_EVEN
    )


def weighted_pipeline(amounts: dict[int, Decimal], probabilities: dict[int, Decimal]) -> Decimal:
    """Sum over stages of open amount × the stage's probability (percent)."""
    return sum(
        (
            weighted_amount(amount, probabilities.get(stage_id, Decimal(0)))
            for stage_id, amount in amounts.items()
        ),
        Decimal("0.00"),
    )


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


def seasonal_naive_forecast(
    history: Sequence[float], horizon: int, season: int = SEASON
) -> list[float]:
    """Repeat the last season (or the last value when there is less than a season)."""
    if not history:
        raise ValueError("No history to forecast from.")
    if len(history) >= season:
        last = list(history[-season:])
        return [last[i % season] for i in range(horizon)]
    return [history[-1]] * horizon


@dataclass(frozen=True)
class SubmissionAccuracy:
    """How close submitted figures came to what was booked, against a naive guess."""

    periods: int
    mape: float | None
    mase: float | None
    baseline_mape: float | None


def submission_accuracy(
    submitted: Sequence[float], actual: Sequence[float], previous_actual: Sequence[float]
) -> SubmissionAccuracy:
    """Accuracy of per-period submissions against the actuals. The baseline is the naive
    guess "the same as the period before": `previous_actual[i]` is what was booked in the
    period before period i. MASE divides the submissions' MAE by the baseline's MAE over
    the same periods, so below 1 means the submissions beat the naive guess."""
    if not len(submitted) == len(actual) == len(previous_actual):
        raise ValueError("Submitted, actual and previous figures must cover the same periods.")
    scale = mae(actual, previous_actual) if actual else 0.0
    return SubmissionAccuracy(
        periods=len(actual),
        mape=mape(actual, submitted),
        mase=mae(actual, submitted) / scale if scale else None,
        baseline_mape=mape(actual, previous_actual) if actual else None,
    )
