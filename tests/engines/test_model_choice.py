"""The statistical forecast's model choice: by backtest at the horizon shown, folds that
never see their future, truthful labels, and sentences that claim only what was measured.
Fits are kept small: short series, three folds, and the cheap candidates where the test
is about the procedure rather than a model."""

import math
import random

import pytest

from salesplan.engines import model_choice as mc

BASELINES = ["naive", "seasonal_naive", "drift"]


def _pattern(n: int) -> list[float]:
    shape = [100, 120, 150, 170, 160, 140, 130, 125, 145, 180, 220, 260]
    return [float(shape[t % 12]) for t in range(n)]


def test_a_baseline_is_scored_but_a_fitted_model_is_used():
    # the same year repeated exactly: repeating last year is right, yet it only stands
    # beside the fitted models as the measure they are held to
    selection = mc.choose_and_forecast(_pattern(36), folds=3, candidates=[*BASELINES, "auto_ets"])
    assert selection.standard == "auto_ets" and selection.chosen == "auto_ets"
    assert selection.scores["seasonal_naive"].mase == 0
    assert selection.scores["auto_ets"].mase > 0
    text = " ".join(mc.accuracy_sentences(selection))
    assert "the standard choice; no other fitted model had a smaller error" in text
    assert "the model did not beat it" in text and "lower." not in text


def test_without_a_fitted_model_the_lowest_error_is_used():
    # a level that moved once and stayed: the last month is the best guess
    series = [100.0] * 20 + [300.0] * 16
    selection = mc.choose_and_forecast(series, folds=3, candidates=BASELINES)
    assert selection.standard is None and selection.chosen == "naive"
    assert selection.forecast.mean == [300.0] * 6
    assert selection.scores["naive"].mase == 0
    assert selection.scores["seasonal_naive"].mase > 0
    assert "chosen because it had the lowest error of 3 models" in " ".join(
        mc.accuracy_sentences(selection))


def test_every_fold_scores_the_horizon_that_is_shown():
    rng = random.Random(3)
    series = [1000 + 10 * t + rng.gauss(0, 50) for t in range(40)]
    selection = mc.choose_and_forecast(series, horizon=6, folds=5, candidates=BASELINES)
    assert [f.origin for f in selection.folds] == [30, 31, 32, 33, 34]  # last: 40 - 6
    for fold in selection.folds:
        assert fold.actual == series[fold.origin:fold.origin + 6]
        assert all(len(p.mean) == len(p.lower) == len(p.upper) == 6
                   for p in fold.paths.values())
    assert len(selection.forecast.mean) == 6
    assert all(s.months == 5 * 6 for s in selection.scores.values())
    three = mc.choose_and_forecast(series, horizon=3, folds=5, candidates=BASELINES)
    assert [f.origin for f in three.folds] == [33, 34, 35, 36, 37]
    assert all(len(f.actual) == 3 for f in three.folds) and len(three.forecast.mean) == 3


def test_folds_never_see_the_months_they_forecast(monkeypatch):
    seen: list[list[float]] = []

    def spy(train, horizon):
        seen.append(list(train))
        return mc.Path([train[-1]] * horizon, [train[-1]] * horizon, [train[-1]] * horizon,
                       "spy")

    monkeypatch.setattr(mc, "CANDIDATES", (mc.Candidate("naive", "spy", 1, spy),))
    series = [float(v) for v in range(1, 31)]
    selection = mc.choose_and_forecast(series, horizon=6, folds=4)
    assert [len(t) for t in seen] == [21, 22, 23, 24, 30]  # four folds, then the full fit
    assert all(t == series[:len(t)] for t in seen)
    # perturbing the months after a fold's origin leaves that fold's forecast unchanged
    later = series[:22] + [v * 10 for v in series[22:]]
    again = mc.choose_and_forecast(later, horizon=6, folds=4)
    assert again.folds[0].paths["naive"].mean == selection.folds[0].paths["naive"].mean
    assert again.folds[0].actual != selection.folds[0].actual


def test_labels_name_the_form_each_fold_actually_fitted():
    rng = random.Random(5)
    series = [500 + 8 * t + 60 * math.sin(2 * math.pi * t / 12) + rng.gauss(0, 15)
              for t in range(30)]
    selection = mc.choose_and_forecast(series, folds=3, candidates=["auto_ets"])
    assert selection.chosen == "auto_ets" and selection.label == "Exponential smoothing"
    for fold in selection.folds:
        fitted_alone = mc.forecast_all(series[:fold.origin], 6, ["auto_ets"])["auto_ets"]
        assert fold.paths["auto_ets"].spec == fitted_alone.spec
        assert fold.paths["auto_ets"].spec.startswith("ETS(")
    # fewer than 24 training months: no seasonal form was (or could be) fitted
    assert all(f.paths["auto_ets"].spec.endswith(",N)") for f in selection.folds
               if f.origin < 24)
    assert selection.forecast.spec in " ".join(mc.accuracy_sentences(selection))


