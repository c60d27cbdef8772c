"""API for sales plans (mounted at /api/v1/plans).

    GET/POST          /                          plans you may see; start a draft
    GET/PATCH/DELETE  /{id}                      one plan (PATCH renames; never the status)
    POST              /{id}/submit|return|approve|activate|close   status transitions
    POST              /{id}/reopen               a closed plan becomes active again
    GET               /{id}/objectives           the objectives tree with monthly targets
    POST              /{id}/targets              set the plan's top target and phasing
    POST              /{id}/allocate             split a target among its children
    GET               /{id}/revisions, /{id}/revisions/{number}
    GET/POST          /{id}/commitments          bottom-up figures (reps post their own)
    GET               /{id}/reconciliation       top-down vs bottom-up, who is missing
    GET               /{id}/plan-vs-actual       targets against won bookings
    GET               /{id}/activity-plan        opportunities, meetings, calls; capacity
    POST/GET          /{id}/effort-runs[/{run}]  optimise effort (a job); a run's result
    POST              /{id}/effort-runs/{run}/apply   the call plan as activity targets
    GET/PUT           /{id}/judgements           the manager's response judgements
    GET               /{id}/capacity             selling time per seat and month
    GET/POST          /{id}/resources, /{id}/resources/{seat}/leave, /{id}/budget
    GET               /{id}/evaluation           every measure and level against actuals
    POST              /{id}/evaluate             evaluate and raise alerts (a job)
    GET               /{id}/alerts               open alerts
    GET/POST          /{id}/reviews, /{id}/reviews/{r}, /{id}/reviews/{r}/compare/{o}
    POST              /{id}/replan               lock past months, spread the rest
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from salesplan.core.api_support import (
    InputSchema,
    MoneyIn,
    MoneyOut,
    PageParams,
    RecordId,
    Version,
    VersionParam,
)
from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound
from salesplan.core.jobs import start_job
from salesplan.core.jobs_api import ACCEPTED, accepted
from salesplan.core.listing import keyset_page
from salesplan.core.money import MAX_AMOUNT
from salesplan.org.models import Team, User

from . import activity_plan, selectors, services
from .models import AllocationMethod, Commitment, Measure, Objective, Plan

plan_router = Router(tags=["plans"])

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


def _team(user, team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound(f"No team with id {team_id}.")
    return team


@plan_router.get("", response=PlanPage, summary="Plans you may see")
def list_plans(request, params: Query[PageParams]):
    page = keyset_page(selectors.plan_list(request.user), sort_field="id", sort_key="id",
                       cursor=params.cursor, limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor}


@plan_router.post("", response={201: PlanOut}, summary="Start a draft plan")
def create_plan(request, payload: PlanIn):
    plan = services.create_plan(by=request.user, name=payload.name,
                                fiscal_year=payload.fiscal_year,
                                team=_team(request.user, payload.team_id),
                                currency=payload.currency)
    return Status(201, plan)


@plan_router.get("/{plan_id}", response=PlanOut, summary="One plan")
def get_plan(request, plan_id: RecordId):
    return selectors.get_plan(request.user, plan_id)


@plan_router.patch("/{plan_id}", response=PlanOut, summary="Rename a plan")
def rename_plan(request, plan_id: RecordId, payload: PlanPatch):
    plan = selectors.get_plan(request.user, plan_id)
    return services.rename_plan(plan, by=request.user, name=payload.name,
                                version=payload.version)


@plan_router.delete("/{plan_id}", response={204: None}, summary="Delete a draft plan")
def delete_plan(request, plan_id: RecordId, version: VersionParam):
    services.delete_plan(selectors.get_plan(request.user, plan_id), by=request.user,
                         expected_version=version)
    return Status(204, None)


def _transition(action: str):
    def handler(request, plan_id: RecordId, payload: PlanVersionIn):
        plan = selectors.get_plan(request.user, plan_id)
        return services.TRANSITIONS[action](plan, by=request.user,
                                            expected_version=payload.version)

    handler.__name__ = f"{action}_plan"
    return handler


for _action, _summary in (("submit", "Submit a draft for approval"),
                          ("return", "Send a submitted plan back to draft"),
                          ("approve", "Approve a submitted plan (freezes revision 1)"),
                          ("activate", "Make an approved plan active"),
                          ("close", "Close an active plan")):
    plan_router.post(f"/{{plan_id}}/{_action}", response=PlanOut, summary=_summary,
                     operation_id=f"plans_{_action}")(_transition(_action))


@plan_router.post("/{plan_id}/reopen", response=PlanOut, operation_id="plans_reopen",
                  summary="Reopen a closed plan (active again)")
def reopen_plan(request, plan_id: RecordId, payload: PlanVersionIn):
    plan = selectors.get_plan(request.user, plan_id)
    return services.reopen_plan(plan, by=request.user, version=payload.version)


def _objectives(plan: Plan, user) -> list[dict[str, Any]]:
    return [{"id": r.objective.pk, "parent_id": r.objective.parent_id,
             "measure": r.objective.measure, "level": r.objective.level,
             "label": r.objective.label, "depth": r.depth, "team_id": r.objective.team_id,
             "territory_id": r.objective.territory_id, "rep_id": r.objective.rep_id,
             "method": r.objective.method, "months": r.months, "quarters": r.quarters,
             "total": r.total}
            for r in selectors.objective_rows(plan, user)]


@plan_router.get("/{plan_id}/objectives", response=list[ObjectiveOut],
                 summary="Objectives with monthly targets")
def list_objectives(request, plan_id: RecordId):
    return _objectives(selectors.get_plan(request.user, plan_id), request.user)


@plan_router.post("/{plan_id}/targets", response={201: list[ObjectiveOut]},
                  summary="Set the plan's top target for a measure")
def set_target(request, plan_id: RecordId, payload: TargetIn):
    plan = selectors.get_plan(request.user, plan_id)
    services.set_plan_target(plan, by=request.user, measure=payload.measure,
                             total=payload.total, phasing=payload.phasing,
                             profile=payload.profile, reason=payload.reason,
                             expected_version=payload.version)
    return Status(201, _objectives(plan, request.user))


def _weights(payload: AllocateIn) -> dict | None:
    """Child ids arrive as JSON keys (strings); product lines keep their names."""
    if payload.weights is None or payload.to == "product_lines":
        return payload.weights
    try:
        return {int(key): value for key, value in payload.weights.items()}
    except ValueError as exc:
        raise ValidationError({"weights": ["Key each weight by the child's id."]}) from exc


@plan_router.post("/{plan_id}/allocate", response={201: list[ObjectiveOut]},
                  summary="Allocate a target to its children")
def allocate(request, plan_id: RecordId, payload: AllocateIn):
    plan = selectors.get_plan(request.user, plan_id)
    parent = Objective.objects.filter(plan=plan, pk=payload.objective_id).first()
    if parent is None:
        raise NotFound(f"Plan {plan.pk} has no objective {payload.objective_id}.")
    services.allocate(parent, by=request.user, to=payload.to, method=payload.method,
                      weights=_weights(payload), reason=payload.reason,
                      expected_version=payload.version)
    return Status(201, _objectives(plan, request.user))


@plan_router.get("/{plan_id}/revisions", response=list[RevisionSummary],
                 summary="Revisions, newest first")
def list_revisions(request, plan_id: RecordId):
    return list(selectors.revisions(selectors.get_plan(request.user, plan_id)))


@plan_router.get("/{plan_id}/revisions/{number}", response=RevisionOut,
                 summary="One revision with its frozen objectives")
def get_revision(request, plan_id: RecordId, number: int):
    revision = selectors.get_revision(selectors.get_plan(request.user, plan_id), number)
    return {"number": revision.number, "reason": revision.reason, "status": revision.status,
            "created_at": revision.created_at, "created_by_id": revision.created_by_id,
            "snapshot": selectors.revision_lines(revision, request.user)}


class RevisionChangeOut(Schema):
    measure: str
    level: str
    label: str
    before: MoneyOut | None
    after: MoneyOut | None
    change: MoneyOut | None


@plan_router.get("/{plan_id}/revisions/{number}/changes", response=list[RevisionChangeOut],
                 summary="What changed since an earlier revision")
def revision_changes(request, plan_id: RecordId, number: int,
                     since: int | None = Query(None, description="Default: the one before.")):
    plan = selectors.get_plan(request.user, plan_id)
    newer = selectors.get_revision(plan, number)
    older = selectors.get_revision(plan, since if since is not None else number - 1)
    return [{**c.__dict__, "change": c.change}
            for c in selectors.compare_revisions(older, newer, request.user)]


@plan_router.get("/{plan_id}/commitments", response=list[CommitmentOut],
                 summary="Bottom-up commitments you may see")
def list_commitments(request, plan_id: RecordId):
    plan = selectors.get_plan(request.user, plan_id)
    rows = Commitment.objects.filter(plan=plan)
    if request.user.role == "rep":
        rows = rows.filter(rep=request.user)
    return list(rows)


@plan_router.post("/{plan_id}/commitments", response={201: list[CommitmentOut]},
                  summary="Submit your commitment for a measure, month by month")
def submit_commitment(request, plan_id: RecordId, payload: CommitmentIn):
    plan = selectors.get_plan(request.user, plan_id)
    return Status(201, services.submit_commitment(plan, by=request.user,
                                                  measure=payload.measure,
                                                  months=payload.months))


def _recon_rows(items) -> list[dict[str, Any]]:
    return [{"label": r.label, "level": r.level, "top_down": r.top_down,
             "bottom_up": r.bottom_up, "gap": r.gap, "submitted": r.submitted} for r in items]


@plan_router.get("/{plan_id}/reconciliation", response=ReconciliationOut,
                 summary="Top-down targets against bottom-up commitments")
def reconciliation(request, plan_id: RecordId, measure: MeasureName = "bookings"):
    plan = selectors.get_plan(request.user, plan_id)
    result = selectors.reconciliation(plan, request.user, measure)
    return {"measure": result.measure, "levels": _recon_rows(result.levels),
            "reps": _recon_rows(result.reps),
            "not_submitted": [str(u) for u in result.not_submitted],
            "marketing": _recon_rows(result.marketing)}


@plan_router.post("/{plan_id}/marketing-commitments",
                  response={201: list[MarketingCommitmentOut]},
                  summary="Marketing commits leads or pipeline to a team, month by month")
def submit_marketing_commitment(request, plan_id: RecordId, payload: MarketingCommitmentIn):
    plan = selectors.get_plan(request.user, plan_id)
    team = Team.objects.filter(pk=payload.team_id).first()
    if team is None:
        raise ValidationError({"team": [f"No team with id {payload.team_id}."]})
    return Status(201, services.submit_marketing_commitment(
        plan, by=request.user, team=team, measure=payload.measure, months=payload.months))


@plan_router.get("/{plan_id}/plan-vs-actual", response=list[ActualRowOut],
                 summary="Bookings targets against won opportunities")
def plan_vs_actual(request, plan_id: RecordId, as_of: date | None = None):
    plan = selectors.get_plan(request.user, plan_id)
    rows = selectors.plan_vs_actual(plan, request.user, as_of=as_of or company_today())
    return [{**r.__dict__, "target": r.target, "attainment": r.attainment, "gap": r.gap,
             "forecast_landing": r.forecast_landing, "coverage": r.coverage} for r in rows]



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


MAX_ACTIVITY_RATE = 10_000  # meetings per deal, calls per meeting or per day


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


@plan_router.get("/{plan_id}/activity-plan", response=ActivityPlanOut,
                 summary="Opportunities, meetings and calls each bookings target takes")
def get_activity_plan(request, plan_id: RecordId, rates: Query[RatesIn]):
    plan = selectors.get_plan(request.user, plan_id)
    result = activity_plan.activity_plan(plan, request.user, rates.dict())
    r = result.rates
    return {"rates": {"window_start": r.window[0], "window_end": r.window[1],
                      **r.values, "sources": r.sources},
            "selling_days": result.selling_days,
            "rows": [{**row.__dict__, "slack": row.slack} for row in result.rows]}


# --- effort allocation ---------------------------------------------------------------------


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


class EffortRunOut(Schema):
    id: int
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


def _effort_params(payload: EffortRunIn) -> dict[str, Any]:
    data = payload.dict(exclude_none=True)
    return {k: ([str(x) for x in v] if k == "levels" else
                {kk: str(vv) for kk, vv in v.items()} if isinstance(v, dict) else
                str(v) if isinstance(v, Decimal) else v) for k, v in data.items()}


@plan_router.post("/{plan_id}/effort-runs", response={202: EffortRunOut},
                  summary="Optimise effort for maximum profit (a background job)")
def start_effort_run(request, plan_id: RecordId, payload: EffortRunIn):
    from . import effort

    plan = selectors.get_plan(request.user, plan_id)
    run = effort.start_run(plan, by=request.user, params=_effort_params(payload))
    run.refresh_from_db()
    return Status(202, run)


@plan_router.get("/{plan_id}/effort-runs", response=list[EffortRunOut],
                 summary="Effort allocation runs, newest first")
def list_effort_runs(request, plan_id: RecordId):
    plan = selectors.get_plan(request.user, plan_id)
    return list(plan.effort_runs.all()[:100])


@plan_router.get("/{plan_id}/effort-runs/{run_id}", response=EffortRunDetail,
                 summary="One run: curves with their data, profit, call plan per rep")
def get_effort_run(request, plan_id: RecordId, run_id: RecordId):
    from . import effort

    plan = selectors.get_plan(request.user, plan_id)
    run = effort.get_run(plan, run_id)
    return {**{f: getattr(run, f) for f in ("id", "status", "message", "params",
                                            "current_profit", "optimal_profit", "applied_at",
                                            "job_id", "created_at")},
            "result": effort.visible_result(run, request.user)}


@plan_router.post("/{plan_id}/effort-runs/{run_id}/apply", response=list[ObjectiveOut],
                  summary="Make a run's call plan the plan's activity targets")
def apply_effort_run(request, plan_id: RecordId, run_id: RecordId, payload: ApplyIn):
    from . import effort

    plan = selectors.get_plan(request.user, plan_id)
    effort.apply_run(effort.get_run(plan, run_id), by=request.user, reason=payload.reason)
    return _objectives(plan, request.user)


@plan_router.get("/{plan_id}/judgements", response=list[JudgementOut],
                 summary="The manager's response judgements per segment")
def list_judgements(request, plan_id: RecordId):
    return list(selectors.get_plan(request.user, plan_id).judgements.all())


@plan_router.put("/{plan_id}/judgements", response=JudgementOut,
                 summary="Enter a segment's judgement (replaces the fitted curve)")
def put_judgement(request, plan_id: RecordId, payload: JudgementIn):
    from . import effort

    plan = selectors.get_plan(request.user, plan_id)
    return effort.set_judgement(plan, by=request.user, **payload.dict())


# --- resources -----------------------------------------------------------------------------


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


@plan_router.get("/{plan_id}/capacity", response=list[SeatOut],
                 summary="Selling days, hours, calls and meetings per seat and month")
def plan_capacity(request, plan_id: RecordId):
    from . import access, resources

    plan = selectors.get_plan(request.user, plan_id)
    seats = resources.capacity(plan)
    if not access.sees_every_objective(request.user):
        seats = [s for s in seats if s.user_id == request.user.pk]
    return [s.__dict__ for s in seats]


@plan_router.get("/{plan_id}/resources", response=list[ResourceOut], summary="The plan's seats")
def list_resources(request, plan_id: RecordId):
    from . import access

    plan = selectors.get_plan(request.user, plan_id)
    rows = plan.resources.all()
    return list(rows if access.sees_every_objective(request.user)
                else rows.filter(user=request.user))


@plan_router.post("/{plan_id}/resources", response={201: ResourceOut},
                  summary="Add a person or a planned hire")
def add_resource(request, plan_id: RecordId, payload: ResourceIn):

    from . import resources

    plan = selectors.get_plan(request.user, plan_id)
    data = payload.dict()
    user_id, team_id = data.pop("user_id"), data.pop("team_id")
    user = User.objects.filter(pk=user_id).first() if user_id else None
    if user_id and user is None:
        raise ValidationError({"user_id": [f"No user with id {user_id}."]})
    return Status(201, resources.add_resource(plan, by=request.user, user=user,
                                              team=_team(request.user, team_id), **data))


@plan_router.delete("/{plan_id}/resources/{resource_id}", response={204: None},
                    summary="Remove a seat from the plan")
def remove_resource(request, plan_id: RecordId, resource_id: RecordId, version: VersionParam):
    """Take a person or a planned hire out of the plan (with their leave); send the
    plan's version."""
    from . import resources

    plan = selectors.get_plan(request.user, plan_id)
    resource = plan.resources.filter(pk=resource_id).first()
    if resource is None:
        raise NotFound(f"Plan {plan.pk} has no seat {resource_id}.")
    resources.remove_resource(resource, by=request.user, expected_version=version)
    return Status(204, None)


