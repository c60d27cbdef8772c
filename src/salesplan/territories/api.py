"""API for territory management (mounted at /api/v1/territories).

    GET/POST   /alignments                      versions of the territory map
    GET/PATCH  /alignments/{id}
    POST       /alignments/{id}/assign          full assignment run (202, a job)
    GET        /jobs/{id}                       deprecated: the job at /api/v1/jobs/{id}
    POST       /alignments/{id}/optimise        rebalance into a new draft (202, a run)
    GET        /optimisations/{id}              an optimisation's progress and metrics
    POST       /alignments/{id}/activate        make a draft the active alignment
    GET        /alignments/{id}/what-if         compare with the active alignment
    GET        /alignments/{id}/conflicts       ties priority cannot settle
    GET/POST   /alignments/{id}/territories     the hierarchy (cursor pages)
    GET/PATCH/DELETE /{id}                      one territory
    GET        /{id}/accounts                   its accounts you may see, with reasons
    GET        /{id}/size                       size, potential, bookings, capacity
    GET/POST   /{id}/rules, PATCH/DELETE /rules/{id}
    POST       /rules/preview                   how many accounts a rule would cover
    GET/POST   /{id}/members, PATCH/DELETE /members/{id}
    POST       /{id}/named-accounts, DELETE /named-accounts/{id}
    GET/POST   /{id}/goals                      goals that add up to the parent's
    GET        /violations, POST /violations/fix
    GET/POST   /exceptions, POST /exceptions/{id}/approve|reject
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status

from salesplan.core.api_support import (
    InputSchema,
    MoneyOut,
    PageParams,
    RecordId,
    Version,
    VersionParam,
    choice_of,
    get_record,
)
from salesplan.core.errors import NotFound
from salesplan.core.jobs_api import ACCEPTED, JobOut, accepted, add_deprecated_alias
from salesplan.core.listing import keyset_page
from salesplan.core.registry import require
from salesplan.customers.models import Account
from salesplan.engines.territory_rules import validate_rule
from salesplan.org.models import User

from . import goals, selectors, services
from .models import (
    Alignment,
    BoundaryException,
    BoundaryRule,
    GoalFormula,
    MemberRole,
    NamedAccount,
    Realignment,
    RuleCombine,
    Territory,
    TerritoryMember,
    TerritoryType,
)

territory_router = Router(tags=["territories"])


def _get(model, pk: int, user):
    """The record if the user may view it (the registry's view entry for its kind)."""
    found = selectors.visible_record(model, pk, user)
    if found is None:
        raise NotFound(f"No {model._meta.verbose_name} with id {pk}.")
    return found


def _page(queryset, params: PageParams, sort: str = "id") -> dict[str, Any]:
    page = keyset_page(queryset, sort_field=sort, sort_key=sort, cursor=params.cursor,
                       limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor}


# --- alignments ------------------------------------------------------------------------


class AlignmentOut(Schema):
    id: int
    name: str
    description: str
    status: str
    based_on_id: int | None
    activated_at: datetime | None
    activated_by_id: int | None
    results_current: bool
    assigned_at: datetime | None
    conflict_count: int
    unclaimed_count: int
    created_at: datetime
    version: int


class AlignmentIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    description: str = ""
    copy_from_id: RecordId | None = Field(None, description="Copy this alignment's map.")


class AlignmentPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = None
    version: Version


@territory_router.get("/alignments", response=list[AlignmentOut])
def list_alignments(request):
    """Every version of the territory map, newest first."""
    services.require_view(request.auth)
    return selectors.alignments(request.auth)


@territory_router.post("/alignments", response={201: AlignmentOut})
def create_alignment(request, payload: AlignmentIn):
    """A new draft, empty or copied from another alignment to realign from."""
    source = (_get(Alignment, payload.copy_from_id, request.auth)
              if payload.copy_from_id else None)
    alignment = services.create_alignment(by=request.auth, name=payload.name,
                                          description=payload.description, copy_from=source)
    return Status(201, alignment)


@territory_router.get("/alignments/{int:id}", response=AlignmentOut)
def get_alignment(request, id: int):
    return _get(Alignment, id, request.auth)


@territory_router.patch("/alignments/{int:id}", response=AlignmentOut)
def update_alignment(request, id: int, payload: AlignmentPatch):
    alignment = _get(Alignment, id, request.auth)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    return services.update_alignment(alignment, by=request.auth, data=data,
                                     expected_version=version)


@territory_router.post("/alignments/{int:id}/assign", **ACCEPTED)
def start_assignment(request, response: HttpResponse, id: int):
    """Assign every account under the alignment's rules in the background; follow the
    job at its `Location`, /api/v1/jobs/{id}."""
    job = services.start_assignment(_get(Alignment, id, request.auth), by=request.auth)
    return accepted(response, job)


add_deprecated_alias(territory_router, "/jobs/{int:job_id}", kinds=("territory_assignment",),
                     what="territory assignment job", operation_id="assignment_job")


# --- optimisation ------------------------------------------------------------------------


class OptimiseIn(InputSchema):
    territory_ids: list[RecordId] = Field(
        default_factory=list, description="Territories to rebalance (one type, no "
                                          "sub-territories); or give parent_id.")
    parent_id: RecordId | None = Field(None, description="Rebalance this territory's "
                                                         "children.")
    unit: Literal["account", "zip"] = "account"
    measures: list[Literal["accounts", "potential", "pipeline", "workload"]] = Field(
        ["accounts"], min_length=1)
    tau: float = Field(0.05, description="Allowed deviation from the mean, e.g. 0.05 = ±5%.")
    objective: Literal["squared", "distance"] = "squared"
    locked: list[str] = Field(default_factory=list, description="Account ids (or ZIP codes "
                                                                "at ZIP level) that stay put.")
    min_keep_share: float | None = None
    move_penalty: float = 0.0
    time_limit: float = Field(30.0, description="Seconds the optimiser may take.")
    name: str = Field("", max_length=120, description="Name of the new draft.")
    contiguous: bool = Field(False, description="Keep each territory one piece of "
                             "neighbouring units (neighbours by triangulation of their points).")


class OptimisationOut(Schema):
    id: int
    source_id: int | None
    draft_id: int | None
    options: dict
    metrics: dict
    message: str
    job: JobOut | None
    created_at: datetime


@territory_router.post("/alignments/{int:id}/optimise", response={202: OptimisationOut})
def start_optimisation(request, id: int, payload: OptimiseIn):
    """Rebalance territories into a new draft alignment in the background (managers and
    admins); follow it at /territories/optimisations/{id}."""
    from .optimisation import OptimisationRequest
    from .optimisation import start_optimisation as start

    run = start(_get(Alignment, id, request.auth), by=request.auth,
                request=OptimisationRequest(**payload.model_dump()))
    run.refresh_from_db()
    return Status(202, run)


@territory_router.get("/optimisations/{int:id}", response=OptimisationOut)
def optimisation_result(request, id: int):
    """An optimisation's progress, and once done its draft and per-territory metrics."""
    from .optimisation import run_for

    run = run_for(request.auth, id)
    if run is None:
        raise NotFound(f"No optimisation with id {id}.")
    return run


class ActivateIn(InputSchema):
    ownership: choice_of(Realignment.Ownership) = Field(
        "stay", description="stay: owners keep moved accounts and open deals until closed; "
                            "move: they go to the new territory's owner.")
    version: Version


class RealignmentOut(Schema):
    id: int
    alignment_id: int
    previous_id: int | None
    ownership: str
    changed_at: datetime
    changed_by_id: int | None
    accounts_moved: int
    owners_changed: int


@territory_router.post("/alignments/{int:id}/activate", response=RealignmentOut)
def activate_alignment(request, id: int, payload: ActivateIn):
    """Make a draft active in one recorded step; the previous one is archived."""
    return services.activate_alignment(_get(Alignment, id, request.auth), by=request.auth,
                                       ownership=payload.ownership,
                                       expected_version=payload.version)


class MoveOut(Schema):
    type: str
    from_territory: str | None = Field(None, alias="from")
    to_territory: str | None = Field(None, alias="to")
    accounts: int
    potential: MoneyOut
    open_pipeline: MoneyOut | None
    bookings: MoneyOut | None = Field(None, description="Won in the last twelve months.")


class BalanceOut(Schema):
    territory: str
    accounts_before: int
    accounts_after: int
    potential_before: MoneyOut
    potential_after: MoneyOut
    workload_before: int = Field(description="Activities in the last twelve months.")
    workload_after: int
    goal_before: MoneyOut | None = Field(None, description="Goal for the period covering "
                                                           "today.")
    goal_after: MoneyOut | None = None


class SampleOut(Schema):
    account_id: int
    account: str
    type: str
    from_territory: str | None = Field(None, alias="from")
    to_territory: str | None = Field(None, alias="to")
    potential: MoneyOut | None


class WhatIfOut(Schema):
    moved_accounts: int
    moves: list[MoveOut]
    sample: list[SampleOut]
    balance: list[BalanceOut]


@territory_router.get("/alignments/{int:id}/what-if", response=WhatIfOut, by_alias=False)
def compare_alignment(request, id: int, base_id: int | None = None):
    """Accounts that move if this alignment replaced the active one (or `base_id`), with
    potential and open pipeline, and every territory's before/after balance."""
    draft = _get(Alignment, id, request.auth)
    base = _get(Alignment, base_id, request.auth) if base_id else None
    require(request.auth, "alignment_comparison", "view")
    return selectors.what_if(draft, base)


class ConflictOut(Schema):
    account_id: int
    type: str
    territory_ids: list[int]


class ConflictPage(Schema):
    items: list[ConflictOut]
    next_cursor: str | None
    previous_cursor: str | None


@territory_router.get("/alignments/{int:id}/conflicts", response=ConflictPage)
def list_conflicts(request, id: int, params: Query[PageParams]):
    """Accounts claimed by territories of one type at the same priority and level."""
    alignment = _get(Alignment, id, request.auth)
    return _page(alignment.conflicts.all(), params)


# --- territories ------------------------------------------------------------------------


class TerritoryOut(Schema):
    id: int
    alignment_id: int
    parent_id: int | None
    name: str
    type: str
    priority: int
    description: str
    area_sq_km: Decimal | None
    version: int


class TerritoryPage(Schema):
    items: list[TerritoryOut]
    next_cursor: str | None
    previous_cursor: str | None


class TerritoryIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    parent_id: RecordId | None = None
    type: choice_of(TerritoryType) = "geographic"
    priority: int = Field(0, ge=-1_000_000, le=1_000_000,
                          description="Higher wins when territories overlap.")
    description: str = ""
    area_sq_km: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=1)


class TerritoryPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    parent_id: RecordId | None = None
    type: choice_of(TerritoryType) | None = None
    priority: int | None = Field(None, ge=-1_000_000, le=1_000_000)
    description: str | None = None
    area_sq_km: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=1)
    version: Version


def _territory_data(payload) -> dict:
    data = payload.model_dump(exclude_unset=True)
    data.pop("version", None)
    if "parent_id" in data:
        data["parent"] = data.pop("parent_id")
    return data


@territory_router.get("/alignments/{int:id}/territories", response=TerritoryPage)
def list_territories(request, id: int, params: Query[PageParams]):
    """The alignment's territories (with parent ids, to draw the tree), by id."""
    alignment = _get(Alignment, id, request.auth)
    return _page(alignment.territories.all(), params)


@territory_router.post("/alignments/{int:id}/territories", response={201: TerritoryOut})
def create_territory(request, id: int, payload: TerritoryIn):
    alignment = _get(Alignment, id, request.auth)
    return Status(201, services.create_territory(alignment, by=request.auth,
                                                 data=_territory_data(payload)))


@territory_router.get("/{int:id}", response=TerritoryOut)
def get_territory(request, id: int):
    return _get(Territory, id, request.auth)


@territory_router.patch("/{int:id}", response=TerritoryOut)
def update_territory(request, id: int, payload: TerritoryPatch):
    """Rename, move in the hierarchy (cycles are refused), change type or priority."""
    territory = _get(Territory, id, request.auth)
    return services.update_territory(territory, by=request.auth, data=_territory_data(payload),
                                     expected_version=payload.version)


