"""`salesplan plan`: the same services from the command line."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from salesplan.planning.models import Objective, Plan

from .conftest import FY, won


def run(*args) -> str:
    out = StringIO()
    call_command("plan", *args, stdout=out)
    return out.getvalue()


def test_a_plan_from_target_to_actuals(org, west_plan):
    as_manager = ("--as", org.west_manager.username)
    shown = run("target", str(west_plan.pk), "bookings", "1200", *as_manager)
    assert "Bookings · West: 1,200.00" in shown
    top = Objective.objects.get(plan=west_plan, parent=None)
    allocated = run("allocate", str(west_plan.pk), str(top.pk), "--to", "reps", *as_manager)
    assert allocated.count(": 600.00") == 2
    assert "Submitted" in run("submit", str(west_plan.pk), *as_manager)
    with pytest.raises(CommandError, match="may not approve"):
        run("approve", str(west_plan.pk), *as_manager)
    assert "Approved" in run("approve", str(west_plan.pk), "--as", org.vp.username)
    assert Plan.objects.get(pk=west_plan.pk).revision_number == 1
    won(org.west_rep, "300", date(FY, 1, 15))
    actual = run("actual", str(west_plan.pk), "--as-of", f"{FY}-01-31")
    assert "300.00" in actual and "300.0%" in actual  # 300 against 100 due in January
    assert "Not submitted" in run("reconcile", str(west_plan.pk))
    with pytest.raises(CommandError, match="No plan"):
        run("show", str(west_plan.pk), "--as", org.east_manager.username)
