"""Previewed changes to a plan's targets on the page: the allocation and re-plan forms
draw a preview (nothing is written), its "Apply" starts the job, whose page follows it
with a progress bar and offers to undo it (itself previewed)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound, PreviewChanged
from salesplan.core.models import BackgroundJob
from salesplan.core.records import posted_version

from . import access, changes, selectors
from .forms import AllocateForm
from .review_views import ReplanForm
from .views import _plan, _problems


def _show(request, plan, preview):
    return render(request, "planning/change_preview.html", {
        "nav_section": "plans", "plan": preview.plan, "preview": preview})


def _refused(request, plan, exc: ValidationError, back: str = "web:planning:detail"):
    messages.error(request, " ".join(exc.messages))
    return redirect(back, plan.pk)


@login_required
@require_POST
def allocate_preview(request, pk: int):
    """The allocation form's answer: what it would change, nothing written yet."""
    plan = _plan(request, pk)
    access.require_edit(request.user, plan)
    objectives = list(selectors.visible_objectives(plan, request.user))
    form = AllocateForm(request.POST, objectives=objectives)
    if not form.is_valid():
        messages.error(request, f"Check the allocation: {_problems(form)}")
        return redirect("web:planning:detail", plan.pk)
    data = form.cleaned_data
    parent = next((o for o in objectives if o.pk == data["objective"]), None)
    if parent is None:
        raise Http404("No such objective in this plan.")
    try:
        preview = changes.preview_allocation(parent, by=request.user, to=data["to"],
                                             method=data["method"], weights=data["weights"],
                                             reason=data["reason"])
    except ValidationError as exc:
        return _refused(request, plan, exc)
    return _show(request, plan, preview)


@login_required
@require_POST
def replan_preview(request, pk: int):
    plan = _plan(request, pk)
    access.require_edit(request.user, plan)
    form = ReplanForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a measure and say why the plan changes.")
        return redirect("web:planning:reviews", plan.pk)
    try:
        preview = changes.preview_replan(plan, by=request.user,
                                         measure=form.cleaned_data["measure"],
                                         as_of=company_today(),
                                         reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        return _refused(request, plan, exc, "web:planning:reviews")
    return _show(request, plan, preview)


@login_required
@require_POST
def undo_preview(request, pk: int, job_id: int):
    plan = _plan(request, pk)
    try:
        preview = changes.preview_undo(plan, by=request.user, job_id=job_id,
                                       reason=request.POST.get("reason", ""))
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except ValidationError as exc:
        return _refused(request, plan, exc)
    return _show(request, plan, preview)


@login_required
@require_POST
def change_apply(request, pk: int):
    """Apply exactly the previewed change, as a job; a stale preview is refused."""
    plan = _plan(request, pk)
    try:
        job = changes.confirm(plan, by=request.user, token=request.POST.get("preview", ""),
                              version=posted_version(request.POST))
    except PreviewChanged as exc:
        messages.error(request, str(exc))
        return redirect("web:planning:detail", plan.pk)
    except ValidationError as exc:
        return _refused(request, plan, exc)
    return redirect("web:planning:change", plan.pk, job.pk)


@login_required
def change_job(request, pk: int, job_id: int):
    """The change's progress; htmx polls the status part until it finishes."""
    plan = _plan(request, pk)
    job = BackgroundJob.objects.filter(kind=changes.JOB_KIND, pk=job_id,
                                       params__plan=plan.pk).first()
    if job is None or not (job.created_by_id == request.user.pk
                           or access.can_edit(request.user, plan)):
        raise Http404("No such change of this plan.")
    template = "planning/change_job.html"
    if request.htmx:
        template += "#status"
    return render(request, template, {"nav_section": "plans", "plan": plan, "job": job,
                                      "can_undo": access.can_edit(request.user, plan)})