@territory_router.delete("/{int:id}", response={204: None})
def delete_territory(request, id: int, version: VersionParam):
    services.delete_territory(_get(Territory, id, request.auth), by=request.auth,
                              expected_version=version)
    return Status(204, None)


class AssignedAccountOut(Schema):
    id: int
    account_id: int
    account_name: str
    type: str
    reason: str

    @staticmethod
    def resolve_account_name(row) -> str:
        return row.account.name


class AssignedPage(Schema):
    items: list[AssignedAccountOut]
    next_cursor: str | None
    previous_cursor: str | None


@territory_router.get("/{int:id}/accounts", response=AssignedPage)
def territory_accounts(request, id: int, params: Query[PageParams]):
    """The territory's accounts that you may see, each with the reason it is here."""
    territory = _get(Territory, id, request.auth)
    return _page(selectors.assigned_accounts(request.auth, [territory.pk]), params)


class SizeOut(Schema):
    accounts: int
    accounts_by_tier: dict[str, int]
    potential: MoneyOut
    area_sq_km: Decimal | None
    bookings: MoneyOut
    selling_days: int
    sales_per_day: MoneyOut
    members: int
    capacity_calls: int


@territory_router.get("/{int:id}/size", response=SizeOut)
def territory_size(request, id: int, window_days: int = Query(365, ge=1, le=3660),
                   calls_per_day: int = Query(6, ge=1, le=100)):
    """Accounts by tier, potential, bookings and sales per selling day over the last
    `window_days`, and capacity (members × selling days × calls per day)."""
    territory = _get(Territory, id, request.auth)
    start, end = goals.default_window(window_days)
    return goals.territory_size(territory, window_start=start, window_end=end,
                                calls_per_day=calls_per_day)


