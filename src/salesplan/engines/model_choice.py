"""Statistical forecasts of monthly bookings: each series' model chosen by a rolling-origin
backtest at the horizon that is shown, with prediction intervals calibrated on the same
backtest's misses and checked on folds that did not set them.

Pure functions on floats (no Django). The fitted models come from statsforecast (AutoETS,
AutoARIMA, AutoTheta: automatic order and form selection by information criterion, each
fitted on the training slice only); beside them stand three baselines that need no
fitting: the last month repeated (naive), the same month a year earlier (seasonal naive)
and the last month plus the average monthly change so far (drift), and the average of
the three fitted models' forecasts.

The procedure
-------------
1. Folds: origins t such that the whole horizon after t is known, the last `folds` of
   them. Every candidate is trained on months [0, t) and forecasts months [t, t + H):
   exactly the H months ahead that the page shows, never fewer.
2. Score: MASE per fold, i.e. the mean absolute error over the H months divided by the
   in-sample mean absolute error of the seasonal-naive one-step forecast on the training
   slice (the naive one when the slice is shorter than two seasons); averaged over folds.
   The scale only makes folds comparable: MASE below 1 does NOT mean "better than
   repeating last year" at this horizon. That comparison is made directly, against the
   seasonal-naive candidate's MASE in the same folds.
3. Choice: the standard model (the average of the three fitted models; exponential
   smoothing where that average cannot be formed) unless the fitted model with the
   lowest MASE beat it by `CLEAR_MARGIN`. The baselines are scored beside them but used
   only when no fitted model can be (too little or too flat a history); then the lowest
   MASE wins, a tie going to the simpler candidate (order of `CANDIDATES`). Picking the
   lowest MASE every time chose on noise: over eight overlapping folds it lost to always
   using exponential smoothing on new months.
4. Forecast: the chosen candidate refitted on the whole history. Its 80% range is the
   model's own, scaled for each month ahead by the split-conformal quantile of the
   folds' misses that far ahead (in units of the model's own half-range), so that it
   would have held 80% of them. The coverage quoted is counted on each fold with a range
   calibrated on the other folds only.

The error of the chosen model is measured on the folds used to choose it, so it is a
little optimistic; `bench/bench_forecast_accuracy.py` measures the whole procedure on
months it never saw.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

SEASON = 12
HORIZON = 6
LEVEL = 80
DEFAULT_FOLDS = 8
# The model kept unless another beats it clearly (the first of these that was scored), and
# how much lower another's mean error must be to replace it: over a handful of folds the
# lowest error is partly luck, and picking it every time loses to a steady default.
STANDARD = ("combined", "auto_ets")
CLEAR_MARGIN = 0.20
# Only fitted models may replace the standard one: the baselines are there to be beaten
# (a backtest of a few overlapping folds favours them more often than new months do).
CHALLENGERS = ("auto_theta", "auto_ets", "auto_arima", "combined")
MIN_FOLDS = 3
MIN_TRAIN = 12  # the fitted models are not tried on less than a year
MIN_HISTORY_TO_FIT = 2  # below this only the last value can be repeated


@dataclass(frozen=True)
class Path:
    """One forecast of the next months: point forecast and its interval (floored at zero:
    bookings are never negative), and the model form actually fitted."""

    mean: list[float]
    lower: list[float]
    upper: list[float]
    spec: str


Fitter = Callable[[list[float], int], Path]


@dataclass(frozen=True)
class Candidate:
    name: str
    label: str  # what the page calls it
    min_train: int  # shortest training slice it is tried on
    fit: Fitter


# --- Candidates ---------------------------------------------------------------------------


def _clean(values: Sequence[float]) -> list[float]:
    return [max(0.0, float(v)) if math.isfinite(float(v)) else 0.0 for v in values]


def _from_statsforecast(result: dict, spec: str, horizon: int) -> Path:
    mean = _clean(result["mean"][:horizon])
    lower = _clean(result.get(f"lo-{LEVEL}", result["mean"])[:horizon])
    upper = _clean(result.get(f"hi-{LEVEL}", result["mean"])[:horizon])
    return Path(mean, lower, [max(u, m) for u, m in zip(upper, mean, strict=True)], spec)


def _run(model: Any, train: list[float], horizon: int) -> tuple[Any, dict]:
    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short series
        fitted = model.fit(np.asarray(train, dtype=float))
        return fitted, fitted.predict(horizon, level=[LEVEL])


def _naive(train: list[float], horizon: int) -> Path:
    from statsforecast.models import Naive

    _, result = _run(Naive(), train, horizon)
    return _from_statsforecast(result, "naive", horizon)


def _seasonal_naive(train: list[float], horizon: int) -> Path:
    from statsforecast.models import SeasonalNaive

    _, result = _run(SeasonalNaive(season_length=SEASON), train, horizon)
    return _from_statsforecast(result, "seasonal naive", horizon)


def _drift(train: list[float], horizon: int) -> Path:
    from statsforecast.models import RandomWalkWithDrift

    _, result = _run(RandomWalkWithDrift(), train, horizon)
    return _from_statsforecast(result, "drift", horizon)


def _season_length(train: list[float]) -> int:
    # A seasonal form needs two full seasons to be estimated at all.
    return SEASON if len(train) >= 2 * SEASON else 1


def _theta(train: list[float], horizon: int) -> Path:
    from statsforecast.models import AutoTheta

    fitted, result = _run(AutoTheta(season_length=_season_length(train)), train, horizon)
    kind = {
        "STM": "standard",
        "OTM": "optimised",
        "DSTM": "dynamic standard",
        "DOTM": "dynamic optimised",
    }.get(str(fitted.model_.get("modeltype")), "")
    return _from_statsforecast(result, f"Theta ({kind})".replace(" ()", ""), horizon)


def _ets(train: list[float], horizon: int) -> Path:
    from statsforecast.models import AutoETS

    fitted, result = _run(AutoETS(season_length=_season_length(train)), train, horizon)
    return _from_statsforecast(result, str(fitted.model_["method"]), horizon)


def _arima(train: list[float], horizon: int) -> Path:
    from statsforecast.arima import arima_string
    from statsforecast.models import AutoARIMA

    fitted, result = _run(AutoARIMA(season_length=_season_length(train)), train, horizon)
    return _from_statsforecast(result, arima_string(fitted.model_).strip(), horizon)


COMBINED_FROM = ("auto_ets", "auto_arima", "auto_theta")

# In order of simplicity: a tie goes to the earlier one.
CANDIDATES: tuple[Candidate, ...] = (
    Candidate("naive", "Last month repeated (naive)", 1, _naive),
    Candidate(
        "seasonal_naive", "Same month last year repeated (seasonal naive)", SEASON, _seasonal_naive
    ),
    Candidate("drift", "Last month plus the average monthly change (drift)", 2, _drift),
    Candidate("auto_theta", "Theta method", MIN_TRAIN, _theta),
    Candidate("auto_ets", "Exponential smoothing", MIN_TRAIN, _ets),
    Candidate("auto_arima", "ARIMA", MIN_TRAIN, _arima),
)
COMBINED = "combined"
COMBINED_LABEL = "Average of exponential smoothing, ARIMA and Theta"
BASELINE = "seasonal_naive"
LABELS = {c.name: c.label for c in CANDIDATES} | {COMBINED: COMBINED_LABEL}
ORDER = [c.name for c in CANDIDATES] + [COMBINED]


def _combine(paths: Sequence[Path]) -> Path:
    def avg(rows: list[list[float]]) -> list[float]:
        return [sum(col) / len(col) for col in zip(*rows, strict=True)]

    return Path(
        avg([p.mean for p in paths]),
        avg([p.lower for p in paths]),
        avg([p.upper for p in paths]),
        "mean of " + ", ".join(p.spec for p in paths),
    )


def _try(candidate: Candidate, data: list[float], horizon: int) -> Path | None:
    """The candidate's forecast, or None when it cannot be fitted to this slice (a flat
    series defeats the exponential-smoothing search, for one): it then drops out of the
    comparison rather than stopping it."""
    try:
        return candidate.fit(list(data), horizon)
    except Exception:  # any fitting failure means "not this model here"
        if candidate.name == "naive":
            raise  # the last resort must always work
        return None


def forecast_all(
    train: Sequence[float], horizon: int, names: Sequence[str] | None = None
) -> dict[str, Path]:
    """Every candidate that the training slice is long enough for (or those `names`),
    plus their combination when its three parts are all there."""
    data = [float(v) for v in train]  # a copy: no model sees the caller's list
    wanted = set(names) if names is not None else set(ORDER)
    if COMBINED in wanted:
        wanted |= set(COMBINED_FROM)
    paths = {}
    for c in CANDIDATES:
        if c.name in wanted and len(data) >= c.min_train:
            path = _try(c, data, horizon)
            if path is not None:
                paths[c.name] = path
    if all(n in paths for n in COMBINED_FROM) and (names is None or COMBINED in names):
        paths[COMBINED] = _combine([paths[n] for n in COMBINED_FROM])
    return {n: p for n, p in paths.items() if names is None or n in names}


# --- Measures ------------------------------------------------------------------------------


def mae(actual: Sequence[float], forecast: Sequence[float]) -> float:
    pairs = list(zip(actual, forecast, strict=True))
    return sum(abs(a - f) for a, f in pairs) / len(pairs) if pairs else 0.0


def mase_scale(train: Sequence[float], season: int = SEASON) -> float | None:
    """In-sample MAE of the one-step seasonal-naive forecast (y[t - season]), or of the
    naive one (y[t - 1]) on less than two seasons; None when that is zero."""
    lag = season if len(train) > season else 1
    diffs = [abs(train[i] - train[i - lag]) for i in range(lag, len(train))]
    scale = sum(diffs) / len(diffs) if diffs else 0.0
    return scale if scale > 0 else None


def mase(actual: Sequence[float], forecast: Sequence[float], train: Sequence[float]) -> float:
    """MASE of one forecast; a flat training slice scores by the plain MAE (scale 1)."""
    return mae(actual, forecast) / (mase_scale(train) or 1.0)


# --- Backtest and choice -------------------------------------------------------------------


@dataclass(frozen=True)
class Fold:
    """One backtest fold: every candidate trained on months [0, origin), scored on the
    `horizon` months from `origin`."""

    origin: int
    actual: list[float]
    paths: dict[str, Path]
    scale: float | None


@dataclass(frozen=True)
class Score:
    """A candidate's backtest result over all folds."""

    name: str
    mase: float
    mae: float  # per month, in the series' unit
    mape: float | None  # percent, over the months with bookings
    inside: int  # backtest months inside its calibrated range (set on the other folds)
    months: int

    @property
    def coverage(self) -> float:
        return self.inside / self.months if self.months else 0.0


