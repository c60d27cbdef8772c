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
from salesplan.core.listing import Page, keyset_page
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


# Days in stage on a board card: up to AGEING_AFTER_DAYS the deal is fresh; after it the
# card turns amber (ageing), after STALE_AFTER_DAYS red (stale).
AGEING_AFTER_DAYS = 14
STALE_AFTER_DAYS = 30
BOARD_PAGE_SIZE = 25


def _board_deals(user, pipeline: Pipeline, params) -> QuerySet[Opportunity]:
    return OPPORTUNITY_LIST.apply(Opportunity.objects.visible_to(user), params).filter(
        pipeline=pipeline)


def board_summaries(user, pipeline: Pipeline, params) -> dict[int, dict]:
    """Per stage: the count of the visible deals and, per currency, their total and
    weighted total (amount times the deal's probability); currencies are never added."""
    weighted = ExpressionWrapper(F("amount") * F("probability") / 100,
                                 output_field=DecimalField(max_digits=22, decimal_places=4))
    rows = (_board_deals(user, pipeline, params).values("stage_id", "currency")
            .annotate(n=Count("id"), total=Sum("amount"), weighted=Sum(weighted))
            .order_by("stage_id", "currency"))
    summaries: dict[int, dict] = {}
    for row in rows:
        summary = summaries.setdefault(row["stage_id"], {"count": 0, "totals": []})
        summary["count"] += row["n"]
        summary["totals"].append({
            "currency": row["currency"],
            "amount": quantize(Decimal(row["total"] or 0), row["currency"]),
            "weighted": quantize(Decimal(row["weighted"] or 0), row["currency"]),
            "count": row["n"]})
    return summaries


def board_cards(user, pipeline: Pipeline, stage: Stage, params, *, cursor: str | None = None,
                limit: int = BOARD_PAGE_SIZE, only: int | None = None,
                with_owners: bool = True) -> Page:
    """One page of a stage's visible deals, closest close date first, with
    `days_in_stage` and `ageing` ("fresh", "ageing", "stale") on each; the page's
    next_cursor leads on to the following cards. `only` narrows it to one deal (a card
    drawn on its own)."""
    entered = (OpportunityChange.objects
               .filter(opportunity=OuterRef("pk"), field=OpportunityChange.Field.STAGE,
                       to_stage=OuterRef("stage_id"))
               .order_by("-changed_at").values("changed_at")[:1])
    deals = (_board_deals(user, pipeline, params).filter(stage=stage).select_related("account")
             .annotate(entered_stage_at=Coalesce(Subquery(entered), F("created_at"))))
    if only is not None:
        deals = deals.filter(pk=only)
    page = keyset_page(deals, sort_field="close_date", sort_key="close_date", cursor=cursor,
                       limit=limit)
    now = company_now()
    for deal in page.items:
        deal.days_in_stage = max(0, (now - deal.entered_stage_at).days)
        deal.ageing = ("stale" if deal.days_in_stage > STALE_AFTER_DAYS else
                       "ageing" if deal.days_in_stage > AGEING_AFTER_DAYS else "fresh")
    if with_owners:
        prefetch_related_objects(page.items, "owner")
    return page


def board(user, pipeline: Pipeline, params, per_stage: int = BOARD_PAGE_SIZE) -> list[dict]:
    """Columns of the pipeline board: each stage with its summary (`board_summaries`)
    and, for open stages, the first page of its cards (`board_cards`)."""
    summaries = board_summaries(user, pipeline, params)
    columns = []
    all_deals: list[Opportunity] = []
    for stage in pipeline.stages.order_by("position"):
        deals: list[Opportunity] = []
        next_cursor = None
        if stage.kind == StageKind.OPEN:
            page = board_cards(user, pipeline, stage, params, limit=per_stage,
                               with_owners=False)
            deals, next_cursor = page.items, page.next_cursor
            all_deals.extend(deals)
        summary = summaries.get(stage.pk, {"count": 0, "totals": []})
        columns.append({"stage": stage, "deals": deals, "next_cursor": next_cursor, **summary})
    # Owners in one query for the whole board, not one per column.
    prefetch_related_objects(all_deals, "owner")
    return columns


def stage_history(opportunity: Opportunity) -> QuerySet[OpportunityChange]:
    """A deal's stage and amount changes with what their lines show: a stage is named
    with its pipeline (one query for them all, not two per stage move)."""
    return opportunity.changes.select_related("from_stage__pipeline", "to_stage__pipeline",
                                              "changed_by")


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
