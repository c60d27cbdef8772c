"""Cheap proofs that no alignment can meet the balance band, each with its fix.

Every argument looks at one balance measure at a time and ignores geography, so when
one applies, no alignment of any shape is balanced: the optimiser says so at once
instead of searching until the time runs out. Each proof also finds what would make
its argument go away — the narrowest balance tolerance that passes every argument, and
the nearest territory counts that pass at the requested tolerance — so the message can
say how to ask again. (Passing every argument does not promise a balanced alignment:
geography and contiguity may still forbid one.)

The arguments, for a measure with total W shared by K territories (mean W / K, band
[lower, upper] = mean · (1 ∓ tau)):

* **one heavy unit**: a unit heavier than ``upper`` fits in no territory;
* **too many units**: a territory can hold at most c units, where c is how many of the
  lightest units fit under ``upper``; if K · c < n some unit has nowhere to go;
* **too few units**: each territory needs at least f units, where f is how many of the
  heaviest units it takes to reach ``lower``; if K · f > n some territory falls short;
* **heavy units apart**: units heavier than ``upper / 2`` cannot share a territory, so
  there must be at most K of them;
* **whole amounts**: when every weight is a whole multiple of g (account counts are
  whole numbers), every total is a multiple of g; the band must then contain a multiple
  of g at or above W / K and one at or below it — ten accounts into four territories
  at ±5% need a territory of 2.375 to 2.625 accounts, and there is none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Totals may exceed a bound by this relative amount (float sums) and still count as balanced.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Obstacle:
    """Why one measure cannot be balanced: ``kind`` names the argument.

    kind: "few_weighted" (fewer units weigh anything than there are territories),
        "heavy_unit", "too_many_units", "too_few_units", "heavy_units_apart",
        "whole_amounts" (see the module docstring).
    unit: the unit concerned ("heavy_unit": the heaviest one), else None.
    count / needed: the argument's two sides, e.g. at most ``count`` units fit in a
        territory but ``needed`` are required.
    step: the whole amount g ("whole_amounts"), else None.
    """

    kind: str
    measure: int
    unit: int | None = None
    count: int = 0
    needed: int = 0
    step: float | None = None


class _Measure:
    """One measure's weights, sorted, with the prefix sums every argument needs."""

    def __init__(self, weights: np.ndarray):
        self.w = weights
        self.n = weights.size
        self.total = float(weights.sum())
        ascending = np.sort(weights)
        self.light = np.concatenate([[0.0], np.cumsum(ascending)])  # sum of the c lightest
        self.heavy = np.concatenate([[0.0], np.cumsum(ascending[::-1])])  # c heaviest
        self.descending = ascending[::-1]
        self.step = _whole_step(weights)

    def obstacle(self, m: int, k: int, tau: float) -> Obstacle | None:
        mean = self.total / k
        upper, lower = mean * (1 + tau), mean * (1 - tau)
        slack = mean * TOLERANCE
        if self.step is not None:
            upper = math.floor((upper + slack) / self.step) * self.step
            lower = math.ceil((lower - slack) / self.step) * self.step
        positive = int(np.count_nonzero(self.w > 0))
        if lower > slack and positive < k:
            return Obstacle("few_weighted", m, count=positive, needed=k)
        heaviest = int(np.argmax(self.w))
        if self.w[heaviest] > upper + slack:
            return Obstacle("heavy_unit", m, unit=heaviest)
        # Every total is a multiple of the step: the band needs one on each side of the
        # mean, else the K totals cannot add up to W.
        if self.step is not None and (upper < mean - slack or lower > mean + slack):
            return Obstacle("whole_amounts", m, step=self.step)
        fit = int(np.searchsorted(self.light, upper + slack, side="right")) - 1
        if k * fit < self.n:
            return Obstacle("too_many_units", m, count=fit, needed=-(-self.n // k))
        if lower > slack:
            reach = int(np.searchsorted(self.heavy, lower - slack, side="left"))
            if reach > self.n or k * reach > self.n:
                return Obstacle("too_few_units", m, count=self.n // k, needed=reach)
        apart = int(np.count_nonzero(self.descending > upper / 2 + slack))
        if apart > k:
            return Obstacle("heavy_units_apart", m, count=apart, needed=k)
        return None


def _whole_step(weights: np.ndarray) -> float | None:
    """The largest g with every weight a whole multiple of it (for whole weights), else None."""
    positive = weights[weights > 0]
    if positive.size == 0:
        return None
    scaled = np.round(positive)
    if not np.allclose(scaled, positive, rtol=0, atol=1e-9) or scaled.max() > 2**53:
        smallest = positive.min()  # equal weights that are not whole numbers
        return float(smallest) if np.allclose(positive, smallest, rtol=1e-12) else None
    return float(np.gcd.reduce(scaled.astype(np.int64)))


class BalanceProofs:
    """The arguments over every measure, and the fixes that make them pass."""

    def __init__(self, weights: np.ndarray):
        self.measures = [_Measure(weights[:, m]) for m in range(weights.shape[1])]

    def obstacle(self, k: int, tau: np.ndarray) -> Obstacle | None:
        for m, measure in enumerate(self.measures):
            found = measure.obstacle(m, k, float(tau[m]))
            if found is not None:
                return found
        return None

    def wider_tau(self, k: int, tau: np.ndarray) -> float | None:
        """One tolerance for every measure that every argument passes with ``k``
        territories (None if none below ±100% does)."""
        needed = [self.narrowest_tau(k, tau, m) for m in range(len(self.measures))]
        if any(x is None for x in needed):
            return None
        return max(max(x for x in needed if x is not None), float(np.max(tau)))

    def narrowest_tau(self, k: int, tau: np.ndarray, measure: int) -> float | None:
        """The narrowest tolerance for ``measure`` (others unchanged) that every argument
        passes with ``k`` territories, rounded up to a tenth of a per cent; None if even
        ±100% does not."""
        data = self.measures[measure]
        if data.obstacle(measure, k, float(tau[measure])) is None:
            return float(tau[measure])
        if data.obstacle(measure, k, 0.999) is not None:
            return None
        low, high = float(tau[measure]), 0.999
        for _ in range(40):  # every argument passes more easily as the band widens
            middle = (low + high) / 2
            if data.obstacle(measure, k, middle) is None:
                high = middle
            else:
                low = middle
        rounded = math.ceil(high * 1000 - 1e-6) / 1000
        return rounded if data.obstacle(measure, k, rounded) is None else high

    def nearest_k(self, k: int, tau: np.ndarray, n: int) -> list[int]:
        """Up to two territory counts near ``k`` (the nearest fewer, the nearest more;
        from half to twice ``k``) that every argument passes at ``tau``."""
        found = []
        for direction, stop in ((-1, max(2, k // 2) - 1), (1, min(n, 2 * k) + 1)):
            for other in range(k + direction, stop, direction):
                if self.obstacle(other, tau) is None:
                    found.append(other)
                    break
        return found


def _amount(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def _per_cent(share: float) -> str:
    return f"{100 * share:.1f}".rstrip("0").rstrip(".") + "%"


def reason(obstacle: Obstacle, weights: np.ndarray, k: int, tau: np.ndarray,
           measure_name, unit_name) -> str:
    """The argument in a sales manager's words; ``measure_name(m)`` and ``unit_name(i)``
    give the names the caller uses (e.g. "potential", "ZIP 10001")."""
    m = obstacle.measure
    name = measure_name(m)
    w = weights[:, m]
    mean = float(w.sum()) / k
    band = f"±{_per_cent(float(tau[m]))}"
    if obstacle.kind == "heavy_unit":
        unit = int(obstacle.unit if obstacle.unit is not None else np.argmax(w))
        return (f"{unit_name(unit)} alone has {_amount(float(w[unit]))} of {name}, "
                f"{w[unit] / mean:.2f} times a territory's fair share of {_amount(mean)}; "
                f"at {band} no territory may exceed {_amount(mean * (1 + tau[m]))}")
    if obstacle.kind == "few_weighted":
        return (f"only {obstacle.count} units have any {name}, so at {band} some of the "
                f"{k} territories would have none")
    if obstacle.kind == "too_many_units":
        return (f"at {band} a territory can hold at most {obstacle.count} units even of the "
                f"lightest in {name}, but {w.size} units into {k} territories need "
                f"{obstacle.needed} in some territory")
    if obstacle.kind == "too_few_units":
        return (f"at {band} each territory needs at least {obstacle.needed} units even of "
                f"the heaviest in {name} to reach {_amount(mean * (1 - tau[m]))}, but "
                f"{w.size} units into {k} territories leave some with {obstacle.count}")
    if obstacle.kind == "heavy_units_apart":
        return (f"{obstacle.count} units each have more than half of the most a territory "
                f"may hold in {name} at {band}, so no two can share a territory, but there "
                f"are only {k} territories")
    step = obstacle.step or 1.0
    return (f"{name} comes in whole amounts of {_amount(step)}, and at {band} a territory "
            f"would need between {_amount(mean * (1 - tau[m]))} and "
            f"{_amount(mean * (1 + tau[m]))}: no whole amount lets {k} territories share "
            f"{_amount(float(w.sum()))} evenly")


def remedy(wider_tau: float | None, other_k: list[int], k: int) -> str:
    """How to ask again: a wider balance, or a number of territories that passes."""
    options = []
    if wider_tau is not None:
        options.append(f"allow a wider balance, e.g. ±{_per_cent(wider_tau)}")
    if other_k:
        counts = " or ".join(str(x) for x in other_k)
        options.append(f"use {counts} {'territory' if other_k == [1] else 'territories'} "
                       f"instead of {k}")
    if not options:
        return "Choose other measures or other territories."
    text = ", or ".join(options)
    return text[0].upper() + text[1:] + "."
