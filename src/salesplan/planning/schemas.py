"""Request and response bodies of the plans API (`api.py`)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from salesplan.core.api_support import (
    InputSchema,
    MoneyIn,
    MoneyOut,
    RecordId,
    Version,
)
from salesplan.core.money import MAX_AMOUNT

from .models import PAYS_ABOVE_SEEN_MAX_PCT, AllocationMethod, Measure, Plan

MAX_ACTIVITY_RATE = 10_000  # meetings per deal, calls per meeting or per day

MeasureName = Literal[tuple(Measure.values)]
MonthValues = list[MoneyIn]


class PlanOut(Schema):
    id: int
    name: str
    fiscal_year: int
    team_id: int | None
    team_name: str | None
    owner_id: int
    currency: str
    status: str
    revision_number: int
    version: int
    approved_at: datetime | None

    @staticmethod
    def resolve_team_name(obj: Plan) -> str | None:
        return obj.team.name if obj.team else None


class PlanPage(Schema):
    items: list[PlanOut]
    next_cursor: str | None
    previous_cursor: str | None


class PlanIn(InputSchema):
    name: str = Field(min_length=1, max_length=200)
    fiscal_year: int = Field(ge=2000, le=2100, description="Named after the year it ends in.")
    team_id: RecordId | None = Field(None, description="Leave out for the company plan.")
    currency: str | None = Field(None, min_length=3, max_length=3)


class PlanPatch(InputSchema):
    name: str = Field(min_length=1, max_length=200)
    version: Version


class PlanVersionIn(InputSchema):
    """A change to a plan carries the plan's `version` you read (its status, targets and
    allocations are one plan to whoever edits it)."""

    version: Version


class ObjectiveOut(Schema):
    id: int
    parent_id: int | None
    measure: str
    level: str
    label: str
    depth: int
    team_id: int | None
    territory_id: int | None
    rep_id: int | None
    method: str
    months: list[MoneyOut] = Field(description="Fiscal months 1–12 (1: the year's first).")
    quarters: list[MoneyOut] = Field(description="Fiscal quarters 1–4.")
    total: MoneyOut


class TargetIn(InputSchema):
    measure: MeasureName
    total: MoneyIn
    phasing: Literal["even", "history", "profile"] = "even"
    profile: list[Decimal] | None = Field(None, description="12 monthly weights for 'profile'.")
    reason: str = Field("", max_length=2000,
                        description="Required once the plan is approved (makes a revision).")
    version: Version


class AllocateIn(InputSchema):
    objective_id: RecordId
    to: Literal["teams", "reps", "territories", "product_lines"]
    method: Literal[tuple(AllocationMethod.values)]
    weights: dict[str, Decimal] | None = Field(None, description=(
        "Custom weights: child id → weight; for product lines, name → weight (they name "
        "the lines, also with method 'even')."))
    reason: str = Field("", max_length=2000)
    version: Version


class RevisionSummary(Schema):
    number: int
    reason: str
    status: str
    created_at: datetime
    created_by_id: int | None


class RevisionOut(RevisionSummary):
    snapshot: list[dict[str, Any]]


class CommitmentIn(InputSchema):
    measure: MeasureName
    months: MonthValues = Field(min_length=12, max_length=12)


class CommitmentOut(Schema):
    rep_id: int
    measure: str
    month: int
    amount: MoneyOut


class ReconciliationRowOut(Schema):
    label: str
    level: str
    top_down: MoneyOut | None
    bottom_up: MoneyOut
    gap: MoneyOut | None
    submitted: bool


class ReconciliationOut(Schema):
    measure: str
    levels: list[ReconciliationRowOut]
    reps: list[ReconciliationRowOut]
    not_submitted: list[str]
    marketing: list[ReconciliationRowOut] = Field(
        description="Marketing's commitments per team against the team's target.")


class MarketingCommitmentIn(InputSchema):
    team_id: RecordId
    measure: Literal["leads", "pipeline_created"]
    months: MonthValues = Field(min_length=12, max_length=12)


class MarketingCommitmentOut(Schema):
    team_id: int
    measure: str
    month: int
    amount: MoneyOut


class ActualRowOut(Schema):
    label: str
    level: str
    depth: int
    targets: list[MoneyOut]
    actuals: list[MoneyOut]
    target: MoneyOut
    target_to_date: MoneyOut
    actual_to_date: MoneyOut
    attainment: Decimal | None = Field(description="Percent of the target to date.")
    gap: MoneyOut
    projection: MoneyOut
    pipeline: MoneyOut = Field(description="Open pipeline closing in the rest of the year.")
    weighted_pipeline: MoneyOut
    forecast_landing: MoneyOut = Field(description="Actual plus weighted pipeline.")
    coverage: Decimal | None = Field(description="Pipeline ÷ target still to book.")


class RevisionChangeOut(Schema):
    measure: str
    level: str
    label: str
    before: MoneyOut | None
    after: MoneyOut | None
    change: MoneyOut | None


class RatesOut(Schema):
    window_start: date
    window_end: date
    deal_size: MoneyOut | None
    win_rate: Decimal | None
    meetings_per_opportunity: Decimal | None
    calls_per_meeting: Decimal | None
    sources: dict[str, str] = Field(description="Per rate: history, entered or missing.")


class ActivityRowOut(Schema):
    label: str
    level: str
    depth: int
    target: MoneyOut
    opportunities: Decimal | None
    meetings: Decimal | None
    calls: Decimal | None
    calls_per_selling_day: Decimal | None
    capacity: Decimal | None = Field(description="Calls the line's reps can make in the year.")
    slack: Decimal | None = Field(description="Capacity less calls needed (negative: short).")


class ActivityPlanOut(Schema):
    rates: RatesOut
    selling_days: int
    rows: list[ActivityRowOut]


class RatesIn(Schema):
    # Bounded, so a rate like 1e300 is refused here rather than overflowing the sums.
    model_config = ConfigDict(allow_inf_nan=False)

    deal_size: Decimal | None = Field(None, gt=0, le=MAX_AMOUNT,
                                      description="Replaces the historical rate.")
    win_rate: Decimal | None = Field(None, gt=0, le=1)
    meetings_per_opportunity: Decimal | None = Field(None, ge=0, le=MAX_ACTIVITY_RATE)
    calls_per_meeting: Decimal | None = Field(None, ge=0, le=MAX_ACTIVITY_RATE)
    calls_per_day: Decimal | None = Field(None, ge=0, le=MAX_ACTIVITY_RATE, description=(
        "Calls a rep can make in a selling day: turns on the capacity check."))


PAYS_ABOVE_SEEN_HELP = (
    "The most calls a month you believe still pay, as % above the most seen in the "
    "history: every curve is trusted up to there. null: no curve past the most seen (a "
    "manager's curve past its +50% point).")


class EffortRunIn(InputSchema):
    basis: Literal["account", "segment"] = "account"
    margin_rate: Decimal = Field(Decimal("0.3"), ge=0, le=1)
    cost_per_hour: Decimal = Field(Decimal(50), ge=0)
    hours_per_call: Decimal = Field(Decimal(1), gt=0, le=24)
    call_share: Decimal = Field(Decimal("0.6"), ge=0, le=1, description=(
        "Share of each rep's selling hours available for calls."))
    levels: list[Decimal] | None = Field(None, description="Calls per account per month.")
    first_month: int | None = Field(None, ge=1, le=12)
    min_calls_by_tier: dict[str, Decimal] = Field(default_factory=dict)
    fixed_calls: dict[str, Decimal] = Field(default_factory=dict,
                                            description="Account id → calls per month.")
    bootstrap_iterations: int = Field(200, ge=20, le=2000, description=(
        "Resamples of accounts and months for the range of the reallocation gain."))
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of those resamples.")
    pays_above_seen_pct: Decimal | None = Field(None, ge=0, le=PAYS_ABOVE_SEEN_MAX_PCT,
                                                description=PAYS_ABOVE_SEEN_HELP)


class EffortRunPatch(InputSchema):
    """Redo a finished run, not yet applied, with another belief of how far above the
    most calls seen calls still pay; carries the run's `version`."""

    pays_above_seen_pct: Decimal | None = Field(ge=0, le=PAYS_ABOVE_SEEN_MAX_PCT,
                                                description=PAYS_ABOVE_SEEN_HELP)
    version: Version


