"""API for territory management (mounted at /api/v1/territories).

    GET/POST   /alignments                      versions of the territory map
    GET/PATCH  /alignments/{id}
    POST       /alignments/{id}/assign          full assignment run (202, a job)
    GET        /jobs/{id}                       deprecated: the job at /api/v1/jobs/{id}
    POST       /alignments/{id}/optimise        rebalance into a new draft (202, a run)
    GET        /optimisations/{id}              an optimisation's progress and metrics
    POST       /alignments/{id}/activate        make a draft active at once (deprecated)
    POST       /alignments/{id}/activate/preview   what activating would move (no write)
    POST       /alignments/{id}/activate/apply  activate as previewed (202, a job)
    GET        /alignments/{id}/what-if         compare with the active alignment
    GET        /alignments/{id}/conflicts       ties priority cannot settle
    GET/POST   /alignments/{id}/territories     the hierarchy (cursor pages)
    GET/PATCH/DELETE /{id}                      one territory
    GET        /{id}/accounts                   its accounts you may see, with reasons
    GET        /{id}/size                       size, potential, bookings, capacity
    POST       /rules/preview                   how many accounts a rule would cover
    GET/POST   /{id}/goals                      goals that add up to the parent's
    GET        /violations, POST /violations/fix
    GET/POST   /exceptions, POST /exceptions/{id}/approve|reject

and from the record kit (`core.record_kit`), a territory's parts, listed and added under
it, each named on its own (get, change, delete, audit; named accounts are not changed):

    /{id}/rules (+ export.csv)             /rules/{rule_id}
    /{id}/members (+ export.csv)           /members/{member_id}
    /{id}/named-accounts (+ export.csv)    /named-accounts/{named_id}
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from ninja import Query, Router, Status

from salesplan.core.api_support import PageParams, VersionParam, choice_of, get_record
from salesplan.core.errors import NotFound
from salesplan.core.jobs_api import ACCEPTED, accepted, add_deprecated_alias
from salesplan.core.listing import keyset_page
from salesplan.core.record_kit import Actions, Parent, RecordType, install
from salesplan.core.registry import require
from salesplan.customers.models import Account
from salesplan.engines.territory_rules import validate_rule
from salesplan.org.models import User

from . import goals, selectors, services
from .models import (
    Alignment,
    BoundaryException,
    BoundaryRule,
    NamedAccount,
    Territory,
    TerritoryMember,
)
from .schemas import (
    ActivateIn,
    ActivationApplyIn,
    ActivationPreviewIn,
    ActivationPreviewOut,
    AlignmentIn,
    AlignmentOut,
    AlignmentPatch,
    AssignedPage,
    ConflictPage,
    DecisionIn,
    ExceptionIn,
    ExceptionOut,
    GoalOut,
    GoalsIn,
    MemberIn,
    MemberPatch,
    NamedIn,
    NamedOut,
    OptimisationOut,
    OptimiseIn,
    PreviewOut,
    RealignmentOut,
    SizeOut,
    TerritoryFixIn,
    TerritoryFixOut,
    TerritoryIn,
    TerritoryMemberOut,
    TerritoryOut,
    TerritoryPage,
    TerritoryPatch,
    TerritoryRuleIn,
    TerritoryRuleOut,
    TerritoryRulePatch,
    ViolationOut,
    WhatIfOut,
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


@territory_router.post("/alignments/{int:id}/activate", response=RealignmentOut,
                       deprecated=True)
def activate_alignment(request, id: int, payload: ActivateIn):
    """Make a draft active at once, in one recorded step; the previous one is archived.
    Deprecated: preview it (`/activate/preview`) and apply the preview (`/activate/apply`),
    which runs as a job and refuses a stale preview."""
    return services.activate_alignment(_get(Alignment, id, request.auth), by=request.auth,
                                       ownership=payload.ownership,
                                       expected_version=payload.version)


def _preview_out(preview) -> dict:
    return {"alignment_id": preview.alignment.pk,
            "previous_id": preview.previous.pk if preview.previous else None,
            **{k: getattr(preview, k) for k in (
                "ownership", "moved_accounts", "total_accounts", "share", "warnings", "moves",
                "territories", "reps", "fingerprint")}}


@territory_router.post("/alignments/{int:id}/activate/preview", response=ActivationPreviewOut,
                       by_alias=False)
def preview_activation(request, id: int, payload: ActivationPreviewIn):
    """What activating this draft would do: accounts moved per territory, what each rep
    gains and loses when ownership moves, a warning when a large share moves. Nothing is
    written; apply it with `/activate/apply` and the `fingerprint`."""
    from .activation import preview_activation as preview

    return _preview_out(preview(_get(Alignment, id, request.auth), by=request.auth,
                                ownership=payload.ownership))


@territory_router.post("/alignments/{int:id}/activate/apply", **ACCEPTED)
def apply_activation(request, response: HttpResponse, id: int, payload: ActivationApplyIn):
    """Activate the draft as previewed, as a background job (202); a preview drawn before
    the alignments, their members or the accounts changed is refused (409)."""
    from .activation import confirm_activation

    job = confirm_activation(_get(Alignment, id, request.auth), by=request.auth,
                             ownership=payload.ownership, version=payload.version,
                             fingerprint=payload.fingerprint)
    return accepted(response, job)


@territory_router.get("/alignments/{int:id}/what-if", response=WhatIfOut, by_alias=False)
def compare_alignment(request, id: int, base_id: int | None = None):
    """Accounts that move if this alignment replaced the active one (or `base_id`), with
    potential and open pipeline, and every territory's before/after balance."""
    draft = _get(Alignment, id, request.auth)
    base = _get(Alignment, base_id, request.auth) if base_id else None
    require(request.auth, "alignment_comparison", "view")
    return selectors.what_if(draft, base)


