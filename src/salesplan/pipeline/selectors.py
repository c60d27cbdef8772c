"""Reads of pipelines and opportunities, restricted to what the user may see."""

from datetime import timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import (
    Avg,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce

from salesplan.core.clock import company_now, company_today
from salesplan.core.money import quantize

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


def open_pipeline_by_owner(user, owner_ids: list[int]) -> list[dict]:
    """Open deals of these owners that the user sees, summed per owner, stage and
    currency: {owner_id, stage_id, currency, count, amount, weighted}, where `weighted`
    is each deal's amount times its own probability. One grouped query, whatever the
    number of deals; amounts in different currencies are never added together."""
    weighted = ExpressionWrapper(F("amount") * F("probability") / 100,
                                 output_field=DecimalField(max_digits=22, decimal_places=4))
    rows = (Opportunity.objects.visible_to(user)
            .filter(status=StageKind.OPEN, owner_id__in=owner_ids)
            .order_by().values("owner_id", "stage_id", "currency")
            .annotate(n=Count("id"), total=Sum("amount"), weighted=Sum(weighted)))
    return [{"owner_id": r["owner_id"], "stage_id": r["stage_id"], "currency": r["currency"],
             "count": r["n"], "amount": quantize(Decimal(r["total"] or 0), r["currency"]),
             "weighted": quantize(Decimal(r["weighted"] or 0), r["currency"])} for r in rows]


# --- Deals stalled in their stage --------------------------------------------------------

STALL_FACTOR = 2  # stalled: in the stage more than twice as long as deals usually stay
STALL_MIN_EXITS = 5  # a stage's norm needs at least this many deals that left it
STALL_HISTORY_DAYS = 365


def _entered_stage(stage_ref: str, before_ref: str | None = None) -> Coalesce:
    """When the outer change's (or deal's) deal last entered the stage `stage_ref` names:
    its latest stage change into it, else the deal's creation."""
    on_deal = "opportunity" if before_ref else "pk"
    changes = OpportunityChange.objects.filter(
        opportunity=OuterRef(on_deal), field=OpportunityChange.Field.STAGE,
        to_stage=OuterRef(stage_ref))
    if before_ref:
        changes = changes.filter(changed_at__lt=OuterRef(before_ref))
    latest = changes.order_by("-changed_at", "-id").values("changed_at")[:1]
    created = F("opportunity__created_at") if before_ref else F("created_at")
    return Coalesce(Subquery(latest), created)


def stage_norms() -> dict[int, timedelta]:
    """The usual time in each stage: the average time deals that left the stage in the
    last year had spent in it, for stages with at least STALL_MIN_EXITS such deals.
    One grouped query, kept for the day (it reads a year of stage changes)."""
    key = f"stage-norms:{company_today()}"
    found = cache.get(key)
    if found is not None:
        return found
    since = company_now() - timedelta(days=STALL_HISTORY_DAYS)
    spent = ExpressionWrapper(F("changed_at") - F("entered"), output_field=DurationField())
    rows = (OpportunityChange.objects
            .filter(field=OpportunityChange.Field.STAGE, changed_at__gte=since,
                    from_stage__isnull=False)
            .annotate(entered=_entered_stage("from_stage", "changed_at"))
            .order_by().values("from_stage_id")
            .annotate(n=Count("id"), usual=Avg(spent)))
    found = {r["from_stage_id"]: r["usual"] for r in rows
             if r["n"] >= STALL_MIN_EXITS and r["usual"] is not None}
    cache.set(key, found, 24 * 3600)
    return found


def stalled_in_stage(deals: QuerySet[Opportunity], *, limit: int) -> list[tuple]:
    """The open deals among these that have been in their stage more than STALL_FACTOR
    times the stage's norm (`stage_norms`), as (id, close date, stage id, entered the
    stage at), at most `limit` of them. One query."""
    now = company_now()
    norms = stage_norms()
    late = Q(pk__in=[])
    for stage_id, usual in norms.items():
        late |= Q(stage_id=stage_id, entered_stage_at__lt=now - usual * STALL_FACTOR)
    return list(deals.filter(status=StageKind.OPEN, stage_id__in=list(norms))
                .annotate(entered_stage_at=_entered_stage("stage")).filter(late).order_by()
                .values_list("pk", "close_date", "stage_id", "entered_stage_at")[:limit])