@dataclass
class Selection:
    """The chosen model, its forecast, and the backtest that chose it."""

    horizon: int
    level: int
    chosen: str
    forecast: Path
    folds: list[Fold] = field(default_factory=list)
    scores: dict[str, Score] = field(default_factory=dict)
    reason: str = ""
    standard: str | None = None  # the model kept unless another clearly beat it
    # per month ahead, on the model's own range (None: not calibrated); empty: no backtest
    range_factors: list[float | None] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS[self.chosen]

    @property
    def score(self) -> Score | None:
        return self.scores.get(self.chosen)

    @property
    def baseline(self) -> Score | None:
        """Seasonal naive in the same folds (None when the folds are shorter than a year)."""
        return self.scores.get(BASELINE)

    @property
    def backtested(self) -> bool:
        return bool(self.folds)


def fold_origins(length: int, horizon: int, folds: int, min_train: int) -> list[int]:
    """The last `folds` origins whose whole horizon is known, none trained on fewer than
    `min_train` months."""
    last = length - horizon
    return [t for t in range(max(min_train, last - folds + 1), last + 1)]


def _score(name: str, folds: Sequence[Fold]) -> Score:
    ratios, errors = [], []
    pct = [
        abs(a - f) / a
        for fold in folds
        for a, f in zip(fold.actual, fold.paths[name].mean, strict=True)
        if a
    ]
    for fold in folds:
        error = mae(fold.actual, fold.paths[name].mean)
        errors.append(error)
        ratios.append(error / (fold.scale or 1.0))
    inside, months = held_out_coverage(folds, name)
    return Score(
        name,
        sum(ratios) / len(ratios),
        sum(errors) / len(errors),
        100 * sum(pct) / len(pct) if pct else None,
        inside,
        months,
    )