def test_the_forecast_range_is_calibrated_on_the_backtest_misses():
    rng = random.Random(11)
    series = [200 + rng.gauss(0, 20) for _ in range(30)]
    selection = mc.choose_and_forecast(series, folds=4, candidates=["naive"])
    factors = mc.range_factors(selection.folds, "naive")
    assert selection.range_factors == factors and len(factors) == 6
    own = mc.forecast_all(series, 6, ["naive"])["naive"]
    assert selection.forecast == mc.widen(own, factors)
    assert all(lo <= m <= hi for lo, m, hi in zip(
        selection.forecast.lower, selection.forecast.mean, selection.forecast.upper,
        strict=True))
    # the coverage quoted counts each fold against a range set on the other folds only
    inside = 0
    for k, fold in enumerate(selection.folds):
        others = [f for i, f in enumerate(selection.folds) if i != k]
        widened = mc.widen(fold.paths["naive"], mc.range_factors(others, "naive"))
        inside += sum(lo <= a <= hi for a, lo, hi in zip(
            fold.actual, widened.lower, widened.upper, strict=True))
    score = selection.scores["naive"]
    assert (score.inside, score.months) == (inside, 24)
    assert score.coverage == pytest.approx(inside / 24)


def _fold(origin: int, actual: list[float], path: mc.Path) -> mc.Fold:
    return mc.Fold(origin, actual, {"m": path}, 1.0)


def test_range_factors_are_the_conformal_quantile_of_the_misses_month_by_month():
    # forecast 100, own range 90-120 two months ahead: a miss of 5 below is half the way
    # to its edge, one of 60 above twice the way
    path = mc.Path([100.0] * 2, [90.0] * 2, [120.0] * 2, "m")
    folds = [_fold(12 + k, [100.0 - k, 100.0 + 10 * k], path) for k in range(5)]
    # first month misses 0 .1 .2 .3 .4, second 0 .5 1 1.5 2: the ceil(6 * 0.8) = 5th
    assert mc.range_factors(folds, "m") == pytest.approx([0.4, 2.0])
    # with nine folds, the ceil(10 * 0.8) = 8th of nine
    nine = [_fold(12 + k, [100.0 - k, 100.0], path) for k in range(9)]
    assert mc.range_factors(nine, "m") == pytest.approx([0.7, 0.0])
    wide = mc.widen(path, [0.4, 2.0])
    assert wide.lower == [96.0, 80.0] and wide.upper == [108.0, 140.0]
    assert wide.mean == path.mean
    assert mc.widen(path, [20.0, None]).lower == [0.0, 90.0]  # never negative; None: own
    flat = mc.Path([100.0] * 2, [100.0] * 2, [100.0] * 2, "m")
    assert mc.range_factors([_fold(12, [100.0, 101.0], flat)], "m") == [0.0, None]


def test_no_fold_checks_a_range_it_helped_to_set():
    path = mc.Path([100.0] * 2, [90.0] * 2, [110.0] * 2, "m")
    calm = [_fold(12 + k, [104.0, 92.0], path) for k in range(4)]
    wild = _fold(16, [150.0, 50.0], path)
    inside, months = mc.held_out_coverage(calm + [wild], "m")
    # each calm fold is judged by three calm folds and the wild one (the 4th of 4 misses:
    # 5, far out): inside; the wild fold by the calm ones (0.4 and 0.8): outside twice
    assert (inside, months) == (4 * 2, 10)
    assert mc.range_factors(calm, "m") == pytest.approx([0.4, 0.8])


def _scores(**mase: float) -> dict[str, mc.Score]:
    return {n: mc.Score(n, m, 10 * m, None, 20, 24) for n, m in mase.items()}


def test_the_standard_model_is_kept_unless_another_is_clearly_better():
    assert mc.STANDARD[0] == "combined" and mc.CLEAR_MARGIN == pytest.approx(0.20)
    # 15% lower is within the luck of the folds: the combination stays
    assert mc.choice_order(_scores(combined=1.0, auto_ets=0.85, naive=1.2))[0] == "combined"
    # 21% lower is a clear win
    order = mc.choice_order(_scores(combined=1.0, auto_ets=0.79, naive=1.2))
    assert order == ["auto_ets", "combined", "naive"]
    # a baseline never replaces it, however low its error; the best fitted model may
    order = mc.choice_order(_scores(combined=1.0, auto_arima=0.75, seasonal_naive=0.3))
    assert order == ["auto_arima", "seasonal_naive", "combined"]
    assert mc.choice_order(_scores(combined=1.0, seasonal_naive=0.3))[0] == "combined"
    # without the combination, exponential smoothing is the standard
    assert mc.choice_order(_scores(auto_ets=1.0, auto_theta=0.85, naive=1.3))[0] == "auto_ets"
    assert mc.choice_order(_scores(auto_ets=1.0, auto_theta=0.75, naive=1.3))[0] == "auto_theta"
    # with neither, the lowest error is used; a tie goes to the simpler model
    assert mc.choice_order(_scores(drift=0.7, naive=0.7, seasonal_naive=0.9))[0] == "naive"


