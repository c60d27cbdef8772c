"""Splitting a number into parts that add up to it exactly (no Django import).

Every cascade in the plan (company → teams → reps, year → months) goes through
`allocate_exactly`, so children always add up to their parent to the last cent.
"""

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction


def allocate_exactly(total: Decimal, weights: Sequence[Decimal | int], places: int = 2,
                     ) -> list[Decimal]:
    """Split `total` in proportion to `weights`, rounded to `places` decimals, with parts
    that add up exactly to `total` (largest remainder method).

    Each part is its exact proportional share rounded down to the minor unit; the units
    left over go one each to the parts with the largest remainders (ties: the earlier
    part). So every part is within one minor unit of its exact share. `total` is first
    rounded to `places` (half to even); it and every weight must be non-negative, and at
    least one weight positive.
    """
    if not weights:
        raise ValueError("There is nothing to allocate to.")
    unit = Decimal(1).scaleb(-places)
    total = Decimal(total).quantize(unit, rounding=ROUND_HALF_EVEN)
    if total < 0:
        raise ValueError("The total to allocate cannot be negative.")
    fractions = [Fraction(Decimal(w)) for w in weights]
    if any(w < 0 for w in fractions):
        raise ValueError("Weights cannot be negative.")
    weight_sum = sum(fractions, Fraction(0))
    if weight_sum == 0:
        raise ValueError("At least one weight must be above zero.")
    units = int(total.scaleb(places))
    exact = [units * w / weight_sum for w in fractions]
    floors = [int(e) for e in exact]  # exact shares are non-negative: int() floors
    left = units - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return [Decimal(n).scaleb(-places).quantize(unit) for n in floors]


def allocate_by_month(month_totals: Sequence[Decimal], weights: Sequence[Decimal | int],
                      places: int = 2) -> list[list[Decimal]]:
    """Split a target phased by month among children: one row of months per child.

    Every month's parts add up exactly to that month's total, every child's year equals
    its largest-remainder share of the year (`allocate_exactly`), no part is negative and
    a child of weight zero gets nothing. Splitting each month on its own would not do:
    the rounding would drift the same way every month (a 100,000 target split evenly in
    two would come out 50,000.04 and 49,999.96).
    """
    unit = Decimal(1).scaleb(-places)
    columns = [int(Decimal(t).quantize(unit, rounding=ROUND_HALF_EVEN).scaleb(places))
               for t in month_totals]
    if any(c < 0 for c in columns):
        raise ValueError("A month's total cannot be negative.")
    rows = [int(p.scaleb(places)) for p in allocate_exactly(
        Decimal(sum(columns)).scaleb(-places), weights, places)]
    shares = [Fraction(Decimal(w)) for w in weights]
    total_weight = sum(shares, Fraction(0))
    shares = [s / total_weight for s in shares]
    matrix = _fill_months(columns, shares)
    _repair_rows(matrix, rows)
    return [[Decimal(n).scaleb(-places).quantize(unit) for n in row] for row in matrix]


def _fill_months(columns: list[int], shares: list[Fraction]) -> list[list[int]]:
    """Month by month: each child's floor share, then the left-over units to the children
    furthest behind their exact share of the year to date."""
    given = [0] * len(shares)
    matrix = [[0] * len(columns) for _ in shares]
    to_date = 0
    for j, column in enumerate(columns):
        to_date += column
        base = [int(column * s) for s in shares]
        left = column - sum(base)
        behind = sorted((i for i, s in enumerate(shares) if s > 0),
                        key=lambda i: (-(shares[i] * to_date - given[i] - base[i]), i))
        for i in behind[:left]:
            base[i] += 1
        for i, units in enumerate(base):
            matrix[i][j] = units
            given[i] += units
    return matrix


def _repair_rows(matrix: list[list[int]], rows: list[int]) -> None:
    """Move single units within a month from children above their year share to children
    below it; month totals do not change and no cell goes below zero."""
    over = [i for i, row in enumerate(matrix) if sum(row) > rows[i]]
    under = [i for i, row in enumerate(matrix) if sum(row) < rows[i]]
    while over and under:
        giver, taker = over[-1], under[-1]
        month = max(range(len(matrix[giver])), key=lambda j: matrix[giver][j])
        matrix[giver][month] -= 1
        matrix[taker][month] += 1
        if sum(matrix[giver]) == rows[giver]:
            over.pop()
        if sum(matrix[taker]) == rows[taker]:
            under.pop()
