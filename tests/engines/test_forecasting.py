"""Forecasting maths against hand-computed figures, and backtests that really hold data out."""

import math
from decimal import Decimal

import pytest

from salesplan.engines import forecasting as fc


def test_calibration_shrinks_toward_the_stated_probability():
    rows = fc.calibrate([(1, 20), (2, 55)], {1: (3, 7)}, prior_weight=20)
    first, second = rows
    assert first.observed == Decimal("30.0") and first.closed == 10
    # (3 won × 100 + 20 × 20) / (10 + 20) = 700 / 30 = 23.33…
    assert first.calibrated == Decimal("23.3")
    assert second.observed is None and second.calibrated == Decimal("55.0")
    assert fc.calibrate([(1, 20)], {1: (3, 7)}, prior_weight=0)[0].calibrated == Decimal("30.0")
    many = fc.calibrate([(1, 20)], {1: (300, 700)})[0]  # 1,000 deals: (30,000+400)/1,020
    assert many.calibrated == Decimal("29.8")
    assert fc.calibrate([(1, 20)], {}, prior_weight=0)[0].calibrated == Decimal("20.0")
    with pytest.raises(ValueError):
        fc.calibrate([(1, 20)], {}, prior_weight=-1)


def test_weighted_pipeline_by_hand():
    amounts = {1: Decimal("10000.00"), 2: Decimal("5000.00"), 3: Decimal("333.33")}
    probs = {1: Decimal("20"), 2: Decimal("55"), 3: Decimal("23.3")}
    # 2,000 + 2,750 + 77.666… → 77.67
    assert fc.weighted_pipeline(amounts, probs) == Decimal("4827.67")


def test_mape_skips_zero_actuals_and_mase_scale():
    assert fc.mape([100, 200, 0], [110, 150, 5]) == pytest.approx(17.5)
    assert fc.mape([0, 0], [1, 2]) is None
    # shorter than a season: naive lag 1, |12-10|, |14-12|, |13-14| → 5/3
    assert fc.seasonal_naive_scale([10, 12, 14, 13]) == pytest.approx(5 / 3)
    season = [float(m) for m in range(12)] * 2
    assert fc.seasonal_naive_scale(season) is None  # a perfect repeat: no scale
    assert fc.seasonal_naive_forecast(season + [99.0], 3) == [1.0, 2.0, 3.0]


def test_rolling_origin_backtest_by_hand():
    series = [10, 20, 30, 40, 50, 60, 70, 80]
    bt = fc.rolling_origin_backtest(series, horizon=2, folds=2, min_train=6,
                                    forecaster=lambda train, h: [train[-1]] * h)
    assert [(f.origin, f.actual, f.forecast) for f in bt.folds] == [
        (6, [70.0, 80.0], [60.0, 60.0]), (7, [80.0], [70.0])]
    # (10/70 + 20/80 + 10/80) / 3
    assert bt.mape == pytest.approx(100 * (10 / 70 + 0.25 + 0.125) / 3)
    # fold MAEs 15 and 10 over the in-sample naive MAE 10 → 1.5 and 1.0
    assert bt.mase == pytest.approx(1.25)
    assert bt.baseline_mase == pytest.approx(1.25)  # the baseline is the same naive guess


def _seasonal_series(n: int) -> list[float]:
    return [1000 + 30 * i + 400 * math.sin(2 * math.pi * i / 12) + (37 * i % 11) * 10
            for i in range(n)]


def test_backtest_never_sees_data_after_its_origin():
    series = _seasonal_series(36)
    seen: list[tuple[int, float]] = []

    def spy(train, h):
        seen.append((len(train), max(train)))
        return [train[-1]] * h

    bt = fc.rolling_origin_backtest(series, horizon=3, folds=6, forecaster=spy)
    assert [f.origin for f in bt.folds] == [30, 31, 32, 33, 34, 35]
    assert [n for n, _ in seen] == [30, 31, 32, 33, 34, 35]
    assert all(top == max(series[:n]) for n, top in seen)


def test_perturbing_the_future_leaves_earlier_folds_unchanged():
    series = _seasonal_series(36)
    before = fc.rolling_origin_backtest(series, horizon=3, folds=6)
    assert before.model == "holt_winters"
    cut = 32
    perturbed = series[:cut] + [v * 3 + 5000 for v in series[cut:]]
    after = fc.rolling_origin_backtest(perturbed, horizon=3, folds=6)
    for old, new in zip(before.folds, after.folds, strict=True):
        if old.origin <= cut:
            assert new.forecast == pytest.approx(old.forecast, rel=1e-9)
            assert new.baseline == old.baseline
        else:
            assert new.forecast != pytest.approx(old.forecast, rel=1e-3)


def test_short_history_falls_back_with_a_message():
    assert fc.choose_model(36).name == "holt_winters"
    holt = fc.choose_model(10)
    assert holt.name == "holt" and "seasonal model needs 24" in holt.note
    naive = fc.choose_model(4)
    assert naive.name == "seasonal_naive" and "too short" in naive.note
    assert fc.fit_forecast([5, 7, 9, 4], 3) == [4.0, 4.0, 4.0]
    trend = fc.fit_forecast([float(100 + 10 * i) for i in range(10)], 2)
    assert trend[0] > 180 and all(v >= 0 for v in trend)


def test_submission_accuracy_by_hand():
    acc = fc.submission_accuracy([100, 90], [80, 100], [50, 80])
    assert acc.periods == 2
    assert acc.mape == pytest.approx(17.5)  # (20/80 + 10/100) / 2
    assert acc.mase == pytest.approx(15 / 25)  # MAE 15 against the naive guess's 25
    assert acc.baseline_mape == pytest.approx(28.75)  # (30/80 + 20/100) / 2
    with pytest.raises(ValueError):
        fc.submission_accuracy([1], [1, 2], [1, 2])