class EffortRunOut(Schema):
    id: int
    version: int
    pays_above_seen_pct: Decimal | None
    status: str
    message: str
    params: dict[str, Any]
    current_profit: MoneyOut | None
    optimal_profit: MoneyOut | None
    applied_at: datetime | None
    job_id: int | None
    created_at: datetime


class EffortRunDetail(EffortRunOut):
    result: dict[str, Any]


class JudgementIn(InputSchema):
    tier: str = Field("", max_length=20)
    industry: str = Field("", max_length=80)
    current_calls: Decimal = Field(ge=0)
    no_effort: MoneyIn
    current: MoneyIn
    plus_half: MoneyIn
    saturation: MoneyIn


class JudgementOut(Schema):
    id: int
    tier: str
    industry: str
    current_calls: Decimal
    no_effort: MoneyOut
    current: MoneyOut
    plus_half: MoneyOut
    saturation: MoneyOut


class ApplyIn(InputSchema):
    reason: str = Field("", max_length=2000)


class ResourceIn(InputSchema):
    user_id: RecordId | None = Field(None, description="A person; leave out for a hire.")
    name: str = Field("", max_length=200)
    role: str = "rep"
    team_id: RecordId | None = None
    start_date: date | None = None
    end_date: date | None = None
    ramp: list[int] = Field(default_factory=list, description="Percent per month, e.g. 25,50,75.")
    selling_hours_per_day: Decimal | None = None
    calls_per_day: Decimal | None = None
    meetings_per_day: Decimal | None = None


