"""Customer health: a 0–100 score from five components, each with its reason.

Pure maths (no Django). `score_arrays` scores many accounts at once on numpy arrays (the
nightly run over a million accounts); `explain` gives one account's components with the
sentence a manager reads. Both use the same rules:

    component          points  rule
    recency of contact   25    25 if the last contact was ≤ 14 days ago, falling linearly
                               to 0 at 180 days; 0 with no contact at all
    frequency            20    4 points per contact in the last 90 days, at most 20
    open opportunities   20    10 per open opportunity, at most 20
    bookings trend       25    won in the last 12 months vs the 12 before: 25 when level or
                               growing (or a first year of bookings), 25 × ratio when
                               shrinking, 0 when bookings stopped; 10 (neutral) with none
                               in either year
    overdue follow-ups   10    10, less 5 per open task past its due date, at least 0
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

RECENCY_MAX, FREQUENCY_MAX, OPPORTUNITY_MAX, TREND_MAX, FOLLOW_UP_MAX = 25, 20, 20, 25, 10
RECENCY_FULL_DAYS, RECENCY_ZERO_DAYS = 14, 180
POINTS_PER_CONTACT, POINTS_PER_OPPORTUNITY, POINTS_PER_OVERDUE = 4, 10, 5
TREND_NEUTRAL = 10
AT_RISK_BELOW = 40  # a score under this is at risk
FALLING_BY = 15  # so is a drop of this many points since the previous computation


@dataclass(frozen=True)
class Facts:
    """What the score is computed from, for one account."""

    days_since_contact: int | None
    contacts_90d: int
    open_opportunities: int
    bookings_12m: Decimal
    bookings_prev_12m: Decimal
    overdue_tasks: int


@dataclass(frozen=True)
class Component:
    key: str
    label: str
    points: int
    max_points: int
    reason: str


def recency_points(days: np.ndarray) -> np.ndarray:
    """`days` since the last contact, negative meaning never."""
    span = RECENCY_ZERO_DAYS - RECENCY_FULL_DAYS
    frac = np.clip((RECENCY_ZERO_DAYS - days) / span, 0.0, 1.0)
    points = np.rint(RECENCY_MAX * frac)
    return np.where(days < 0, 0, points).astype(np.int16)


def frequency_points(contacts: np.ndarray) -> np.ndarray:
    return np.minimum(contacts * POINTS_PER_CONTACT, FREQUENCY_MAX).astype(np.int16)


def opportunity_points(open_count: np.ndarray) -> np.ndarray:
    return np.minimum(open_count * POINTS_PER_OPPORTUNITY, OPPORTUNITY_MAX).astype(np.int16)


def trend_points(this_year: np.ndarray, last_year: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(last_year > 0, this_year / np.where(last_year > 0, last_year, 1), 1.0)
    points = np.rint(TREND_MAX * np.clip(ratio, 0.0, 1.0))
    points = np.where((this_year <= 0) & (last_year <= 0), TREND_NEUTRAL, points)
    return points.astype(np.int16)


def follow_up_points(overdue: np.ndarray) -> np.ndarray:
    return np.maximum(FOLLOW_UP_MAX - overdue * POINTS_PER_OVERDUE, 0).astype(np.int16)


def score_arrays(days_since_contact: np.ndarray, contacts_90d: np.ndarray,
                 open_opportunities: np.ndarray, bookings_12m: np.ndarray,
                 bookings_prev_12m: np.ndarray, overdue_tasks: np.ndarray) -> dict[str, np.ndarray]:
    """Component points and the total for many accounts (days < 0: never contacted)."""
    parts = {
        "recency": recency_points(days_since_contact.astype(np.float64)),
        "frequency": frequency_points(contacts_90d),
        "opportunities": opportunity_points(open_opportunities),
        "trend": trend_points(bookings_12m.astype(np.float64),
                              bookings_prev_12m.astype(np.float64)),
        "follow_ups": follow_up_points(overdue_tasks),
    }
    parts["score"] = sum(parts.values(), np.zeros(len(days_since_contact), np.int16)).astype(
        np.int16)
    return parts


def score(facts: Facts) -> dict[str, int]:
    """One account's component points and total."""
    days = -1 if facts.days_since_contact is None else facts.days_since_contact
    arrays = score_arrays(np.array([days]), np.array([facts.contacts_90d]),
                          np.array([facts.open_opportunities]),
                          np.array([float(facts.bookings_12m)]),
                          np.array([float(facts.bookings_prev_12m)]),
                          np.array([facts.overdue_tasks]))
    return {key: int(values[0]) for key, values in arrays.items()}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def explain(facts: Facts, points: dict[str, int], currency: str = "") -> list[Component]:
    """Each component's points with the reason, in the manager's words."""

    def money(value: Decimal) -> str:
        return f"{currency} {value:,.0f}".strip()

    if facts.days_since_contact is None:
        recency = "No contact recorded."
    elif facts.days_since_contact <= RECENCY_FULL_DAYS:
        recency = f"Last contact {_plural(facts.days_since_contact, 'day')} ago."
    else:
        recency = (f"Last contact {_plural(facts.days_since_contact, 'day')} ago "
                   f"(full points within {RECENCY_FULL_DAYS} days, none after "
                   f"{RECENCY_ZERO_DAYS}).")
    this, prev = facts.bookings_12m, facts.bookings_prev_12m
    if this <= 0 and prev <= 0:
        trend = "No bookings in the last two years."
    elif prev <= 0:
        trend = f"First bookings: {money(this)} in the last 12 months."
    elif this <= 0:
        trend = f"No bookings in the last 12 months after {money(prev)} the year before."
    else:
        change = (this - prev) / prev * 100
        trend = (f"{money(this)} in the last 12 months vs {money(prev)} the year before "
                 f"({change:+.0f}%).")
    overdue = ("No overdue follow-ups." if not facts.overdue_tasks
               else f"{_plural(facts.overdue_tasks, 'follow-up')} past due.")
    return [
        Component("recency", "Recency of contact", points["recency"], RECENCY_MAX, recency),
        Component("frequency", "Frequency of contact", points["frequency"], FREQUENCY_MAX,
                  f"{_plural(facts.contacts_90d, 'contact')} in the last 90 days."),
        Component("opportunities", "Open opportunities", points["opportunities"],
                  OPPORTUNITY_MAX, f"{_plural(facts.open_opportunities, 'open opportunity')}."
                  .replace("opportunitys", "opportunities")),
        Component("trend", "Bookings trend", points["trend"], TREND_MAX, trend),
        Component("follow_ups", "Overdue follow-ups", points["follow_ups"], FOLLOW_UP_MAX,
                  overdue),
    ]


def is_at_risk(score_now: int, previous: int | None) -> bool:
    falling = previous is not None and previous - score_now >= FALLING_BY
    return score_now < AT_RISK_BELOW or falling
