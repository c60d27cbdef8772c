"""allocate_exactly: parts add up exactly, never negative, proportional within a unit."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesplan.planning.allocation import allocate_by_month, allocate_exactly

weights_strategy = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30
                            ).filter(any)
totals = st.decimals(min_value=0, max_value=Decimal("1e12"), places=2)


@settings(deadline=None)  # exact fractions: slow examples on a busy machine are fine
@given(total=totals, weights=weights_strategy, places=st.integers(min_value=0, max_value=3))
def test_parts_add_up_exactly_are_non_negative_and_proportional(total, weights, places):
    parts = allocate_exactly(total, weights, places)
    unit = Decimal(1).scaleb(-places)
    rounded_total = total.quantize(unit)
    assert sum(parts) == rounded_total
    assert all(p >= 0 for p in parts)
    assert all(p.as_tuple().exponent == -places for p in parts)
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(rounded_total) * weight / weight_sum
        assert abs(Fraction(part) - exact) < Fraction(unit)
        if weight == 0:
            assert part == 0


def test_largest_remainder_by_hand():
    assert allocate_exactly(Decimal("100"), [1, 1, 1]) == [
        Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert allocate_exactly(Decimal("10.00"), [Decimal("0.2"), Decimal("0.5"), Decimal("0.3")]
                            ) == [Decimal("2.00"), Decimal("5.00"), Decimal("3.00")]
    assert allocate_exactly(Decimal("0.05"), [1, 2], places=2) == [Decimal("0.02"),
                                                                      Decimal("0.03")]


@pytest.mark.parametrize("total, weights", [
    (Decimal("-1"), [1]), (Decimal("1"), []), (Decimal("1"), [0, 0]), (Decimal("1"), [1, -1])])
def test_refuses_what_cannot_be_split(total, weights):
    with pytest.raises(ValueError):
        allocate_exactly(total, weights)


months_strategy = st.lists(st.decimals(min_value=0, max_value=Decimal("1e9"), places=2),
                           min_size=12, max_size=12)


@settings(deadline=None)
@given(months=months_strategy, weights=weights_strategy)
def test_monthly_split_adds_up_both_ways(months, weights):
    matrix = allocate_by_month(months, weights)
    for j, month_total in enumerate(months):
        assert sum(row[j] for row in matrix) == month_total
    assert [sum(row) for row in matrix] == allocate_exactly(sum(months), weights)
    assert all(cell >= 0 for row in matrix for cell in row)
    for row, weight in zip(matrix, weights, strict=True):
        if weight == 0:
            assert not any(row)


def test_an_even_monthly_split_does_not_drift():
    matrix = allocate_by_month(allocate_exactly(Decimal("100000"), [1] * 12), [1, 1])
    assert [sum(row) for row in matrix] == [Decimal("50000.00"), Decimal("50000.00")]
