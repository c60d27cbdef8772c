"""API for pipelines and opportunities: records, stage moves and their history."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django.http import HttpResponse
from ninja import Field, Router, Schema

from salesplan.core.api_support import (
    Currency,
    InputSchema,
    MoneyIn,
    MoneyOut,
    RecordEndpoints,
    RecordId,
    Version,
    choice_of,
    full_name,
    patch_schema,
)
from salesplan.core.jobs_api import ACCEPTED
from salesplan.core.references import resolve_references

from . import selectors, services
from .filters import OPPORTUNITY_LIST
from .models import ForecastCategory, Opportunity, Stage

# --- Pipelines -------------------------------------------------------------------------


class StageOut(Schema):
    id: int
    name: str
    position: int
    probability: int
    kind: str


class PipelineOut(Schema):
    id: int
    name: str
    kind: str
    is_default: bool
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(pipeline) -> list:
        return list(pipeline.stages.all())


pipeline_router = Router(tags=["pipelines"])


@pipeline_router.get("", response=list[PipelineOut])
def list_pipelines(request):
    """The active pipelines, default first, each with its stages in order."""
    return list(selectors.pipelines())


# --- Opportunities ---------------------------------------------------------------------


class OpportunityIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    account_id: RecordId
    contact_id: RecordId | None = Field(None, description="A contact of the same account.")
    pipeline_id: RecordId | None = Field(None, description="Default: the default pipeline.")
    stage_id: RecordId | None = Field(None, description="Default: the pipeline's first stage.")
    amount: MoneyIn = Field(Decimal("0"), description="A decimal amount as a string.")
    currency: Currency = "USD"
    close_date: date | None = Field(None, description="Default: today.")
    probability: int | None = Field(None, ge=0, le=100, description="Default: the stage's.")
    forecast_category: choice_of(ForecastCategory) = ForecastCategory.PIPELINE.value
    next_step: str = Field("", max_length=255)
    lost_reason: str = Field("", max_length=255)
    owner_id: RecordId | None = Field(None, description="Default: you.")


# The stage changes only with the move action, so an edit cannot skip its rules.
OpportunityPatch = patch_schema(OpportunityIn, "OpportunityPatch",
                                exclude=("pipeline_id", "stage_id"))


class OpportunityOut(Schema):
    id: int
    name: str
    account_id: int
    account_name: str
    contact_id: int | None
    pipeline_id: int
    stage_id: int
    stage_name: str
    status: str = Field(..., description="open, won or lost (follows the stage).")
    amount: MoneyOut
    currency: str
    close_date: date
    probability: int
    forecast_category: str
    next_step: str
    lost_reason: str
    owner_id: int
    owner_name: str
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_account_name(opportunity) -> str:
        return opportunity.account.name

    @staticmethod
    def resolve_stage_name(opportunity) -> str:
        return opportunity.stage.name

    @staticmethod
    def resolve_owner_name(opportunity) -> str:
        return full_name(opportunity.owner)


opportunities = RecordEndpoints(
    name="opportunity", plural="opportunities", model=Opportunity, listing=OPPORTUNITY_LIST,
    select=selectors.opportunity_list, related=("owner", "account", "stage"),
    out=OpportunityOut, create_in=OpportunityIn, patch_in=OpportunityPatch,
    create=services.create_opportunity, update=services.update_opportunity,
    delete=services.delete_opportunity)

opportunity_router = Router(tags=["opportunities"])


# --- Bulk actions (the work is customers.bulk's, for accounts and opportunities) -------


class BulkIn(InputSchema):
    """A bulk action on rows ticked by id, or on everything a list filter matches."""

    action: str = Field(..., max_length=40, description=(
        "change_owner, delete and export (every list); change_stage (opportunities); "
        "add_to_campaign (accounts: their contacts; contacts; leads); fix_boundaries "
        "(accounts, opportunities: give each to its territory's owner)."))
    ids: list[int] | None = Field(None, description="The rows chosen (give ids or filter).")
    filter: dict[str, Any] | None = Field(
        None, description="Everything the list's filter matches: the list's own parameters "
                          "(e.g. {\"owner\": [3], \"lifecycle\": \"customer\", \"q\": \"ac\"}).")
    values: dict[str, Any] = Field(
        default_factory=dict, description="change_owner: {owner}; change_stage: {stage, "
                                          "lost_reason (needed for a lost stage)}; "
                                          "add_to_campaign: {campaign, response (default "
                                          "sent)}; delete, export, fix_boundaries: {}.")
    preview: bool = Field(True, description="Only say what would happen (default); false "
                                            "starts the job.")


class BulkRowOut(Schema):
    id: int
    name: str
    before: str = ""
    after: str = ""
    reason: str = Field("", description="Why the row is refused (or a note on it).")


class BulkPreviewOut(Schema):
    """What a bulk action would do; every refused row is refused on its own."""

    action: str
    count: int = Field(description="Rows selected.")
    checked: int = Field(description="Rows the preview tried (the first ones of a "
                                     "large selection); the job tries all.")
    will_change: int
    will_refuse: int
    sample: list[BulkRowOut] = Field(description="A few rows, before → after.")
    refused: list[BulkRowOut] = Field(description="Rows that will be refused, and why.")


BULK_RESPONSES: dict[str, Any] = {
    "response": {200: BulkPreviewOut, **ACCEPTED["response"]},
    "openapi_extra": ACCEPTED["openapi_extra"],
}


@opportunity_router.post("/bulk", **BULK_RESPONSES)
def bulk_opportunities(request, response: HttpResponse, payload: BulkIn):
    """Move many deals to a stage (a lost stage needs `lost_reason`) or delete them: a
    preview (`preview`: true), then a background job whose `result.rows` says per row
    `done` or `refused` with a reason; a refused row is left as it was."""
    from salesplan.customers.api import run_bulk  # the bulk work lives with accounts

    return run_bulk(request, response, "opportunity", payload)


opportunities.register(opportunity_router)  # after /bulk, which /{id} would otherwise take


class MoveIn(InputSchema):
    stage_id: RecordId = Field(..., description="A stage of the opportunity's pipeline.")
    version: Version
    lost_reason: str = Field("", max_length=255, description="Required for a lost stage.")


@opportunity_router.post("/{id}/move", response=OpportunityOut)
def move_opportunity(request, id: int, payload: MoveIn):
    """Move the deal to another stage of its pipeline; closing it won or lost is a move
    to a won or lost stage. The probability follows the stage."""
    opportunity = opportunities.get(request, id)
    stage = cast(Stage, resolve_references(request.auth, {"stage": payload.stage_id})["stage"])
    services.move_opportunity(opportunity, stage, by=request.auth,
                              expected_version=payload.version,
                              lost_reason=payload.lost_reason)
    return opportunities.reread(opportunity)


class OpportunityChangeOut(Schema):
    id: int
    field: str = Field(..., description="stage, amount or close_date")
    from_stage_id: int | None
    from_stage_name: str | None
    to_stage_id: int | None
    to_stage_name: str | None
    from_amount: MoneyOut | None
    to_amount: MoneyOut | None
    currency: str
    from_close_date: date | None
    to_close_date: date | None
    changed_at: datetime
    changed_by_id: int | None
    changed_by_name: str


@opportunity_router.get("/{id}/history", response=list[OpportunityChangeOut])
def opportunity_history(request, id: int):
    """Every change of the deal's stage, amount and close date, oldest first."""
    opportunity = opportunities.get(request, id)
    return [
        {
            "id": change.pk, "field": change.field,
            "from_stage_id": change.from_stage_id,
            "from_stage_name": change.from_stage.name if change.from_stage else None,
            "to_stage_id": change.to_stage_id,
            "to_stage_name": change.to_stage.name if change.to_stage else None,
            "from_amount": change.from_amount, "to_amount": change.to_amount,
            "currency": opportunity.currency,
            "from_close_date": change.from_close_date, "to_close_date": change.to_close_date,
            "changed_at": change.changed_at, "changed_by_id": change.changed_by_id,
            "changed_by_name": full_name(change.changed_by),
        }
        for change in selectors.stage_history(opportunity)
    ]