# --- rules -------------------------------------------------------------------------------


class ConditionIn(Schema):
    field: str = Field(..., description="country, state, county, postal_code, industry, tier, "
                                        "employees or annual_revenue")
    op: Literal["in", "prefix", "range", "between"] = "in"
    values: list[str | int | float | None] = Field(..., min_length=1, max_length=5000)


class TerritoryRuleIn(InputSchema):
    combine: choice_of(RuleCombine) = "all"
    conditions: list[ConditionIn] = Field(..., min_length=1, max_length=50)


class TerritoryRulePatch(InputSchema):
    combine: choice_of(RuleCombine) | None = None
    conditions: list[ConditionIn] | None = Field(None, min_length=1, max_length=50)
    version: Version


class TerritoryRuleOut(Schema):
    id: int
    territory_id: int
    position: int
    combine: str
    conditions: list[dict]
    version: int


def _conditions(items) -> list[dict] | None:
    if items is None:
        return None
    return [item.model_dump() if hasattr(item, "model_dump") else item for item in items]


@territory_router.get("/{int:id}/rules", response=list[TerritoryRuleOut])
def list_rules(request, id: int):
    return selectors.rules(_get(Territory, id, request.auth))


@territory_router.post("/{int:id}/rules", response={201: TerritoryRuleOut})
def create_rule(request, id: int, payload: TerritoryRuleIn):
    """Add a boundary rule; the accounts it covers are re-assigned at once."""
    territory = _get(Territory, id, request.auth)
    return Status(201, services.create_rule(territory, by=request.auth, combine=payload.combine,
                                            conditions=_conditions(payload.conditions)))


@territory_router.patch("/rules/{int:rule_id}", response=TerritoryRuleOut)
def update_rule(request, rule_id: int, payload: TerritoryRulePatch):
    """Change a rule; only accounts the old or new rule could cover are re-assigned."""
    rule = _get(BoundaryRule, rule_id, request.auth)
    return services.update_rule(rule, by=request.auth, combine=payload.combine,
                                conditions=_conditions(payload.conditions),
                                expected_version=payload.version)


@territory_router.delete("/rules/{int:rule_id}", response={204: None})
def delete_rule(request, rule_id: int, version: VersionParam):
    services.delete_rule(_get(BoundaryRule, rule_id, request.auth), by=request.auth,
                         expected_version=version)
    return Status(204, None)


class PreviewOut(Schema):
    accounts: int
    capped: bool


@territory_router.post("/rules/preview", response=PreviewOut)
def preview_rule(request, payload: TerritoryRuleIn):
    """How many accounts a rule would cover (for the rule editor's live count; checks
    the rule first, so a bad rule answers with the field that is wrong)."""
    from django.core.exceptions import ValidationError


    services.require_view(request.auth)
    conditions = _conditions(payload.conditions)
    _, errors = validate_rule(payload.combine, conditions)
    if errors:
        raise ValidationError({"conditions": [f"{f}: {m}" for f, m in errors]})
    count, capped = selectors.rule_coverage(payload.combine, conditions or [])
    return {"accounts": count, "capped": capped}


# --- members and named accounts ---------------------------------------------------------


class TerritoryMemberOut(Schema):
    id: int
    territory_id: int
    user_id: int
    user_name: str
    role: str
    start_date: date
    end_date: date | None
    version: int

    @staticmethod
    def resolve_user_name(member) -> str:
        return member.user.get_full_name() or member.user.username


