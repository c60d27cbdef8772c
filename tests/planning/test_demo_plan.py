"""The demo plan is run as a manager would: resources, an effort run applied as activity
targets, an evaluation and a review — all through the services."""

import pytest

from salesplan.demo.build import build_demo
from salesplan.org.models import Role, User
from salesplan.planning.models import (
    BudgetLine,
    EffortAllocationRun,
    Level,
    Measure,
    Plan,
    PlanResource,
    PlanReview,
    PlanStatus,
)

pytestmark = pytest.mark.django_db


def test_demo_plan_has_resources_a_call_plan_and_a_review():
    build_demo(seed=5, accounts=200, parallel=False)
    plan = Plan.objects.get(status=PlanStatus.ACTIVE)
    reps = User.objects.filter(role=Role.REP)
    assert PlanResource.objects.filter(plan=plan, user__in=reps).count() == reps.count()
    assert PlanResource.objects.filter(plan=plan, user__isnull=True).exists()  # planned hires
    assert BudgetLine.objects.filter(plan=plan).count() >= 12
    run = EffortAllocationRun.objects.get(plan=plan)
    assert run.status == "succeeded", run.message
    assert run.applied_at is not None
    assert plan.objectives.filter(measure=Measure.ACTIVITIES, level=Level.REP).exists()
    review = PlanReview.objects.get(plan=plan)
    assert review.snapshot["rows"]
