"""Reads of pipelines and opportunities, restricted to what the user may see."""

from django.db.models import Count, Prefetch, QuerySet, Sum

from .filters import OPPORTUNITY_LIST
from .models import Opportunity, OpportunityChange, Pipeline, Stage, StageKind


def opportunity_list(user, params) -> QuerySet[Opportunity]:
    return OPPORTUNITY_LIST.apply(Opportunity.objects.visible_to(user), params).select_related(
        "owner", "account", "stage")


def pipelines() -> QuerySet[Pipeline]:
    return Pipeline.objects.filter(active=True).prefetch_related(
        Prefetch("stages", queryset=Stage.objects.order_by("position")))


def board(user, pipeline: Pipeline, params, per_stage: int = 50) -> list[dict]:
    """Columns of the pipeline board: each open stage's deals (closest close date first),
    with the count and total of all the stage's visible deals."""
    base = OPPORTUNITY_LIST.apply(Opportunity.objects.visible_to(user), params).filter(
        pipeline=pipeline)
    totals = {
        row["stage_id"]: row
        for row in base.values("stage_id").annotate(n=Count("id"), total=Sum("amount")).order_by()
    }
    columns = []
    for stage in pipeline.stages.order_by("position"):
        deals = []
        if stage.kind == StageKind.OPEN:
            deals = list(base.filter(stage=stage).select_related("account", "owner")
                         .order_by("close_date", "id")[:per_stage])
        summary = totals.get(stage.pk, {"n": 0, "total": 0})
        columns.append({"stage": stage, "deals": deals, "count": summary["n"],
                        "total": summary["total"] or 0})
    return columns


def stage_history(opportunity: Opportunity) -> QuerySet[OpportunityChange]:
    return opportunity.changes.select_related("from_stage", "to_stage", "changed_by")
