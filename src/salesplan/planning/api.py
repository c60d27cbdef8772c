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
    PATCH             /{id}/effort-runs/{run}    redo it with another belief of how far
                                                 above the most calls seen calls still pay
    POST              /{id}/effort-runs/{run}/apply   the call plan as activity targets
    GET/PUT           /{id}/judgements           the manager's response judgements
    GET               /{id}/capacity             selling time per seat and month
    POST              /{id}/resources/{seat}/leave   leave of a seat
    /{id}/resources[/{seat}]                   the plan's seats (record kit: list, export,
                                               add, get, remove with the plan's version,
                                               audit)
    /{id}/budget                               budget lines (record kit: list, export, add)
    GET               /{id}/evaluation           every measure and level against actuals
    POST              /{id}/evaluate             evaluate and raise alerts (a job)
    GET               /{id}/alerts               open alerts
    GET/POST          /{id}/reviews, /{id}/reviews/{r}, /{id}/reviews/{r}/compare/{o}
    POST              /{id}/replan               lock past months, spread the rest
    POST              /{id}/allocate/preview     an allocation's diff, nothing written
    POST              /{id}/replan/preview       a re-plan's diff, nothing written
    POST              /{id}/changes/{job}/undo/preview   putting back what a change replaced
    POST              /{id}/changes/apply        apply a previewed change (202, a job)
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from ninja import Query, Router, Status

from salesplan.core.api_support import (
    PageParams,
    RecordId,
    VersionParam,
)
from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound
from salesplan.core.jobs import start_job
from salesplan.core.jobs_api import ACCEPTED, accepted
from salesplan.core.listing import keyset_page
from salesplan.core.record_kit import Actions, Parent, RecordType, install
from salesplan.org.models import Team, User

from . import activity_plan, selectors, services
from .models import BudgetLine, Commitment, Objective, Plan, PlanResource
from .schemas import (
    ActivityPlanOut,
    ActualRowOut,
    AlertOut,
    AllocateIn,
    AllocatePreviewIn,
    ApplyIn,
    BudgetIn,
    BudgetOut,
    ChangeApplyIn,
    ChangePreviewOut,
    CommitmentIn,
    CommitmentOut,
    EffortRunDetail,
    EffortRunIn,
    EffortRunOut,
    EffortRunPatch,
    EvaluationOut,
    JudgementIn,
    JudgementOut,
    LeaveIn,
    MarketingCommitmentIn,
    MarketingCommitmentOut,
    MeasureName,
    ObjectiveOut,
    PlanIn,
    PlanOut,
    PlanPage,
    PlanPatch,
    PlanVersionIn,
    RatesIn,
    ReconciliationOut,
    ReplanIn,
    ResourceIn,
    ResourceOut,
    ReviewChangeOut,
    ReviewDetail,
    ReviewIn,
    ReviewOut,
    RevisionChangeOut,
    RevisionOut,
    RevisionSummary,
    SeatOut,
    TargetIn,
    UndoPreviewIn,
)

plan_router = Router(tags=["plans"])


def _plan_team(user, pk: int) -> Team:
    team = Team.objects.filter(pk=pk).first()
    if team is None:
        raise NotFound(f"No team with id {pk}.")
    return team


def _team(user, team_id: int | None) -> Team | None:
    return None if team_id is None else _plan_team(user, team_id)


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


def _weights(payload: AllocateIn | AllocatePreviewIn) -> dict | None:
    """Child ids arrive as JSON keys (strings); product lines keep their names."""
    if payload.weights is None or payload.to == "product_lines":
        return payload.weights
    try:
        return {int(key): value for key, value in payload.weights.items()}
    except ValueError as exc:
        raise ValidationError({"weights": ["Key each weight by the child's id."]}) from exc


@plan_router.post("/{plan_id}/allocate", response={201: list[ObjectiveOut]},
                  summary="Allocate a target to its children at once", deprecated=True,
                  description="Deprecated: preview it (`/allocate/preview`) and apply the "
                              "preview (`/changes/apply`), a job that refuses a stale one.")
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
    return {**{f: getattr(run, f) for f in ("id", "version", "pays_above_seen_pct",
                                            "status", "message", "params",
                                            "current_profit", "optimal_profit", "applied_at",
                                            "job_id", "created_at")},
            "result": effort.visible_result(run, request.user)}


@plan_router.patch("/{plan_id}/effort-runs/{run_id}", response={202: EffortRunOut},
                   summary="Redo a run with another belief of how far above the most calls "
                           "seen calls still pay (a background job)")
def change_effort_run(request, plan_id: RecordId, run_id: RecordId, payload: EffortRunPatch):
    from . import effort

    plan = selectors.get_plan(request.user, plan_id)
    run = effort.change_pays_above_seen(
        effort.get_run(plan, run_id), by=request.user,
        pays_above_seen_pct=payload.pays_above_seen_pct, expected_version=payload.version)
    return Status(202, run)


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


@plan_router.get("/{plan_id}/capacity", response=list[SeatOut],
                 summary="Selling days, hours, calls and meetings per seat and month")
def plan_capacity(request, plan_id: RecordId):
    from . import access, resources

    plan = selectors.get_plan(request.user, plan_id)
    seats = resources.capacity(plan)
    if not access.sees_every_objective(request.user):
        seats = [s for s in seats if s.user_id == request.user.pk]
    return [s.__dict__ for s in seats]


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


def _seat_user(user, pk: int) -> User:
    found = User.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError({"user_id": [f"No user with id {pk}."]})
    return found


