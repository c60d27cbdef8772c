"""Plan pages: the list, a plan's page (objectives grid, target and allocation forms,
status buttons, revisions, reconciliation, plan vs actual), commitments for reps.

Thin: reads from planning.selectors, writes through planning.services; a service's
refusal comes back as a message on the plan's page.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound
from salesplan.core.fiscal import CompanyCalendar
from salesplan.core.records import posted_version
from salesplan.org.models import Role

from . import access, activity_plan, changes, evaluation, scope, selectors, services
from .forms import (
    AllocateForm,
    CommitmentForm,
    MarketingCommitmentForm,
    PlanForm,
    RatesForm,
    TargetForm,
)
from .models import Level, Measure, Plan, PlanStatus

# Which transition buttons a plan shows in each status.
NEXT_STEPS = {
    PlanStatus.DRAFT: [("submit", "Submit for approval")],
    PlanStatus.SUBMITTED: [("approve", "Approve"), ("return", "Return to draft")],
    PlanStatus.APPROVED: [("activate", "Activate")],
    PlanStatus.ACTIVE: [("close", "Close…")],
    PlanStatus.CLOSED: [("reopen", "Reopen…")],
}

# Steps taken only from their confirmation page: from status, to status, message.
CONFIRMED = {
    "close": (PlanStatus.ACTIVE, "Plan closed: it is kept read-only."),
    "reopen": (PlanStatus.CLOSED, "Plan reopened: it is active again."),
}


def _step(action: str) -> Callable[..., Plan]:
    if action == "reopen":
        return lambda plan, *, by, expected_version: services.reopen_plan(
            plan, by=by, version=expected_version)
    return services.TRANSITIONS[action]


def _plan(request, pk: int) -> Plan:
    try:
        return selectors.get_plan(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


@login_required
def plan_list(request):
    teams = selectors.creatable_teams(request.user)
    return render(request, "planning/plan_list.html", {
        "nav_section": "plans", "plans": selectors.plan_list(request.user)[:200],
        "form": PlanForm(teams=teams) if teams.exists() or request.user.is_admin else None,
    })


@login_required
@require_POST
def plan_create(request):
    form = PlanForm(request.POST, teams=selectors.creatable_teams(request.user))
    if form.is_valid():
        try:
            plan = services.create_plan(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Plan {plan} started as a draft.")
            return redirect("web:planning:detail", plan.pk)
    else:
        messages.error(request, "Check the plan's name, fiscal year and team.")
    return redirect("web:planning:list")


def _plan_context(request, plan: Plan) -> dict:
    user = request.user
    calendar = CompanyCalendar.current()
    months = calendar.months(plan.fiscal_year)
    rows = selectors.objective_rows(plan, user)
    editable = access.can_edit(user, plan) and plan.status not in (
        PlanStatus.SUBMITTED, PlanStatus.CLOSED)
    is_plan_rep = user.role == Role.REP and scope.plan_reps(plan).filter(pk=user.pk).exists()
    allocatable = [r.objective for r in rows if r.objective.level != Level.REP]
    return {
        "nav_section": "plans", "plan": plan, "months": months, "rows": rows,
        "can_edit": editable, "needs_reason": plan.is_revised_on_change,
        "steps": [(a, label) for a, label in NEXT_STEPS[PlanStatus(plan.status)]
                  if _may(user, plan, a)],
        "confirmed_steps": list(CONFIRMED),
        "target_form": TargetForm() if editable else None,
        "allocate_form": AllocateForm(objectives=allocatable) if editable and allocatable
        else None,
        "commitment_form": _commitment_form(plan, user, months) if is_plan_rep
        and plan.status != PlanStatus.CLOSED else None,
        "weight_ids": _weight_ids(plan) if editable else [],
        "marketing_form": MarketingCommitmentForm(
            month_labels=[m.start.strftime("%b %Y") for m in months],
            teams=selectors.plan_teams(plan)) if user.role == Role.MARKETING
        and plan.status != PlanStatus.CLOSED else None,
        "revisions": selectors.revisions(plan),
        "recent_changes": changes.latest_changes(plan) if editable else [],
        **_activity_context(request, plan, calendar),
        "reconciliation": selectors.reconciliation(plan, user),
        "alerts": evaluation.visible_alerts(user, plan)[:50],
        "actuals": selectors.plan_vs_actual(plan, user, as_of=company_today(),
                                            calendar=calendar),
    }


def _activity_context(request, plan: Plan, calendar: CompanyCalendar) -> dict:
    form = RatesForm(request.GET or None)
    entered = form.cleaned_data if form.is_bound and form.is_valid() else {}
    return {"rates_form": form,
            "activity_plan": activity_plan.activity_plan(plan, request.user, entered, calendar)}


def _weight_ids(plan: Plan) -> list[tuple[str, int]]:
    """Who custom weights may name, with the id to write (reps, then teams)."""
    reps = [(f"Rep {u}", u.pk) for u in scope.plan_reps(plan).order_by("last_name", "id")]
    return reps + [(f"Team {t}", t.pk) for t in selectors.plan_teams(plan)]


def _may(user, plan: Plan, action: str) -> bool:
    if action == "approve":
        return access.can_approve(user, plan)
    if action == "return":
        return access.can_approve(user, plan) or access.can_edit(user, plan)
    if action == "reopen":
        return access.can_reopen(user, plan)
    return access.can_edit(user, plan)


def _commitment_form(plan: Plan, user, months) -> CommitmentForm:
    labels = [m.start.strftime("%b %Y") for m in months]
    initial = {f"m{month}": amount for month, amount in
               selectors.own_commitments(plan, user, Measure.BOOKINGS).items()}
    return CommitmentForm(initial={"measure": Measure.BOOKINGS, **initial}, month_labels=labels)


def _problems(form) -> str:
    return " ".join(f"{field}: {' '.join(str(e) for e in errors)}"
                    for field, errors in form.errors.items())


@login_required
def plan_detail(request, pk: int):
    plan = _plan(request, pk)
    return render(request, "planning/plan_detail.html", _plan_context(request, plan))


def _apply(request, plan: Plan, change: Callable[[], object], success: str):
    """Run a service; its refusal becomes a message, permission errors stay a 403."""
    try:
        change()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("web:planning:detail", plan.pk)


@login_required
@require_POST
def plan_transition(request, pk: int, action: str):
    plan = _plan(request, pk)
    if action not in services.TRANSITIONS and action not in CONFIRMED:
        raise Http404(f"No plan action {action!r}.")
    if action in CONFIRMED and request.POST.get("confirm") != "yes":
        # Closing and reopening are taken from their confirmation page only.
        return redirect("web:planning:confirm", plan.pk, action)
    version = posted_version(request.POST)
    success = CONFIRMED[action][1] if action in CONFIRMED else f"Plan {action} done."
    return _apply(request, plan, lambda: _step(action)(
        plan, by=request.user, expected_version=version), success)


@login_required
def plan_confirm(request, pk: int, action: str):
    """What closing or reopening the plan does, and the button that does it."""
    plan = _plan(request, pk)
    if action not in CONFIRMED:
        raise Http404(f"No plan action {action!r} to confirm.")
    if not _may(request.user, plan, action):
        raise PermissionDenied(f"You may not {action} this plan.")
    if plan.status != CONFIRMED[action][0]:
        messages.error(request, f"The plan is {plan.get_status_display().lower()}; "
                                f"it cannot be {'closed' if action == 'close' else 'reopened'}.")
        return redirect("web:planning:detail", plan.pk)
    return render(request, "planning/confirm_status.html", {
        "nav_section": "plans", "plan": plan, "action": action,
        "impact": selectors.status_impact(plan)})


@login_required
@require_POST
def plan_target(request, pk: int):
    plan = _plan(request, pk)
    access.require_edit(request.user, plan)
    form = TargetForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Check the target: {_problems(form)}")
        return redirect("web:planning:detail", plan.pk)
    data = form.cleaned_data
    return _apply(request, plan, lambda: services.set_plan_target(
        plan, by=request.user, measure=data["measure"], total=data["total"],
        phasing=data["phasing"], profile=data["profile"], reason=data["reason"],
        expected_version=posted_version(request.POST)),
        "Target set.")


@login_required
@require_POST
def plan_commit(request, pk: int):
    plan = _plan(request, pk)
    labels = [m.start.strftime("%b %Y")
              for m in CompanyCalendar.current().months(plan.fiscal_year)]
    form = CommitmentForm(request.POST, month_labels=labels)
    if not form.is_valid():
        messages.error(request, "Every month needs an amount of zero or more.")
        return redirect("web:planning:detail", plan.pk)
    return _apply(request, plan, lambda: services.submit_commitment(
        plan, by=request.user, measure=form.cleaned_data["measure"], months=form.months()),
        "Commitment submitted.")


@login_required
@require_POST
def marketing_commit(request, pk: int):
    plan = _plan(request, pk)
    labels = [m.start.strftime("%b %Y")
              for m in CompanyCalendar.current().months(plan.fiscal_year)]
    form = MarketingCommitmentForm(request.POST, month_labels=labels,
                                   teams=selectors.plan_teams(plan))
    if not form.is_valid():
        messages.error(request, f"Check the commitment: {_problems(form)}")
        return redirect("web:planning:detail", plan.pk)
    data = form.cleaned_data
    return _apply(request, plan, lambda: services.submit_marketing_commitment(
        plan, by=request.user, team=data["team"], measure=data["measure"],
        months=form.months()), "Marketing commitment submitted.")


@login_required
def revision_detail(request, pk: int, number: int):
    plan = _plan(request, pk)
    try:
        revision = selectors.get_revision(plan, number)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    lines = selectors.revision_lines(revision, request.user)
    previous = selectors.previous_revision(plan, number)
    changes = selectors.compare_revisions(previous, revision, request.user) if previous else None
    return render(request, "planning/revision.html", {
        "nav_section": "plans", "plan": plan, "revision": revision, "lines": lines,
        "previous": previous, "changes": changes,
        "months": CompanyCalendar.current().months(plan.fiscal_year)})