@plan_router.post("/{plan_id}/resources/{resource_id}/leave", response={201: dict},
                  summary="Add leave to a seat")
def add_leave(request, plan_id: RecordId, resource_id: RecordId, payload: LeaveIn):
    from . import resources

    plan = selectors.get_plan(request.user, plan_id)
    resource = plan.resources.filter(pk=resource_id).first()
    if resource is None:
        raise NotFound(f"Plan {plan.pk} has no seat {resource_id}.")
    leave = resources.add_leave(resource, by=request.user, **payload.dict())
    return Status(201, {"id": leave.pk, "start": str(leave.start), "end": str(leave.end)})


@plan_router.get("/{plan_id}/budget", response=list[BudgetOut], summary="Budget lines")
def list_budget(request, plan_id: RecordId):
    from . import access

    plan = selectors.get_plan(request.user, plan_id)
    if not access.sees_every_objective(request.user):
        return []
    return list(plan.budget_lines.all())


@plan_router.post("/{plan_id}/budget", response={201: BudgetOut}, summary="Add a budget line")
def add_budget(request, plan_id: RecordId, payload: BudgetIn):
    from . import resources

    plan = selectors.get_plan(request.user, plan_id)
    data = payload.dict()
    team = _team(request.user, data.pop("team_id"))
    return Status(201, resources.add_budget_line(plan, by=request.user, team=team, **data))