def _seats(user):
    """The seats of the plans the user sees; a rep sees only their own."""
    from . import access

    rows = PlanResource.objects.filter(plan__in=access.visible_plans(user))
    return rows if access.sees_every_objective(user) else rows.filter(user=user)


def _budget_lines(user):
    """The budget lines of the plans the user sees; none for a rep."""
    from . import access

    if not access.sees_every_objective(user):
        return BudgetLine.objects.none()
    return BudgetLine.objects.filter(plan__in=access.visible_plans(user))


def _add_seat(*, by, data):
    from . import resources

    return resources.add_resource(data.pop("plan"), by=by, **data)


def _add_budget_line(*, by, data):
    from . import resources

    return resources.add_budget_line(data.pop("plan"), by=by, **data)


def _remove_seat(seat, *, by, expected_version):
    from . import resources

    resources.remove_resource(seat, by=by, expected_version=expected_version)


# A plan's seats and budget lines are changed by whoever may change the plan, and a seat
# is removed with the plan's version (as every other change to the plan).
PLAN = Parent(segment="", param="plan_id", field="plan", lookup=selectors.get_plan,
              label="plan")
PLAN_PARTS = Actions(view="view", create="change", change="change", delete="change")
TEAM = {"team_id": _plan_team}

seats = RecordType(
    name="resource", plural="resources", path="resources", id_param="resource_id",
    label="seat", resource="plan", actions=PLAN_PARTS, model=PlanResource, rows=_seats,
    out=ResourceOut, parent=PLAN, paged=False, create_in=ResourceIn, create=_add_seat,
    delete=_remove_seat, references={**TEAM, "user_id": _seat_user},
    summaries={"list": "The plan's seats", "create": "Add a person or a planned hire",
               "delete": "Remove a seat (and its leave) from the plan, with the plan's "
                         "version"})

# A budget line is read in its plan's list (reps see none).
budget_lines = RecordType(
    name="budget_line", plural="budget_lines", path="budget", label="budget line",
    resource="plan", actions=PLAN_PARTS, model=BudgetLine, rows=_budget_lines, out=BudgetOut,
    parent=PLAN, paged=False, has_get=False, audit=False, create_in=BudgetIn,
    create=_add_budget_line, references=TEAM,
    summaries={"list": "Budget lines", "create": "Add a budget line"})

install(plan_router, "/plans", [seats, budget_lines])


# --- evaluation ----------------------------------------------------------------------------


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
                  summary="Lock past months at actuals; spread the rest (a revision)",
                  deprecated=True,
                  description="Deprecated: preview it (`/replan/preview`: it names the past "
                              "months it rewrites) and apply the preview (`/changes/apply`).")
def replan(request, plan_id: RecordId, payload: ReplanIn):
    from . import reviews

    plan = selectors.get_plan(request.user, plan_id)
    reviews.replan(plan, by=request.user, measure=payload.measure,
                   as_of=payload.as_of or company_today(), reason=payload.reason)
    return _objectives(plan, request.user)


# --- previewed changes: allocation, re-plan, undo ------------------------------------------


def _preview_out(preview) -> dict:
    return {"kind": preview.kind, "summary": preview.summary,
            "currency": preview.plan.currency, "plan_version": preview.plan.version,
            "reason": preview.reason, "past_months": preview.past_months,
            "warnings": preview.warnings, "totals": preview.totals, "preview": preview.token,
            "rows": [{**r.__dict__, "change": r.change,
                      "months": [{**m.__dict__, "change": m.change} for m in r.months]}
                     for r in preview.rows]}


@plan_router.post("/{plan_id}/allocate/preview", response=ChangePreviewOut,
                  summary="What an allocation would change (nothing is written)")
def preview_allocation(request, plan_id: RecordId, payload: AllocatePreviewIn):
    from . import changes

    plan = selectors.get_plan(request.user, plan_id)
    parent = Objective.objects.filter(plan=plan, pk=payload.objective_id).first()
    if parent is None:
        raise NotFound(f"Plan {plan.pk} has no objective {payload.objective_id}.")
    return _preview_out(changes.preview_allocation(
        parent, by=request.user, to=payload.to, method=payload.method,
        weights=_weights(payload), reason=payload.reason))


@plan_router.post("/{plan_id}/replan/preview", response=ChangePreviewOut,
                  summary="What a re-plan would change (nothing is written)")
def preview_replan(request, plan_id: RecordId, payload: ReplanIn):
    from . import changes

    plan = selectors.get_plan(request.user, plan_id)
    return _preview_out(changes.preview_replan(
        plan, by=request.user, measure=payload.measure,
        as_of=payload.as_of or company_today(), reason=payload.reason))


@plan_router.post("/{plan_id}/changes/{job_id}/undo/preview", response=ChangePreviewOut,
                  summary="Putting back what an applied change replaced (nothing is written)")
def preview_undo(request, plan_id: RecordId, job_id: RecordId, payload: UndoPreviewIn):
    from . import changes

    plan = selectors.get_plan(request.user, plan_id)
    return _preview_out(changes.preview_undo(plan, by=request.user, job_id=job_id,
                                             reason=payload.reason))


@plan_router.post("/{plan_id}/changes/apply", **ACCEPTED,
                  summary="Apply exactly a previewed change (a background job)")
def apply_change(request, response: HttpResponse, plan_id: RecordId, payload: ChangeApplyIn):
    from . import changes

    plan = selectors.get_plan(request.user, plan_id)
    job = changes.confirm(plan, by=request.user, token=payload.preview,
                          version=payload.version)
    return accepted(response, job)