@territory_router.get("/alignments/{int:id}/conflicts", response=ConflictPage)
def list_conflicts(request, id: int, params: Query[PageParams]):
    """Accounts claimed by territories of one type at the same priority and level."""
    alignment = _get(Alignment, id, request.auth)
    return _page(alignment.conflicts.all(), params)


# --- territories ------------------------------------------------------------------------


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


@territory_router.get("/{int:id}/accounts", response=AssignedPage)
def territory_accounts(request, id: int, params: Query[PageParams]):
    """The territory's accounts that you may see, each with the reason it is here."""
    territory = _get(Territory, id, request.auth)
    return _page(selectors.assigned_accounts(request.auth, [territory.pk]), params)


@territory_router.get("/{int:id}/size", response=SizeOut)
def territory_size(request, id: int, window_days: int = Query(365, ge=1, le=3660),
                   calls_per_day: int = Query(6, ge=1, le=100)):
    """Accounts by tier, potential, bookings and sales per selling day over the last
    `window_days`, and capacity (members × selling days × calls per day)."""
    territory = _get(Territory, id, request.auth)
    start, end = goals.default_window(window_days)
    return goals.territory_size(territory, window_start=start, window_end=end,
                                calls_per_day=calls_per_day)


# --- rules, members and named accounts (the record kit) -----------------------------


@territory_router.post("/rules/preview", response=PreviewOut)
def preview_rule(request, payload: TerritoryRuleIn):
    """How many accounts a rule would cover (for the rule editor's live count; checks
    the rule first, so a bad rule answers with the field that is wrong)."""
    services.require_view(request.auth)
    conditions = payload.model_dump()["conditions"]
    _, errors = validate_rule(payload.combine, conditions)
    if errors:
        raise ValidationError({"conditions": [f"{f}: {m}" for f, m in errors]})
    count, capped = selectors.rule_coverage(payload.combine, conditions)
    return {"accounts": count, "capped": capped}


def _member_user(user, pk: int) -> User:
    found = User.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError({"user_id": f"No user with id {pk}."})
    return found


def _name_account(*, by, data) -> NamedAccount:
    """The territory's right is checked before the account is looked for."""
    territory = data.pop("territory")
    require(by, "territory", "name_accounts", territory)
    account = get_record(Account, by, data.pop("account"))
    return services.set_named_account(territory, account, by=by, **data)


# A territory's rules, members and named accounts are listed and added under it
# (/{id}/rules) and named on their own (/rules/{rule_id}); each is changed by whoever
# may change that part of the territory.
TERRITORY = Parent(segment="", param="id", field="territory", lookup=selectors.get_territory,
                   label="territory")

rules = RecordType(
    name="rule", plural="rules", path="rules", id_param="rule_id", item_prefix="rules",
    label="boundary rule", resource="territory", model=BoundaryRule,
    actions=Actions(view="view", create="manage_rules", change="manage_rules",
                    delete="manage_rules"),
    rows=selectors.rule_rows, out=TerritoryRuleOut, parent=TERRITORY, paged=False,
    create_in=TerritoryRuleIn, patch_in=TerritoryRulePatch,
    create=lambda *, by, data: services.create_rule(data.pop("territory"), by=by, **data),
    update=lambda rule, *, by, data, expected_version: services.update_rule(
        rule, by=by, expected_version=expected_version, **data),
    delete=services.delete_rule,
    summaries={"list": "The territory's rules, in the order they are tried",
               "create": "Add a boundary rule; the accounts it covers are re-assigned",
               "update": "Change a rule; the accounts it could cover are re-assigned"})

members = RecordType(
    name="member", plural="members", path="members", id_param="member_id",
    item_prefix="members", label="territory member", resource="territory",
    model=TerritoryMember,
    actions=Actions(view="view", create="manage_members", change="manage_members",
                    delete="manage_members"),
    rows=selectors.member_rows, out=TerritoryMemberOut, parent=TERRITORY, paged=False,
    create_in=MemberIn, patch_in=MemberPatch, references={"user_id": _member_user},
    create=lambda *, by, data: services.add_member(data.pop("territory"), by=by, **data),
    update=services.update_member, delete=services.remove_member,
    summaries={"list": "Everyone who works or worked the territory, current and ended"})

named_accounts = RecordType(
    name="named_account", plural="named_accounts", path="named-accounts",
    id_param="named_id", item_prefix="named-accounts", label="named account",
    resource="territory", model=NamedAccount,
    actions=Actions(view="view", create="name_accounts", change="name_accounts",
                    delete="name_accounts"),
    rows=selectors.named_account_rows, out=NamedOut, parent=TERRITORY, paged=False,
    create_in=NamedIn, create=_name_account, delete=services.remove_named_account,
    summaries={"list": "The accounts named into or kept out of the territory",
               "create": "Put an account into (include) or keep it out of (exclude) the "
                         "territory"})

install(territory_router, "/territories", [rules, members, named_accounts])




# --- goals -------------------------------------------------------------------------------


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