# --- evaluation ----------------------------------------------------------------------------


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


_EVAL_FIELDS = ("objective_id", "measure", "level", "label", "depth", "target",
                "target_to_date", "actual", "attainment", "pacing", "gap", "forecast_landing",
                "pipeline", "coverage", "activities_planned", "activities_done", "leading",
                "status")


@plan_router.get("/{plan_id}/evaluation", response=list[EvaluationOut],
                 summary="Every objective against actuals: attainment, pacing, landing")
def plan_evaluation(request, plan_id: RecordId, as_of: date | None = None):
    from . import evaluation

    plan = selectors.get_plan(request.user, plan_id)
    rows = evaluation.evaluate(plan, request.user, as_of=as_of or company_today())
    return [{f: getattr(r, f) for f in _EVAL_FIELDS} for r in rows]


@plan_router.post("/{plan_id}/evaluate", **ACCEPTED,
                  summary="Evaluate the plan and raise alerts (a background job)")
def evaluate_plan(request, response: HttpResponse, plan_id: RecordId, as_of: date | None = None):

    from . import access
    from .tasks import run_evaluation

    plan = selectors.get_plan(request.user, plan_id)
    access.require_edit(request.user, plan)
    job = start_job("plan_evaluation", by=request.user, task=run_evaluation, params={
        "plan_id": plan.pk, "as_of": (as_of or company_today()).isoformat()})
    return accepted(response, job)