def test_the_page_says_why_the_standard_model_was_kept_or_replaced():
    kept = _selection("combined", {"combined": (0.50, 19), "auto_arima": (0.47, 18),
                                   "seasonal_naive": (0.80, 17)}, standard="combined")
    text = " ".join(mc.accuracy_sentences(kept))
    assert "Model used: Average of exponential smoothing, ARIMA and Theta (X), the " \
        "standard choice: over 4 past forecasts of 6 months each, the error of ARIMA was " \
        "6% smaller, short of the 20% that another model needs to replace it" in text
    assert "error is 38% lower" in text
    best = " ".join(mc.accuracy_sentences(_selection(
        "combined", {"combined": (0.50, 19), "auto_arima": (0.60, 18)}, standard="combined")))
    assert "the standard choice; it also had the lowest error of 2 models" in best
    replaced = " ".join(mc.accuracy_sentences(_selection(
        "auto_arima", {"combined": (0.50, 19), "auto_arima": (0.40, 18)},
        standard="combined")))
    assert "Model used: ARIMA (X), because over 4 past forecasts of 6 months each its " \
        "error was at least 20% smaller than that of the standard choice (average of " \
        "exponential smoothing, ARIMA and Theta)." in replaced
    calibrated = " ".join(mc.accuracy_sentences(_selection(
        "combined", {"combined": (0.5, 19)}, standard="combined",
        factors=[0.9, 1.2, None, 1.46, 1.5, 2.04])))
    assert "scaled month by month (by 0.90 to 2.04) so that it would have held 80% of " \
        "its past misses as far ahead; set that way from the other past forecasts each " \
        "time, it held 19 of 24 booked months (79%)" in calibrated


def test_short_history_claims_no_accuracy():
    selection = mc.choose_and_forecast([5.0, 7.0, 9.0, 4.0], horizon=6)
    assert selection.chosen == "naive" and not selection.backtested
    assert selection.forecast.mean == [4.0] * 6
    text = " ".join(mc.accuracy_sentences(selection))
    assert "not been measured" in text and "MASE" not in text
    year = mc.choose_and_forecast(_pattern(14), horizon=6)
    assert year.chosen == "seasonal_naive" and "same month last year" in year.reason


def _selection(chosen: str, scores: dict[str, tuple[float, int]], *,
               standard: str | None = None,
               factors: list[float | None] | None = None) -> mc.Selection:
    path = mc.Path([1.0] * 6, [0.0] * 6, [2.0] * 6, "X")
    folds = [mc.Fold(12 + i, [1.0] * 6, {n: path for n in scores}, 1.0) for i in range(4)]
    return mc.Selection(6, 80, chosen, path, folds,
                        {n: mc.Score(n, m, 10 * m, None, inside, 24)
                         for n, (m, inside) in scores.items()},
                        standard=standard, range_factors=factors or [])


def test_sentences_claim_a_win_only_when_the_error_was_lower():
    better = mc.accuracy_sentences(_selection("auto_ets", {
        "auto_ets": (0.42, 19), "seasonal_naive": (0.60, 20)}))
    text = " ".join(better)
    assert "MASE 0.42" in text and "6 months ahead" in text
    assert "scored MASE 0.60 in the same months: the model's error is 30% lower." in text
    assert "held 19 of 24 booked months (79%)" in text and "close to what it claims" in text
    # a model that scored worse than the baseline is never said to beat it
    worse = " ".join(mc.accuracy_sentences(_selection("auto_ets", {
        "auto_ets": (0.42, 10), "seasonal_naive": (0.30, 20)})))
    assert "did not beat it" in worse and "lower" not in worse
    assert "narrower than it claims" in worse
    tie = " ".join(mc.accuracy_sentences(_selection("drift", {
        "drift": (0.5, 24), "seasonal_naive": (0.5, 20)})))
    assert "did not beat it" in tie and "wider than it needs" in tie
    same = " ".join(mc.accuracy_sentences(_selection("seasonal_naive", {
        "seasonal_naive": (0.5, 20)})))
    assert "No model beat simply repeating the same month last year" in same
    missing = " ".join(mc.accuracy_sentences(_selection("naive", {"naive": (0.5, 20)})))
    assert "could not be compared" in missing
    for text in (" ".join(better), worse, tie, same, missing):
        assert "below 1" not in text