# --- Calibrated range ----------------------------------------------------------------------


def _misses(fold: Fold, name: str) -> list[float]:
    """How far each month fell from the forecast, in units of the model's own half-range
    on that side: 1 is the edge of its range, 2 twice as far out."""
    path = fold.paths[name]
    ratios = []
    for a, m, lo, hi in zip(fold.actual, path.mean, path.lower, path.upper, strict=True):
        half, miss = (hi - m if a >= m else m - lo), abs(a - m)
        ratios.append(miss / half if half > 0 else (0.0 if miss == 0 else math.inf))
    return ratios


def range_factors(folds: Sequence[Fold], name: str) -> list[float | None]:
    """For each month ahead, the factor on the model's own range that would have held
    `LEVEL`% of the folds' misses that far ahead (split-conformal: the
    ceil((n + 1) * level)-th smallest of the n misses, so that a new month falls inside
    with at least that chance). None for a month ahead where no factor can: a range of
    zero width that missed. Months ahead are kept apart because the model's own range
    does not widen with the horizon as fast as its errors do."""
    by_step = list(zip(*(_misses(fold, name) for fold in folds), strict=True))
    factors: list[float | None] = []
    for misses in by_step:
        ranked = sorted(misses)
        rank = min(math.ceil((len(ranked) + 1) * LEVEL / 100), len(ranked))
        factor = ranked[rank - 1]
        factors.append(factor if math.isfinite(factor) else None)
    return factors


