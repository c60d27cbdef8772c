"""A generated company whose true response curves are known: the check that a plan
made from noisy history recovers most of what the true optimum would gain.

Each segment has a true ADBUDG curve per account of average potential; each account a
potential, a rep, and a habit (its usual calls a month, unrelated to how well calls pay
there, which is what leaves room for reallocation). Its monthly calls are Poisson around
the habit; its bookings are potential × true curve(calls) × noise (gamma, mean 1).
`recovery` makes the plan from the history alone, as the product does, then judges it on
the true curves against the true optimum at the same hours.
"""

from dataclasses import dataclass

import numpy as np

from .curves import AdbudgCurve, CappedCurve
from .evidence import SegmentCurve, SegmentHistory, fit_segment
from .gains import Economics, EffortPlan, Units, plan_effort, unit_values


@dataclass
class KnownCompany:
    """The true curves, the history they produced, and the planning units (one per
    account) with the reps' planned hours."""

    truths: list[AdbudgCurve]
    histories: list[SegmentHistory]
    units: Units
    capacity: np.ndarray
    economics: Economics
    levels: np.ndarray


def generate_company(
    *,
    seed: int = 0,
    segments: int = 6,
    accounts_per_segment: int = 60,
    reps: int = 5,
    months: int = 24,
    noise: float = 0.4,
    levels=(0, 0.25, 0.5, 1, 2, 3, 4, 6),
    economics: Economics | None = None,
) -> KnownCompany:
    """A seeded company; `noise` is the coefficient of variation of monthly bookings
    around the true curve."""
    rng = np.random.default_rng(seed)
    economics = economics or Economics(margin=0.3, cost_per_hour=50.0, hours_per_call=1.0)
    truths, histories = [], []
    segment_of, size, current, group = [], [], [], []
    shape_k = 1 / noise**2
    for s in range(segments):
        ceiling = float(rng.uniform(2_000, 20_000))
        shape = float(rng.uniform(0.6, 1.5))
        half = float(rng.uniform(1.0, 4.0))
        truth = AdbudgCurve(ceiling * float(rng.uniform(0.1, 0.4)), ceiling, shape, half**shape)
        truths.append(truth)
        potential = rng.lognormal(0.0, 0.3, accounts_per_segment)
        habit = rng.uniform(0.3, 6.0, accounts_per_segment)
        calls = rng.poisson(habit[:, None], (accounts_per_segment, months)).astype(float)
        expected = potential[:, None] * truth(calls)
        sales = expected * rng.gamma(shape_k, 1 / shape_k, expected.shape)
        histories.append(SegmentHistory(calls, sales, potential / potential.mean()))
        segment_of += [s] * accounts_per_segment
        size += list(potential / potential.mean())
        current += list(calls.mean(axis=1))
        group += list(rng.integers(0, reps, accounts_per_segment))
    units = Units(
        np.array(segment_of), np.array(size), np.ones(len(size)), np.array(current), np.array(group)
    )
    hours = np.bincount(
        units.group, weights=units.current * economics.hours_per_call, minlength=reps
    )
    return KnownCompany(
        truths, histories, units, hours * 1.1, economics, np.asarray(levels, dtype=float)
    )


@dataclass(frozen=True)
class Recovery:
    """The same-hours plan judged on the true curves: its true gain over today, the
    true optimum's gain at the same hours, and the share recovered."""

    true_gain: float
    optimum_gain: float
    claimed_gain: float
    share: float
    trusted_segments: int

    def as_dict(self) -> dict:
        return {
            "true_gain": self.true_gain,
            "optimum_gain": self.optimum_gain,
            "claimed_gain": self.claimed_gain,
            "share": self.share,
            "trusted_segments": self.trusted_segments,
        }


def recovery(company: KnownCompany) -> tuple[Recovery, EffortPlan, list[SegmentCurve]]:
    """Plan from the history alone, then judge the plan on the truth."""
    fitted = [fit_segment(h) for h in company.histories]
    plan = plan_effort(fitted, company.units, company.capacity, company.levels, company.economics)
    top = float(company.levels.max())
    true_segments = [
        SegmentCurve(CappedCurve(t, max(h.most_effort, top)), "judgement")
        for t, h in zip(company.truths, company.histories, strict=True)
    ]
    best = plan_effort(
        true_segments, company.units, company.capacity, company.levels, company.economics
    )
    true_curves = [s.curve for s in true_segments]
    today = unit_values(true_curves, company.units, company.units.current, company.economics).sum()
    recommended = unit_values(
        true_curves, company.units, plan.reallocated_effort, company.economics
    ).sum()
    true_gain = float(recommended - today)
    optimum_gain = float(best.reallocation_gain)
    share = true_gain / optimum_gain if optimum_gain > 0 else 1.0
    return (
        Recovery(
            true_gain, optimum_gain, plan.reallocation_gain, share, sum(s.trusted for s in fitted)
        ),
        plan,
        fitted,
    )
