"""Health score maths against hand-computed points."""

from decimal import Decimal

import numpy as np

from salesplan.engines import health


def test_component_points_by_hand():
    # recency: full within 14 days, linear to 0 at 180 days: 47 days → 25 × 133/166 = 20.03
    assert list(health.recency_points(np.array([-1, 0, 14, 47, 180, 400]))) == [
        0, 25, 25, 20, 0, 0]
    assert list(health.frequency_points(np.array([0, 3, 5, 9]))) == [0, 12, 20, 20]
    assert list(health.opportunity_points(np.array([0, 1, 2, 7]))) == [0, 10, 20, 20]
    this = np.array([0.0, 100.0, 60.0, 0.0, 150.0])
    prev = np.array([0.0, 0.0, 100.0, 100.0, 100.0])
    # none either year → neutral 10; first bookings → 25; 60 % of last year → 15; stopped → 0
    assert list(health.trend_points(this, prev)) == [10, 25, 15, 0, 25]
    assert list(health.follow_up_points(np.array([0, 1, 2, 5]))) == [10, 5, 0, 0]


def test_score_and_reasons_of_one_account():
    facts = health.Facts(days_since_contact=47, contacts_90d=3, open_opportunities=1,
                         bookings_12m=Decimal("60000"), bookings_prev_12m=Decimal("100000"),
                         overdue_tasks=1)
    points = health.score(facts)
    assert points == {"recency": 20, "frequency": 12, "opportunities": 10, "trend": 15,
                      "follow_ups": 5, "score": 62}
    parts = health.explain(facts, points, "USD")
    assert [c.points for c in parts] == [20, 12, 10, 15, 5]
    assert sum(c.max_points for c in parts) == 100
    reasons = {c.key: c.reason for c in parts}
    assert reasons["recency"].startswith("Last contact 47 days ago")
    assert reasons["frequency"] == "3 contacts in the last 90 days."
    assert reasons["opportunities"] == "1 open opportunity."
    assert reasons["trend"] == ("USD 60,000 in the last 12 months vs USD 100,000 the year "
                                "before (-40%).")
    assert reasons["follow_ups"] == "1 follow-up past due."


def test_an_account_with_nothing_scores_twenty_and_is_at_risk():
    facts = health.Facts(None, 0, 0, Decimal(0), Decimal(0), 0)
    points = health.score(facts)
    assert points["score"] == 20  # neutral trend 10 + no overdue follow-ups 10
    assert health.explain(facts, points)[0].reason == "No contact recorded."
    assert health.is_at_risk(20, None)
    assert not health.is_at_risk(62, 70)  # fell 8 points: not yet
    assert health.is_at_risk(55, 70)  # fell 15 points