def widen(path: Path, factors: Sequence[float | None]) -> Path:
    """The path with its range scaled about the forecast by each month's factor (None:
    the model's own), floored at zero."""
    scale = [1.0 if f is None else f for f in factors]
    return Path(
        path.mean,
        [max(0.0, m - f * (m - lo)) for m, lo, f in zip(path.mean, path.lower, scale, strict=True)],
        [m + f * (hi - m) for m, hi, f in zip(path.mean, path.upper, scale, strict=True)],
        path.spec,
    )


def held_out_coverage(folds: Sequence[Fold], name: str) -> tuple[int, int]:
    """Months inside the calibrated range, each fold's range calibrated on the OTHER
    folds only, so that no month checks a range it helped to set: (inside, months)."""
    inside = months = 0
    for k, fold in enumerate(folds):
        factors = range_factors([f for i, f in enumerate(folds) if i != k], name)
        for miss, factor in zip(_misses(fold, name), factors, strict=True):
            inside += miss <= (1.0 if factor is None else factor)
            months += 1
    return inside, months


# --- Choice --------------------------------------------------------------------------------


def _ranked(names: Sequence[str], scores: dict[str, Score]) -> list[str]:
    """Lowest mean MASE first; a tie goes to the simpler candidate."""
    return sorted(names, key=lambda n: (round(scores[n].mase, 9), ORDER.index(n)))


def standard_model(names: Sequence[str]) -> str | None:
    """The model kept unless another clearly beats it: the first of `STANDARD` that was
    scored in every fold."""
    return next((n for n in STANDARD if n in names), None)


def clearly_better(challenger: Score, standard: Score) -> bool:
    """Whether `challenger` beat the standard model by the margin that makes the win
    more than the luck of a few folds."""
    return challenger.mase <= (1 - CLEAR_MARGIN) * standard.mase


