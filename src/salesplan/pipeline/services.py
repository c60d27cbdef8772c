"""Every write to opportunities: creation, edits, and moves between stages.

Stage changes are their own operation (the board, the "move" endpoint, closing won or
lost); an ordinary edit never changes the stage. Every stage, amount and close-date
change is written to OpportunityChange.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from salesplan.core import hooks
from salesplan.core.audit import record_changes
from salesplan.core.clock import company_today
from salesplan.core.crud import create_record, delete_record, update_record
from salesplan.core.permissions import require
from salesplan.core.records import claim_version
from salesplan.core.references import resolve_references

from .models import ForecastCategory, Opportunity, OpportunityChange, Pipeline, Stage, StageKind

OPPORTUNITY_FIELDS = {
    "name", "account", "contact", "pipeline", "stage", "amount", "currency", "close_date",
    "probability", "forecast_category", "next_step", "lost_reason", "owner",
}
EDITABLE_FIELDS = OPPORTUNITY_FIELDS - {"stage", "pipeline"}


def default_pipeline() -> Pipeline:
    pipeline = Pipeline.objects.filter(active=True).order_by("-is_default", "position").first()
    if pipeline is None:
        raise ValidationError({"pipeline": "No pipeline is set up yet."})
    return pipeline


def _apply_stage(opportunity: Opportunity, stage: Stage, *, set_probability: bool,
                 now=None) -> None:
    opportunity.stage = stage
    opportunity.status = stage.kind
    if set_probability:
        opportunity.probability = stage.probability
    if stage.kind == StageKind.OPEN:
        opportunity.closed_at = None
        if opportunity.forecast_category in (ForecastCategory.CLOSED, ForecastCategory.OMITTED):
            opportunity.forecast_category = ForecastCategory.PIPELINE
    else:
        opportunity.closed_at = opportunity.closed_at or now or timezone.now()
        opportunity.forecast_category = (
            ForecastCategory.CLOSED if stage.kind == StageKind.WON else ForecastCategory.OMITTED
        )


@transaction.atomic
def create_opportunity(*, by, data: dict) -> Opportunity:
    """Create a deal; the pipeline defaults to the company's default pipeline and the
    stage to its first stage, and the probability to the stage's default."""
    values = resolve_references(by, {k: v for k, v in data.items() if k in {"pipeline", "stage"}})
    pipeline = values.get("pipeline") or default_pipeline()
    stage = values.get("stage") or pipeline.stages.order_by("position").first()
    if stage is None or stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": f"The stage does not belong to pipeline {pipeline}."})
    data = {**data, "pipeline": pipeline, "stage": stage}
    data.setdefault("probability", stage.probability)
    data.setdefault("close_date", company_today())
    if data.get("amount") is None:
        data["amount"] = Decimal("0")
    if data.get("probability") is None:
        data["probability"] = stage.probability
    opportunity = create_record(Opportunity, "opportunity", by=by, data=data,
                                allowed=OPPORTUNITY_FIELDS | {"status", "closed_at"})
    _check_contact_belongs(opportunity)
    hooks.record_placed_on_account(by, opportunity.account)  # territories: boundaries
    if stage.kind != StageKind.OPEN:
        _apply_stage(opportunity, stage, set_probability=False)
    opportunity.status = stage.kind
    opportunity.save(update_fields=["status", "closed_at", "forecast_category"])
    OpportunityChange.objects.create(
        opportunity=opportunity, field=OpportunityChange.Field.STAGE, to_stage=stage,
        to_amount=None, changed_at=timezone.now(), changed_by=by,
    )
    if stage.kind != StageKind.OPEN:
        hooks.opportunity_changed(opportunity, by=by)
    return opportunity


def _check_contact_belongs(opportunity: Opportunity) -> None:
    contact = opportunity.contact if opportunity.contact_id else None
    if contact is not None and contact.account_id != opportunity.account_id:
        raise ValidationError({"contact": "The contact does not belong to this account."})


