"""The lead scoring engine: rules, held-out measures, thin history, reasons."""

import math
import random

import numpy as np
import pytest

from salesplan.engines import lead_scoring as engine

SPEC = engine.FeatureSpec(categorical=("industry", "source"), numeric=("employees",),
                          min_category_count=2)


def history(n: int = 200, seed: int = 3):
    """Leads whose chance of converting depends on industry and size."""
    rng = random.Random(seed)
    rows, labels = [], []
    for i in range(n):
        industry = rng.choice(["Healthcare", "Retail", "Energy"])
        employees = rng.choice([10, 50, 200, 1000])
        chance = {"Healthcare": 0.7, "Retail": 0.2, "Energy": 0.4}[industry]
        chance = min(0.95, chance + (0.1 if employees >= 200 else 0))
        rows.append({"id": i, "industry": industry, "source": rng.choice(["web", "event"]),
                     "employees": employees})
        labels.append(1 if rng.random() < chance else 0)
    return rows, labels


def test_measures_on_a_tiny_fixture_match_hand_computation():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    metrics = engine.evaluate(y, p)
    # Of the four (converted, disqualified) pairs, three rank the converted lead higher.
    assert metrics["auc"] == pytest.approx(0.75)
    assert metrics["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    expected_log_loss = -(math.log(0.9) + math.log(0.6) + math.log(0.35) + math.log(0.8)) / 4
    assert metrics["log_loss"] == pytest.approx(expected_log_loss)
    assert metrics["base_rate"] == 0.5 and metrics["rows"] == 4


def test_calibration_table_groups_by_predicted_decile():
    y = np.array([0, 1, 0, 1, 1, 0])
    p = np.array([0.9, 0.8, 0.1, 0.2, 0.7, 0.3])
    table = engine.calibration_table(y, p, bins=3)
    # Sorted by prediction: (0.1,0),(0.2,1) | (0.3,0),(0.7,1) | (0.8,1),(0.9,0)
    assert [(r["rows"], r["observed"]) for r in table] == [(2, 0.5), (2, 0.5), (2, 0.5)]
    assert [round(r["predicted"], 4) for r in table] == [0.15, 0.5, 0.85]


def test_metrics_are_computed_on_held_out_rows_only():
    rows, labels = history()
    result = engine.train(rows, labels, SPEC, min_per_class=20, test_fraction=0.25, seed=1)
    train_ids, test_ids = set(result.train_index), set(result.test_index)
    assert not train_ids & test_ids
    assert train_ids | test_ids == set(range(len(rows)))
    assert len(test_ids) == 50
    # Stratified: the held-out share keeps the history's conversion rate.
    y = np.array(labels)
    assert abs(y[result.test_index].mean() - y.mean()) < 0.03
    # Recompute the held-out figures by hand from the stored numbers.
    params = result.parameters
    held_out = [rows[i] for i in result.test_index]
    truth = y[result.test_index]
    coef = dict(zip(params.features, params.coefficients, strict=True))
    mean, scale = params.numeric["employees"]
    by_hand = []
    for row in held_out:
        z = params.intercept + coef.get(f"industry={row['industry']}", 0.0)
        z += coef.get(f"source={row['source']}", 0.0)
        z += coef["employees"] * (math.log1p(row["employees"]) - mean) / scale
        by_hand.append(1 / (1 + math.exp(-z)))
    brier = sum((p - t) ** 2 for p, t in zip(by_hand, truth, strict=True)) / len(truth)
    assert result.metrics["brier"] == pytest.approx(brier)
    pairs = [(p, q) for p, t in zip(by_hand, truth, strict=True) if t
             for q, u in zip(by_hand, truth, strict=True) if not u]
    auc = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p, q in pairs) / len(pairs)
    assert result.metrics["auc"] == pytest.approx(auc)
    assert result.metrics["rows"] == 50
    assert sum(r["rows"] for r in result.calibration) == 50
    # The model learnt the planted signal: healthcare converts more than retail.
    assert coef["industry=Healthcare"] > coef["industry=Retail"]
    assert result.metrics["auc"] > 0.6


def test_vocabulary_is_learnt_from_training_rows_only():
    rows, labels = history()
    rows[0]["industry"] = "Mining"  # a category only one row has
    rows[1]["industry"] = "Mining"
    result = engine.train(rows, labels, SPEC, min_per_class=20, seed=1)
    in_training = sum(1 for i in result.train_index if rows[i]["industry"] == "Mining")
    assert ("industry=Mining" in result.parameters.features) == (in_training >= 2)


