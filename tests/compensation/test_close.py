"""Closing a period stores every line's trace (clawbacks and the explanation of a locked
statement read them), calculating it with the same queries however many reps the period
holds; the stored statements are the exact path's."""

from datetime import date
from decimal import Decimal as D

from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesplan.compensation import services
from salesplan.compensation.models import CompLine, CompStatement
from salesplan.org.models import Role
from tests.factories import make_user

from .conftest import won


def add_reps(org, comp, first: int, count: int) -> None:
    for i in range(first, first + count):
        rep = make_user(Role.REP, org.west, username=f"closer{i}")
        won(rep, str(10_000 + i), date(2026, 1, 5))
        services.add_adjustment(by=org.admin, rep=rep, period=comp.january,
                                amount=1, reason="Parking")


def queries_to_calculate_traced(period) -> int:
    with CaptureQueriesContext(connection) as queries:
        services.calculate_period(period, traced=True)
    return len(queries)


def test_closing_reads_and_writes_the_same_however_many_reps(org, comp):
    add_reps(org, comp, 0, 2)
    few = queries_to_calculate_traced(comp.january)
    add_reps(org, comp, 2, 9)
    assert queries_to_calculate_traced(comp.january) == few
    services.close_period(comp.january, by=org.admin, expected_version=comp.january.version)
    assert CompStatement.objects.filter(period=comp.january).count() == 11
    assert not CompLine.objects.filter(statement__period=comp.january,
                                       trace__isnull=True).exists()
    assert CompStatement.objects.get(rep__username="closer3", period=comp.january
                                     ).earned == D("201.06")  # 10,003.00 × 2 % + 1.00