class MemberIn(InputSchema):
    user_id: RecordId
    role: choice_of(MemberRole) = "owner"
    start_date: date | None = Field(None, description="Default: today.")
    end_date: date | None = None


class MemberPatch(InputSchema):
    role: choice_of(MemberRole) | None = None
    start_date: date | None = None
    end_date: date | None = None
    version: Version


@territory_router.get("/{int:id}/members", response=list[TerritoryMemberOut])
def list_members(request, id: int):
    territory = _get(Territory, id, request.auth)
    return list(selectors.members(territory))


@territory_router.post("/{int:id}/members", response={201: TerritoryMemberOut})
def add_member(request, id: int, payload: MemberIn):
    territory = _get(Territory, id, request.auth)
    user = User.objects.filter(pk=payload.user_id).first()
    if user is None:
        from django.core.exceptions import ValidationError

        raise ValidationError({"user_id": f"No user with id {payload.user_id}."})
    return Status(201, services.add_member(territory, by=request.auth, user=user,
                                           role=payload.role, start_date=payload.start_date,
                                           end_date=payload.end_date))


@territory_router.patch("/members/{int:member_id}", response=TerritoryMemberOut)
def update_member(request, member_id: int, payload: MemberPatch):
    member = _get(TerritoryMember, member_id, request.auth)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    return services.update_member(member, by=request.auth, data=data, expected_version=version)


@territory_router.delete("/members/{int:member_id}", response={204: None})
def remove_member(request, member_id: int, version: VersionParam):
    services.remove_member(_get(TerritoryMember, member_id, request.auth), by=request.auth,
                           expected_version=version)
    return Status(204, None)


class NamedIn(InputSchema):
    account_id: RecordId
    include: bool = True


class NamedOut(Schema):
    id: int
    territory_id: int
    account_id: int
    include: bool
    version: int


@territory_router.post("/{int:id}/named-accounts", response={201: NamedOut})
def set_named_account(request, id: int, payload: NamedIn):
    """Put an account into (include) or keep it out of (exclude) the territory."""
    territory = _get(Territory, id, request.auth)
    account = get_record(Account, request.auth, payload.account_id)
    return Status(201, services.set_named_account(territory, account, by=request.auth,
                                                  include=payload.include))


@territory_router.delete("/named-accounts/{int:named_id}", response={204: None})
def remove_named_account(request, named_id: int, version: VersionParam):
    services.remove_named_account(_get(NamedAccount, named_id, request.auth), by=request.auth,
                                  expected_version=version)
    return Status(204, None)


# --- goals -------------------------------------------------------------------------------


class OverrideIn(Schema):
    territory_id: RecordId
    amount: Decimal = Field(..., ge=0, max_digits=18, decimal_places=2)
    reason: str = Field(..., min_length=1, max_length=500)


class GoalsIn(InputSchema):
    period_start: date
    period_end: date
    formula: choice_of(GoalFormula, exclude=("manual",))
    total: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2,
                                  description="The parent's goal (needed for a share of "
                                              "potential; otherwise the children's sum).")
    growth: Decimal = Field(Decimal(0), ge=-1, le=100, description="0.10 for +10%.")
    overrides: list[OverrideIn] = []
    mix: dict[str, Decimal] = Field(
        default_factory=dict, description="For weighted_mix: formula -> weight, e.g. "
        '{"prior_bookings": 2, "share_of_potential": 1}.')
    calls_per_day: int = Field(6, ge=1, le=100, description="Achievable calls or meetings "
                               "per member per selling day (capacity_conversion).")


class GoalOut(Schema):
    id: int
    territory_id: int
    territory_name: str
    period_start: date
    period_end: date
    formula: str
    explanation: str
    proposed: MoneyOut
    amount: MoneyOut
    currency: str
    override_reason: str
    booked_to_date: MoneyOut = Field(description="Won in the goal's period up to today.")
    attainment_percent: Decimal | None
    expected_percent: Decimal | None = Field(
        description="Share of the period's selling days gone by: where attainment should be.")

    @staticmethod
    def resolve_territory_name(goal) -> str:
        return goal.territory.name

    @staticmethod
    def resolve_booked_to_date(goal) -> Decimal:
        return _attainment(goal).actual

    @staticmethod
    def resolve_attainment_percent(goal) -> Decimal | None:
        return _attainment(goal).percent

    @staticmethod
    def resolve_expected_percent(goal) -> Decimal | None:
        return _attainment(goal).expected_percent