def choice_order(scores: dict[str, Score]) -> list[str]:
    """The candidates in the order they are tried: the standard model, unless the fitted
    model with the lowest error beat it clearly; then the rest by error. Without a
    standard model (too short or too flat to fit one), the lowest error wins."""
    ranked = _ranked(list(scores), scores)
    standard = standard_model(ranked)
    if standard is None:
        return ranked
    best = next(n for n in ranked if n in CHALLENGERS)
    first = best if clearly_better(scores[best], scores[standard]) else standard
    return [first] + [n for n in ranked if n != first]


def choose_and_forecast(
    history: Sequence[float],
    *,
    horizon: int = HORIZON,
    folds: int = DEFAULT_FOLDS,
    min_train: int = MIN_TRAIN,
    candidates: Sequence[str] | None = None,
) -> Selection:
    """Choose the model for `history` (monthly, oldest first, all of it) by its backtest
    at `horizon` months ahead, and forecast the next `horizon` months with it, its range
    calibrated on the backtest's errors."""
    series = [float(v) for v in history]
    if not series:
        raise ValueError("No history to forecast from.")
    origins = fold_origins(len(series), horizon, folds, min_train)
    if len(origins) < MIN_FOLDS:
        return _without_backtest(series, horizon, min_train)
    run: list[Fold] = []
    for origin in origins:
        train = series[:origin]
        paths = forecast_all(train, horizon, candidates)
        run.append(Fold(origin, series[origin : origin + horizon], paths, mase_scale(train)))
    # Only candidates present in every fold are compared (the first fold is the shortest).
    names = [n for n in ORDER if all(n in f.paths for f in run)]
    scores = {n: _score(n, run) for n in names}
    for chosen in choice_order(scores):  # the first one that also fits the whole history
        final = forecast_all(series, horizon, [chosen]).get(chosen)
        if final is not None:
            break
    else:
        chosen, final = "naive", forecast_all(series, horizon, ["naive"])["naive"]
    factors = range_factors(run, chosen)
    return Selection(
        horizon,
        LEVEL,
        chosen,
        widen(final, factors),
        run,
        scores,
        reason=f"Chosen among {len(names)} models by {len(run)} forecasts of "
        f"{horizon} months made from past months.",
        standard=standard_model(names),
        range_factors=factors,
    )


def _without_backtest(series: list[float], horizon: int, min_train: int) -> Selection:
    fallback = BASELINE if len(series) >= SEASON else "naive"
    need = min_train + horizon + MIN_FOLDS - 1
    return Selection(
        horizon,
        LEVEL,
        fallback,
        forecast_all(series, horizon, [fallback])[fallback],
        reason=f"{len(series)} months of history: comparing models needs "
        f"{need} ({MIN_FOLDS} forecasts of {horizon} months from at "
        f"least {min_train} months each), so the forecast "
        + (
            "repeats the same month last year."
            if fallback == BASELINE
            else "repeats the last month."
        ),
    )


# --- What the page may say -----------------------------------------------------------------


def _money(value: float) -> str:
    return f"{value:,.0f}"


def accuracy_sentences(selection: Selection) -> list[str]:
    """The plain-words account of the choice, generated from the numbers: the model and
    why it was used, its error at the shown horizon, seasonal naive's in the same folds,
    and how the range was calibrated and held on folds that did not set it. It claims a
    win over the baseline only when the error is lower."""
    h = selection.horizon
    score = selection.score
    if score is None:
        return [
            f"Forecast: {selection.label}. {selection.reason}",
            "Its accuracy has not been measured: there is too little history to "
            "backtest it, and its range is the model's own, unchecked.",
        ]
    lines = [
        _why_this_model(selection),
        f"Its error {h} months ahead: MASE {score.mase:.2f}, on average "
        f"{_money(score.mae)} a month off.",
    ]
    base = selection.baseline
    if base is None:
        lines.append(
            "Repeating the same month last year could not be compared: the "
            "backtest's earliest forecasts had less than a year of history."
        )
    elif selection.chosen == BASELINE:
        lines.append(
            "No model beat simply repeating the same month last year in these "
            "forecasts, so that is the forecast."
        )
    else:
        lines.append(_versus_baseline(score, base))
    lines.append(_range_sentence(selection, score))
    lines.append(
        "The error was measured on the same past forecasts that chose the model, "
        "so expect new months to be a little worse."
    )
    return lines