@transaction.atomic
def update_opportunity(opportunity: Opportunity, *, by, data: dict,
                       expected_version: int | None = None) -> dict:
    """Edit a deal's fields (not its stage: see move_opportunity)."""
    for status_field in ("stage", "pipeline"):
        if status_field in data:
            raise ValidationError(
                {status_field: "Change the stage with the move action, not an edit."})
    before_amount, before_close = opportunity.amount, opportunity.close_date
    changes = update_record(opportunity, "opportunity", by=by, data=data,
                            allowed=EDITABLE_FIELDS, expected_version=expected_version)
    _check_contact_belongs(opportunity)
    hooks.record_placed_on_account(by, opportunity.account)  # territories: boundaries
    _record_value_changes(opportunity, by, before_amount, before_close)
    hooks.opportunity_changed(opportunity, by=by)
    return changes


def _record_value_changes(opportunity: Opportunity, by, before_amount: Decimal,
                          before_close: date) -> None:
    now = timezone.now()
    rows = []
    if Decimal(opportunity.amount) != Decimal(before_amount):
        rows.append(OpportunityChange(
            opportunity=opportunity, field=OpportunityChange.Field.AMOUNT,
            from_amount=before_amount, to_amount=opportunity.amount, changed_at=now, changed_by=by))
    if opportunity.close_date != before_close:
        rows.append(OpportunityChange(
            opportunity=opportunity, field=OpportunityChange.Field.CLOSE_DATE,
            from_close_date=before_close, to_close_date=opportunity.close_date, changed_at=now,
            changed_by=by))
    OpportunityChange.objects.bulk_create(rows)


@transaction.atomic
def move_opportunity(opportunity: Opportunity, stage: Stage, *, by,
                     expected_version: int | None = None, lost_reason: str = "") -> Opportunity:
    """Move a deal to another stage of its pipeline (the board's drag and drop)."""
    require(by, "opportunity", "change", opportunity)
    current = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    claim_version(current, expected_version)  # of concurrent moves from one read, one passes
    if stage.pipeline_id != current.pipeline_id:
        raise ValidationError({"stage": "The stage belongs to another pipeline."})
    if stage.kind == StageKind.LOST and not (lost_reason or current.lost_reason):
        raise ValidationError({"lost_reason": "Say why the deal was lost."})
    if stage.pk == current.stage_id:
        return current
    if lost_reason:
        current.lost_reason = lost_reason
    _change_stage(current, stage, by)
    return current


def _change_stage(current: Opportunity, stage: Stage, by, extra: dict | None = None) -> None:
    """Put a locked deal in another stage: one instant for the move, its stage-history row
    and its audit entry (a deal closed by this move closed when it moved)."""
    from_stage = current.stage
    now = timezone.now()
    _apply_stage(current, stage, set_probability=True, now=now)
    current.save()
    OpportunityChange.objects.create(
        opportunity=current, field=OpportunityChange.Field.STAGE, from_stage=from_stage,
        to_stage=stage, changed_at=now, changed_by=by)
    record_changes(current, {"stage": (from_stage, stage), **(extra or {})}, by)
    hooks.opportunity_changed(current, by=by)


@transaction.atomic
def reopen_opportunity(opportunity: Opportunity, *, by,
                       expected_version: int | None = None) -> Opportunity:
    """Undo a close: put a won or lost deal back in the open stage it was closed from.
    The close stays in the stage history and the audit, followed by the reopening."""
    require(by, "opportunity", "change", opportunity)
    current = Opportunity.objects.select_for_update().select_related("stage").get(
        pk=opportunity.pk)
    claim_version(current, expected_version)
    if current.status == StageKind.OPEN:
        raise ValidationError({"stage": "The deal is open already."})
    closing = (OpportunityChange.objects
               .filter(opportunity=current, field=OpportunityChange.Field.STAGE,
                       to_stage_id=current.stage_id, from_stage__isnull=False)
               .select_related("from_stage").order_by("-changed_at", "-id").first())
    previous = closing.from_stage if closing is not None else None
    if previous is None or previous.kind != StageKind.OPEN:
        raise ValidationError({"stage": "The deal was not closed from an open stage; "
                                        "move it to the stage it belongs in."})
    extra = {}
    if current.lost_reason:
        extra["lost_reason"] = (current.lost_reason, "")
        current.lost_reason = ""
    _change_stage(current, previous, by, extra)
    return current


def delete_opportunity(opportunity: Opportunity, *, by) -> None:
    with transaction.atomic():
        hooks.opportunity_changed(opportunity, by=by)  # receivers act after the commit
        delete_record(opportunity, "opportunity", by=by)