class ResourceOut(Schema):
    id: int
    user_id: int | None
    name: str
    role: str
    team_id: int | None
    start_date: date | None
    end_date: date | None
    ramp: list[int]
    selling_hours_per_day: Decimal
    calls_per_day: Decimal
    meetings_per_day: Decimal


class SeatOut(Schema):
    label: str
    user_id: int | None
    team_id: int | None
    defaults: bool = Field(description="No resource row: the default rates.")
    selling_days: list[int]
    hours: list[Decimal]
    calls: list[Decimal]
    meetings: list[Decimal]


class LeaveIn(InputSchema):
    start: date
    end: date
    note: str = Field("", max_length=200)


class BudgetIn(InputSchema):
    category: Literal["travel", "marketing", "hiring", "other"]
    description: str = Field(min_length=1, max_length=200)
    month: int = Field(ge=1, le=12)
    amount: MoneyIn
    team_id: RecordId | None = None


class BudgetOut(Schema):
    id: int
    category: str
    description: str
    month: int
    amount: MoneyOut
    currency: str


class EvaluationOut(Schema):
    objective_id: int
    measure: str
    level: str
    label: str
    depth: int
    target: Decimal
    target_to_date: Decimal
    actual: Decimal | None = Field(description="None: the measure is not recorded.")
    attainment: Decimal | None = Field(description="Percent of the year's target.")
    pacing: Decimal | None = Field(description="Percent of the target to date.")
    gap: Decimal | None
    forecast_landing: Decimal | None
    pipeline: Decimal | None
    coverage: Decimal | None
    activities_planned: Decimal | None
    activities_done: Decimal | None
    leading: Decimal | None
    status: str


class AlertOut(Schema):
    id: int
    measure: str
    level: str
    label: str
    severity: str
    message: str
    manager_id: int | None
    rep_id: int | None
    as_of: date
    pacing: Decimal | None


class ReviewIn(InputSchema):
    as_of: date | None = None
    notes: str = Field("", max_length=10000)
    decisions: str = Field("", max_length=10000)


class ReviewOut(Schema):
    id: int
    as_of: date
    fiscal_month: int
    revision_number: int
    notes: str
    decisions: str
    created_by_id: int | None
    created_at: datetime


class ReviewDetail(ReviewOut):
    rows: list[dict[str, Any]]


class ReviewChangeOut(Schema):
    measure: str
    level: str
    label: str
    actual_before: Decimal | None
    actual_after: Decimal | None
    actual_change: Decimal | None
    pacing_before: Decimal | None
    pacing_after: Decimal | None
    status_before: str
    status_after: str


class ReplanIn(InputSchema):
    measure: MeasureName
    reason: str = Field(min_length=1, max_length=2000)
    as_of: date | None = None



# --- previewed changes (allocation, re-plan, undo) ----------------------------------------


class AllocatePreviewIn(InputSchema):
    objective_id: RecordId
    to: Literal["teams", "reps", "territories", "product_lines"]
    method: Literal[tuple(AllocationMethod.values)]
    weights: dict[str, Decimal] | None = Field(None, description=(
        "Custom weights: child id → weight; for product lines, name → weight."))
    reason: str = Field("", max_length=2000,
                        description="Required once the plan is approved (makes a revision).")


class UndoPreviewIn(InputSchema):
    reason: str = Field("", max_length=2000,
                        description="Required once the plan is approved (makes a revision).")


class ChangeApplyIn(InputSchema):
    preview: str = Field(min_length=1, max_length=1_000_000, description=(
        "The `preview` token of the preview you checked: exactly its figures are written."))
    version: Version


class MonthChangeOut(Schema):
    month: int = Field(description="Fiscal month 1–12.")
    label: str
    before: MoneyOut
    after: MoneyOut
    change: MoneyOut
    past: bool = Field(description="The month is already gone.")


class DiffRowOut(Schema):
    key: str = Field(description="Who the line is for, along the path from the target.")
    label: str
    level: str
    depth: int
    status: Literal["added", "removed", "changed", "unchanged"]
    before_total: MoneyOut
    after_total: MoneyOut
    change: MoneyOut
    months: list[MonthChangeOut]


class DiffTotalsOut(Schema):
    lines: int
    changed: int
    before: MoneyOut = Field(description="The lines one level below the target, before.")
    after: MoneyOut
    change: MoneyOut
    gained: MoneyOut = Field(description="What the lines that gain gain, together.")
    lost: MoneyOut = Field(description="What the lines that lose lose, together.")


class ChangePreviewOut(Schema):
    """A change drawn without writing: apply it with POST /plans/{id}/changes/apply."""

    kind: Literal["allocate", "replan", "undo"]
    summary: str
    currency: str
    plan_version: int
    reason: str
    past_months: list[int] = Field(description=(
        "Months already gone whose targets this change rewrites (empty: none)."))
    warnings: list[str]
    totals: DiffTotalsOut
    rows: list[DiffRowOut]
    preview: str = Field(description="Send it to /changes/apply to make exactly this change.")