def _attainment(goal) -> goals.Attainment:
    """Set on the whole list by selectors.goals_with_attainment; else worked out here."""
    if not hasattr(goal, "attainment"):
        goal.attainment = goals.attainment(goal)
    return goal.attainment


@territory_router.get("/{int:id}/goals", response=list[GoalOut])
def list_goals(request, id: int):
    """The territory's goals and its children's, by period."""
    return selectors.goals_with_attainment(_get(Territory, id, request.auth))


@territory_router.post("/{int:id}/goals", response={201: list[GoalOut]})
def set_goals(request, id: int, payload: GoalsIn):
    """Set the territory's goal and propose its children's by the formula; children add
    up exactly to the parent (largest remainder), overrides need a reason."""
    territory = _get(Territory, id, request.auth)
    saved = goals.set_goals(
        territory, by=request.auth, period_start=payload.period_start,
        period_end=payload.period_end, formula=payload.formula, total=payload.total,
        growth=payload.growth, mix=payload.mix or None, calls_per_day=payload.calls_per_day,
        overrides={o.territory_id: (o.amount, o.reason) for o in payload.overrides})
    return Status(201, saved)


# --- violations and exceptions ----------------------------------------------------------


class ViolationOut(Schema):
    kind: str
    record_id: int
    name: str
    account_id: int
    owner_id: int
    territory_id: int
    territory_owner_id: int | None


class TerritoryFixIn(InputSchema):
    kind: Literal["account", "opportunity"]
    record_id: RecordId


class TerritoryFixOut(Schema):
    new_owner_id: int


@territory_router.get("/violations", response=list[ViolationOut])
def list_violations(request, limit: int = Query(500, ge=1, le=5000)):
    """Accounts and open opportunities (that you may see) whose owner is not a member of
    the account's territory and has no approved exception."""
    services.require_view(request.auth)
    return [v.as_dict() for v in selectors.violations(request.auth, limit=limit)]


@territory_router.post("/violations/fix", response=TerritoryFixOut)
def fix_violation(request, payload: TerritoryFixIn):
    """Give the record to the owner of the account's territory."""
    owner = services.fix_violation(by=request.auth, kind=payload.kind,
                                   record_id=payload.record_id)
    return {"new_owner_id": owner.pk}


class ExceptionOut(Schema):
    id: int
    rep_id: int
    account_id: int
    reason: str
    until: date
    status: str
    requested_by_id: int | None
    approved_by_id: int | None
    decided_at: datetime | None
    decision_note: str
    version: int


class ExceptionIn(InputSchema):
    account_id: RecordId
    reason: str = Field(..., min_length=1, max_length=500)
    until: date
    rep_id: RecordId | None = Field(None, description="Default: you.")


class DecisionIn(InputSchema):
    note: str = Field("", max_length=500)
    version: Version


@territory_router.get("/exceptions", response=list[ExceptionOut])
def list_exceptions(request, status: choice_of(BoundaryException.Status) | None = None):
    """Boundary exceptions: reps see their own, managers their teams'."""
    return list(selectors.exceptions(request.auth, status)[:1000])


@territory_router.post("/exceptions", response={201: ExceptionOut})
def request_exception(request, payload: ExceptionIn):
    """Ask to work an account outside your territories until a date."""
    # Missing and invisible accounts answer alike.
    account = selectors.visible_account(request.auth, payload.account_id)
    if account is None:
        raise NotFound(f"No account with id {payload.account_id}.")
    rep = User.objects.filter(pk=payload.rep_id).first() if payload.rep_id else None
    return Status(201, services.request_exception(by=request.auth, account=account,
                                                  reason=payload.reason, until=payload.until,
                                                  rep=rep))


@territory_router.post("/exceptions/{int:exception_id}/approve", response=ExceptionOut)
def approve_exception(request, exception_id: int, payload: DecisionIn):
    exception = _get(BoundaryException, exception_id, request.auth)
    return services.approve_exception(exception, by=request.auth, note=payload.note,
                                      expected_version=payload.version)


@territory_router.post("/exceptions/{int:exception_id}/reject", response=ExceptionOut)
def reject_exception(request, exception_id: int, payload: DecisionIn):
    exception = _get(BoundaryException, exception_id, request.auth)
    return services.reject_exception(exception, by=request.auth, note=payload.note,
                                     expected_version=payload.version)

