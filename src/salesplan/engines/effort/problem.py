"""The discretised allocation problem: one effort level per unit, hours per capacity group.

A multiple-choice knapsack per group (a rep, or a territory): every unit belongs to one
group, picks exactly one of its allowed levels, and the hours its group's units take may
not exceed the group's capacity. Coverage rules (a minimum level) and fixed commitments
(exactly one level) are expressed through `allowed`.
"""

from dataclasses import dataclass
from typing import cast

import numpy as np


class ProblemError(ValueError):
    """Input the optimiser cannot take (shapes, negative capacity, levels out of order)."""


class InfeasibleError(ProblemError):
    """The minimum coverage and fixed commitments alone take more hours than a group has."""

    def __init__(self, group: int, required: float, capacity: float):
        self.group, self.required, self.capacity = group, required, capacity
        super().__init__(f"Group {group}: coverage rules and fixed commitments need "
                         f"{required:,.1f} hours but only {capacity:,.1f} are available.")


@dataclass
class EffortProblem:
    """hours[j, l]: hours unit j's level l takes per period (strictly increasing in l);
    value[j, l]: its contribution; group[j]: the capacity group of unit j;
    capacity[g]: the hours group g has; allowed[j, l]: may unit j take level l."""

    hours: np.ndarray
    value: np.ndarray
    group: np.ndarray
    capacity: np.ndarray
    allowed: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.hours = np.asarray(self.hours, dtype=float)
        self.value = np.asarray(self.value, dtype=float)
        self.group = np.asarray(self.group, dtype=np.int64)
        self.capacity = np.asarray(self.capacity, dtype=float)
        n = self.hours.shape[0] if self.hours.ndim == 2 else -1
        if self.hours.ndim != 2 or self.value.shape != self.hours.shape:
            raise ProblemError("hours and value must be tables of one row per unit and one "
                               "column per effort level.")
        if self.group.shape != (n,):
            raise ProblemError("Give one capacity group per unit.")
        if self.allowed is None:
            self.allowed = np.ones(self.hours.shape, dtype=bool)
        self.allowed = np.asarray(self.allowed, dtype=bool)
        if self.allowed.shape != self.hours.shape:
            raise ProblemError("allowed must have the shape of hours.")
        self._check_numbers(n)

    def _check_numbers(self, n: int) -> None:
        if not (np.all(np.isfinite(self.hours)) and np.all(np.isfinite(self.value))
                and np.all(np.isfinite(self.capacity))):
            raise ProblemError("Hours, values and capacities must be finite numbers.")
        bad = np.flatnonzero(self.capacity < 0)
        if bad.size:
            raise ProblemError(f"Group {int(bad[0])} has a negative capacity "
                               f"({self.capacity[bad[0]]:g} hours).")
        if np.any(self.hours < 0):
            raise ProblemError("An effort level cannot take negative hours.")
        if self.hours.shape[1] > 1 and np.any(np.diff(self.hours, axis=1) <= 0):
            unit = int(np.flatnonzero(np.any(np.diff(self.hours, axis=1) <= 0, axis=1))[0])
            raise ProblemError(f"Unit {unit}: effort levels must take strictly more hours "
                               "from one level to the next.")
        if n and (self.group.min() < 0 or self.group.max() >= len(self.capacity)):
            raise ProblemError("A unit names a capacity group that does not exist.")
        empty = np.flatnonzero(~self.mask.any(axis=1))
        if empty.size:
            raise ProblemError(f"Unit {int(empty[0])} has no allowed effort level.")
        base = self.base_hours()
        over = np.flatnonzero(base > self.capacity * (1 + 1e-12) + 1e-9)
        if over.size:
            g = int(over[0])
            raise InfeasibleError(g, float(base[g]), float(self.capacity[g]))

    @property
    def mask(self) -> np.ndarray:
        """`allowed`, filled in (every level allowed when none was given)."""
        return cast(np.ndarray, self.allowed)

    @property
    def units(self) -> int:
        return self.hours.shape[0]

    @property
    def groups(self) -> int:
        return len(self.capacity)

    def base_level(self) -> np.ndarray:
        """Each unit's lowest allowed level (what coverage and commitments impose)."""
        return np.argmax(self.mask, axis=1)

    def base_hours(self) -> np.ndarray:
        rows = np.arange(self.units)
        return np.bincount(self.group, weights=self.hours[rows, self.base_level()],
                           minlength=self.groups)


def contribution(response: np.ndarray, margin, hours: np.ndarray, cost_per_hour) -> np.ndarray:
    """Contribution of each (unit, level): margin × expected sales − cost of the hours.
    `margin` is a rate per unit (or one for all), `cost_per_hour` likewise."""
    margin = np.asarray(margin, dtype=float)
    cost = np.asarray(cost_per_hour, dtype=float)
    if margin.ndim == 1:
        margin = margin[:, None]
    if cost.ndim == 1:
        cost = cost[:, None]
    return margin * np.asarray(response, float) - cost * np.asarray(hours, float)