@plan_router.get("/{plan_id}/alerts", response=list[AlertOut], summary="Open alerts")
def plan_alerts(request, plan_id: RecordId):
    from . import evaluation

    plan = selectors.get_plan(request.user, plan_id)
    return list(evaluation.visible_alerts(request.user, plan))


# --- reviews and re-planning ---------------------------------------------------------------


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


@plan_router.get("/{plan_id}/reviews", response=list[ReviewOut], summary="Reviews, newest first")
def list_reviews(request, plan_id: RecordId):
    return list(selectors.get_plan(request.user, plan_id).reviews.all())


@plan_router.post("/{plan_id}/reviews", response={201: ReviewOut},
                  summary="Record a review: freeze the numbers with notes and decisions")
def create_review(request, plan_id: RecordId, payload: ReviewIn):
    from . import reviews

    plan = selectors.get_plan(request.user, plan_id)
    return Status(201, reviews.create_review(
        plan, by=request.user, as_of=payload.as_of or company_today(),
        notes=payload.notes, decisions=payload.decisions))


@plan_router.get("/{plan_id}/reviews/{review_id}", response=ReviewDetail,
                 summary="One review with its frozen numbers")
def get_review(request, plan_id: RecordId, review_id: RecordId):
    from . import reviews

    review = reviews.get_review(selectors.get_plan(request.user, plan_id), review_id)
    return {**{f: getattr(review, f) for f in ("id", "as_of", "fiscal_month", "revision_number",
                                               "notes", "decisions", "created_by_id",
                                               "created_at")},
            "rows": reviews.review_rows(review, request.user)}


@plan_router.get("/{plan_id}/reviews/{review_id}/compare/{other_id}",
                 response=list[ReviewChangeOut], summary="How the numbers moved between reviews")
def compare_reviews(request, plan_id: RecordId, review_id: RecordId, other_id: RecordId):
    from . import reviews

    plan = selectors.get_plan(request.user, plan_id)
    changes = reviews.compare_reviews(reviews.get_review(plan, review_id),
                                      reviews.get_review(plan, other_id), request.user)
    return [{**c.__dict__, "actual_change": c.actual_change} for c in changes]


@plan_router.post("/{plan_id}/replan", response=list[ObjectiveOut],
                  summary="Lock past months at actuals; spread the rest (a revision)")
def replan(request, plan_id: RecordId, payload: ReplanIn):
    from . import reviews

    plan = selectors.get_plan(request.user, plan_id)
    reviews.replan(plan, by=request.user, measure=payload.measure,
                   as_of=payload.as_of or company_today(), reason=payload.reason)
    return _objectives(plan, request.user)