def choice_rule() -> list[str]:
    """The rule of the choice and of the range, in plain words, from the constants that
    apply it."""
    first, fallback = (_lower_first(LABELS[n]) for n in STANDARD)
    standard = f"{first} (or, where it cannot be fitted, {fallback})"
    return [
        f"How the model is chosen: the standard forecast is the {standard}. Another "
        f"fitted model replaces it only when its error over the past forecasts was at "
        f"least {100 * CLEAR_MARGIN:.0f}% smaller: over a few past forecasts the lowest "
        "error is partly luck, and switching on every small win does worse on new months "
        "than keeping the standard. The simple repeats (last month, same month last "
        "year, last month plus the average change) are scored as the measure the models "
        "are held to, and used only when no model can be fitted.",
        f"How the range is set: the model's own {LEVEL}% range, scaled for each month "
        f"ahead so that it would have held {LEVEL}% of the past forecasts' misses that "
        "far ahead. The share quoted is counted on each past forecast with a range set "
        "from the other past forecasts only.",
    ]


def _why_this_model(selection: Selection) -> str:
    scores = selection.scores
    used = f"Model used: {selection.label} ({selection.forecast.spec})"
    over = f"over {len(selection.folds)} past forecasts of {selection.horizon} months each"
    ranked = _ranked(list(scores), scores)
    standard = selection.standard
    if standard is None or standard not in scores:
        return f"{used}, chosen because it had the lowest error of {len(scores)} models {over}."
    best = next(n for n in ranked if n in CHALLENGERS)
    margin = f"{100 * CLEAR_MARGIN:.0f}%"
    if selection.chosen == standard and ranked[0] == standard:
        return (
            f"{used}, the standard choice; it also had the lowest error of "
            f"{len(scores)} models {over}."
        )
    if selection.chosen == standard and best == standard:
        return (
            f"{used}, the standard choice; no other fitted model had a smaller error {over} "
            "(the simple repeats are scored for comparison, not used)."
        )
    if selection.chosen == standard:
        gain = 100 * (1 - scores[best].mase / scores[standard].mase)
        return (
            f"{used}, the standard choice: {over}, the error of {LABELS[best]} was {gain:.0f}% "
            f"smaller, short of the {margin} that another model needs to replace it, so the "
            "difference is taken for luck."
        )
    if selection.chosen == best:
        return (
            f"{used}, because {over} its error was at least {margin} smaller than that of "
            f"the standard choice ({_lower_first(LABELS[standard])})."
        )
    return (
        f"{used}: the models that did better {over} could not be fitted to the whole "
        "history."
    )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _range_sentence(selection: Selection, score: Score) -> str:
    factors = [f for f in selection.range_factors if f is not None]
    how = (
        f"the model's own, scaled month by month (by {min(factors):.2f} to "
        f"{max(factors):.2f}) so that it would have held {selection.level}% of its past "
        "misses as far ahead"
        if factors
        else "the model's own (its past misses could not calibrate it)"
    )
    return (
        f"Its {selection.level}% range is {how}; set that way from the other past "
        f"forecasts each time, it held {score.inside} of {score.months} booked months "
        f"({100 * score.coverage:.0f}%) in these past forecasts"
        + _coverage_verdict(score, selection.level)
        + "."
    )


def _versus_baseline(score: Score, base: Score) -> str:
    said = (
        f"Repeating the same month last year (seasonal naive) scored MASE "
        f"{base.mase:.2f} in the same months"
    )
    if score.mase < base.mase:
        gain = 100 * (1 - score.mase / base.mase)
        return f"{said}: the model's error is {gain:.0f}% lower."
    return f"{said}: the model did not beat it."


def _coverage_verdict(score: Score, level: int) -> str:
    measured = 100 * score.coverage
    if measured < level - 10:
        return ": narrower than it claims, so read it as optimistic"
    if measured > level + 10:
        return ": wider than it needs to be"
    return ", close to what it claims"
