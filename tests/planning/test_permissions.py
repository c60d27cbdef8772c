"""Who may do what with the West team's plan: one table, one test per row."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesplan.planning import access, services
from salesplan.planning.models import Plan
from salesplan.planning.selectors import objective_rows

from .conftest import FY

# role attribute on the org fixture → (sees, edits, approves, commits)
MATRIX = {
    "admin": (True, True, True, False),
    "vp": (True, True, True, False),  # manages the region above West
    "west_manager": (True, True, False, False),  # owner: edits, never approves own plan
    "east_manager": (False, False, False, False),
    "west_rep": (True, False, False, True),
    "east_rep": (False, False, False, False),
    "marketer": (True, False, False, False),
    "executive": (True, False, False, False),
}


@pytest.mark.parametrize("who", MATRIX)
def test_plan_permissions(org, west_plan, who):
    user = getattr(org, who)
    sees, edits, approves, commits = MATRIX[who]
    assert access.visible_plans(user).filter(pk=west_plan.pk).exists() == sees
    assert access.can_edit(user, west_plan) == edits
    assert access.can_approve(user, west_plan) == approves
    try:
        services.submit_commitment(west_plan, by=user, measure="bookings", months=["1"] * 12)
    except PermissionDenied:
        committed = False
    else:
        committed = True
    assert committed == commits


def test_plan_list_queries_do_not_grow_with_plans(org, api_as):
    api = api_as(org.admin)
    services.create_plan(by=org.admin, name="One", fiscal_year=FY, team=org.west)
    api.get("/plans")
    with CaptureQueriesContext(connection) as one:
        assert len(api.get("/plans").data["items"]) == 1
    for year in range(FY + 1, FY + 6):
        services.create_plan(by=org.admin, name=f"FY{year}", fiscal_year=year, team=org.west)
    with CaptureQueriesContext(connection) as six:
        assert len(api.get("/plans").data["items"]) == 6
    assert len(six) == len(one)


def test_a_rep_sees_the_plans_above_their_team_and_only_their_lines(org, west_plan):
    company = services.create_plan(by=org.admin, name="Company", fiscal_year=FY)
    region = services.create_plan(by=org.vp, name="Region", fiscal_year=FY, team=org.region)
    east = services.create_plan(by=org.east_manager, name="East", fiscal_year=FY,
                                team=org.east)
    assert set(access.visible_plans(org.west_rep)) == {company, region, west_plan}
    assert east not in access.visible_plans(org.west_rep)
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=Decimal("10"))
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    plan = Plan.objects.get(pk=west_plan.pk)
    assert [r.objective.rep for r in objective_rows(plan, org.west_rep)] == [org.west_rep]


def test_an_admin_starts_a_plan_its_team_manager_owns(org):
    plan = services.create_plan(by=org.admin, name="East", fiscal_year=FY, team=org.east)
    assert plan.owner == org.east_manager
    assert access.can_edit(org.east_manager, plan) and not access.can_approve(
        org.east_manager, plan)
