"""Reads of pipelines and opportunities, restricted to what the user may see."""

from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet, Sum, prefetch_related_objects

from .filters import OPPORTUNITY_LIST
from .models import Opportunity, OpportunityChange, Pipeline, Stage, StageKind


def opportunity_list(user, params) -> QuerySet[Opportunity]:
    # Users and stages are prefetched, not joined (see customers.selectors).
    return OPPORTUNITY_LIST.apply(Opportunity.objects.visible_to(user), params).select_related(
        "account").prefetch_related("owner", "stage")


def pipelines() -> QuerySet[Pipeline]:
    return Pipeline.objects.filter(active=True).prefetch_related(
        Prefetch("stages", queryset=Stage.objects.order_by("position")))


def board(user, pipeline: Pipeline, params, per_stage: int = 50) -> list[dict]:
    """Columns of the pipeline board: each open stage's deals (closest close date first),
    with the count of all the stage's visible deals and their total in each currency
    (amounts in different currencies are never added together)."""
    base = OPPORTUNITY_LIST.apply(Opportunity.objects.visible_to(user), params).filter(
        pipeline=pipeline)
    counts: dict[int, int] = {}
    totals: dict[int, list[dict]] = {}
    rows = (base.values("stage_id", "currency").annotate(n=Count("id"), total=Sum("amount"))
            .order_by("stage_id", "currency"))
    for row in rows:
        counts[row["stage_id"]] = counts.get(row["stage_id"], 0) + row["n"]
        totals.setdefault(row["stage_id"], []).append(
            {"currency": row["currency"], "amount": row["total"] or Decimal("0"),
             "count": row["n"]})
    columns = []
    all_deals: list[Opportunity] = []
    for stage in pipeline.stages.order_by("position"):
        deals: list[Opportunity] = []
        if stage.kind == StageKind.OPEN:
            deals = list(base.filter(stage=stage).select_related("account")
                         .order_by("close_date", "id")[:per_stage])
            all_deals.extend(deals)
        columns.append({"stage": stage, "deals": deals, "count": counts.get(stage.pk, 0),
                        "totals": totals.get(stage.pk, [])})
    # Owners in one query for the whole board, not one per column.
    prefetch_related_objects(all_deals, "owner")
    return columns


def stage_history(opportunity: Opportunity) -> QuerySet[OpportunityChange]:
    return opportunity.changes.select_related("from_stage", "to_stage", "changed_by")
