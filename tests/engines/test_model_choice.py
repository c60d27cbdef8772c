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


def test_seasonal_naive_is_chosen_when_it_is_best():
    # the same year repeated exactly: repeating last year is right, every other model errs
    selection = mc.choose_and_forecast(_pattern(36), folds=3)
    assert selection.chosen == "seasonal_naive"
    assert selection.scores["seasonal_naive"].mase == 0
    assert set(selection.scores) >= {"auto_ets", "auto_arima", "auto_theta", "combined"}
    assert selection.forecast.mean == [100.0, 120.0, 150.0, 170.0, 160.0, 140.0]
    assert "No model beat simply repeating the same month last year" in " ".join(
        mc.accuracy_sentences(selection))


def test_naive_is_chosen_when_it_is_best():
    # a level that moved once and stayed: the last month is the best guess
    series = [100.0] * 20 + [300.0] * 16
    selection = mc.choose_and_forecast(series, folds=3)
    assert selection.chosen == "naive"
    assert selection.forecast.mean == [300.0] * 6
    assert selection.scores["naive"].mase == 0
    assert selection.scores["seasonal_naive"].mase > 0


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


def test_interval_coverage_is_counted_in_the_folds():
    rng = random.Random(11)
    series = [200 + rng.gauss(0, 20) for _ in range(30)]
    selection = mc.choose_and_forecast(series, folds=4, candidates=["naive"])
    inside = sum(lo <= a <= hi for f in selection.folds for a, lo, hi in zip(
        f.actual, f.paths["naive"].lower, f.paths["naive"].upper, strict=True))
    score = selection.scores["naive"]
    assert (score.inside, score.months) == (inside, 24)
    assert score.coverage == pytest.approx(inside / 24)
    assert all(lo <= m <= hi for lo, m, hi in zip(
        selection.forecast.lower, selection.forecast.mean, selection.forecast.upper,
        strict=True))


def test_short_history_claims_no_accuracy():
    selection = mc.choose_and_forecast([5.0, 7.0, 9.0, 4.0], horizon=6)
    assert selection.chosen == "naive" and not selection.backtested
    assert selection.forecast.mean == [4.0] * 6
    text = " ".join(mc.accuracy_sentences(selection))
    assert "not been measured" in text and "MASE" not in text
    year = mc.choose_and_forecast(_pattern(14), horizon=6)
    assert year.chosen == "seasonal_naive" and "same month last year" in year.reason


def _selection(chosen: str, scores: dict[str, tuple[float, int]]) -> mc.Selection:
    path = mc.Path([1.0] * 6, [0.0] * 6, [2.0] * 6, "X")
    folds = [mc.Fold(12 + i, [1.0] * 6, {n: path for n in scores}, 1.0) for i in range(4)]
    return mc.Selection(6, 80, chosen, path, folds,
                        {n: mc.Score(n, m, 10 * m, None, inside, 24)
                         for n, (m, inside) in scores.items()})


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