def test_thin_history_is_refused_with_the_reason():
    rows, _ = history(60)
    labels = [1] * 19 + [0] * 41
    with pytest.raises(engine.ThinHistory) as refused:
        engine.train(rows, labels, SPEC, min_per_class=20)
    assert str(refused.value) == (
        "Not enough history to predict conversion: only 19 converted leads (at least 20 of "
        "each are needed, so that part can be held out to measure accuracy).")
    with pytest.raises(engine.ThinHistory, match="only 0 converted leads and 3 disqualified"):
        engine.check_history([0, 0, 0], min_per_class=5)


def test_reasons_and_intercept_add_up_to_the_logit():
    rows, labels = history()
    params = engine.train(rows, labels, SPEC, min_per_class=20, seed=2).parameters
    parts, names = engine.contributions(params, rows[:20])
    logits = engine.logits(params, rows[:20])
    assert np.allclose(params.intercept + parts.sum(axis=1), logits)
    scored = list(engine.score_rows(params, rows[:20], limit=len(names)))
    for (probability, reasons), logit in zip(scored, logits, strict=True):
        assert probability == pytest.approx(1 / (1 + math.exp(-logit)))
        assert params.intercept + sum(r["effect"] for r in reasons) == pytest.approx(
            logit, abs=1e-3)
        effects = [abs(r["effect"]) for r in reasons]
        assert effects == sorted(effects, reverse=True)
    # Stored as JSON and read back, the model scores the same.
    again = engine.ScoringParameters.from_json(params.to_json())
    assert np.allclose(engine.predict(again, rows), engine.predict(params, rows))
    # ... even when the store hands the mappings back with their keys in another order
    # (PostgreSQL's jsonb orders keys by length, then bytes).
    stored = params.to_json()
    stored["vocabulary"] = dict(reversed(list(stored["vocabulary"].items())))
    reordered = engine.ScoringParameters.from_json(stored)
    assert list(reordered.vocabulary) == list(params.vocabulary)
    assert np.allclose(engine.predict(reordered, rows), engine.predict(params, rows))


def test_rules_add_fit_and_engagement_points_and_grade():
    rules = [
        engine.Rule("fit", "industry", "in", ("healthcare", "biotech"), 25),
        engine.Rule("fit", "employees", "between", (50.0, 500.0), 20),
        engine.Rule("fit", "title", "contains", "director", 15),
        engine.Rule("fit", "country", "not_equals", "us", -10),
        engine.Rule("engagement", "meetings", "at_least", 2.0, 15),
    ]
    lead = {"industry": "Healthcare", "employees": 120, "title": "IT Director",
            "country": "US", "meetings": 2}
    score = engine.score_by_rules(rules, lead)
    assert (score.fit, score.engagement, score.total) == (60, 15, 75)
    assert engine.grade(score.total) == "A"
    assert [r["rule"] for r in score.reasons] == [
        "industry is one of healthcare, biotech", "employees is between 50–500",
        "title contains director", "meetings is at least 2"]
    other = engine.score_by_rules(rules, {"industry": "", "employees": None, "country": "CA"})
    assert (other.fit, other.engagement) == (-10, 0) and engine.grade(other.total) == "D"
    assert [engine.grade(t) for t in (59, 40, 39, 20, 19)] == ["B", "B", "C", "C", "D"]


@pytest.mark.parametrize(("operator", "raw", "numeric", "field", "message"), [
    ("between", "500-50", True, "value", "starts above its end"),
    ("between", "50", True, "value", "LOW-HIGH"),
    ("at_least", "lots", True, "value", "is not a number"),
    ("contains", "x", True, "operator", "does not apply to a number field"),
    ("in", " , ", False, "value", "separated by commas"),
    ("equals", "", False, "value", "Give a value"),
])
def test_bad_rule_values_name_the_field(operator, raw, numeric, field, message):
    with pytest.raises(engine.RuleError, match=message) as bad:
        engine.parse_rule_value(operator, raw, numeric=numeric)
    assert bad.value.field == field


def test_time_split_holds_out_the_newest_leads():
    rows, labels = history(100)
    result = engine.train(rows, labels, SPEC, min_per_class=20, test_fraction=0.2,
                          split="time")
    assert result.train_index.tolist() == list(range(80))
    assert result.test_index.tolist() == list(range(80, 100))
    assert result.metrics["rows"] == 20
    # Newest leads all disqualified: nothing to measure a ranking on, so refused.
    labels = [1] * 40 + [0] * 60
    with pytest.raises(engine.ThinHistory, match="held-out part of a time split has no "
                                                 "converted lead"):
        engine.train(rows, labels, SPEC, min_per_class=20, test_fraction=0.2, split="time")
