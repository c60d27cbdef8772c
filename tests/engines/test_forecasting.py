"""Forecasting maths against hand-computed figures (the model choice: test_model_choice)."""

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


def test_submission_accuracy_by_hand():
    acc = fc.submission_accuracy([100, 90], [80, 100], [50, 80])
    assert acc.periods == 2
    assert acc.mape == pytest.approx(17.5)  # (20/80 + 10/100) / 2
    assert acc.mase == pytest.approx(15 / 25)  # MAE 15 against the naive guess's 25
    assert acc.baseline_mape == pytest.approx(28.75)  # (30/80 + 20/100) / 2
    with pytest.raises(ValueError):
        fc.submission_accuracy([1], [1, 2], [1, 2])
