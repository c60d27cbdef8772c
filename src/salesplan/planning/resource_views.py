"""The plan's resources page: seats with their selling days, hours and calls month by
month, leave, the budget; forms to add a person or a planned hire, leave and budget."""

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from salesplan.core.fiscal import CompanyCalendar
from salesplan.core.records import posted_version
from salesplan.org.models import Role, User

from . import access, resources, scope, selectors
from .models import BudgetCategory, PlanResource
from .views import _plan


class ResourceForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False,
                                  help_text="A person on the team, or leave empty for a hire.")
    name = forms.CharField(max_length=200, required=False, help_text="Name of the planned hire.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REP)
    start_date = forms.DateField(required=False)
    ramp = forms.CharField(required=False, help_text="Percent productive per month, e.g. 25,50,75.")
    selling_hours_per_day = forms.DecimalField(min_value=0, max_value=24, initial=6)
    calls_per_day = forms.DecimalField(min_value=0, initial=8)
    meetings_per_day = forms.DecimalField(min_value=0, initial=2)

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        if people is not None:
            cast(forms.ModelChoiceField, self.fields["user"]).queryset = people

    def clean_ramp(self) -> list[int]:
        text = self.cleaned_data["ramp"].strip()
        try:
            return [int(p) for p in text.replace(" ", "").split(",") if p]
        except ValueError as exc:
            raise forms.ValidationError("Give whole percentages separated by commas.") from exc


class LeaveForm(forms.Form):
    resource = forms.IntegerField()
    start = forms.DateField()
    end = forms.DateField()
    note = forms.CharField(max_length=200, required=False)


class BudgetForm(forms.Form):
    category = forms.ChoiceField(choices=BudgetCategory.choices)
    description = forms.CharField(max_length=200)
    month = forms.IntegerField(min_value=1, max_value=12)
    amount = forms.DecimalField(min_value=0, decimal_places=2)


def _people(plan):
    return scope.plan_reps(plan).order_by("last_name", "id")


@login_required
def resources_page(request, pk: int):
    plan = _plan(request, pk)
    calendar = CompanyCalendar.current()
    editable = access.can_edit(request.user, plan)
    seats = resources.capacity(plan, calendar)
    if not access.sees_every_objective(request.user):
        seats = [s for s in seats if s.user_id == request.user.pk]
    return render(request, "planning/resources.html", {
        "nav_section": "plans", "plan": plan, "seats": seats, "can_edit": editable,
        "months": calendar.months(plan.fiscal_year),
        "rows": selectors.seats(plan),
        "budget": resources.budget(plan) if access.sees_every_objective(request.user) else {},
        "categories": dict(BudgetCategory.choices),
        "resource_form": ResourceForm(people=_people(plan)) if editable else None,
        "leave_form": LeaveForm() if editable else None,
        "budget_form": BudgetForm() if editable else None,
    })


def _done(request, plan, change, success: str):
    try:
        change()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("web:planning:resources", plan.pk)


def _invalid(request, plan, form):
    messages.error(request, "Check the form: " + " ".join(
        f"{f}: {' '.join(str(m) for m in e)}" for f, e in form.errors.items()))
    return redirect("web:planning:resources", plan.pk)


@login_required
@require_POST
def resource_add(request, pk: int):
    plan = _plan(request, pk)
    access.require_edit(request.user, plan)
    form = ResourceForm(request.POST, people=_people(plan))
    if not form.is_valid():
        return _invalid(request, plan, form)
    return _done(request, plan, lambda: resources.add_resource(
        plan, by=request.user, **form.cleaned_data), "Resource added.")


@login_required
@require_POST
def resource_remove(request, pk: int, seat: int):
    """Take a seat out of the plan, with its leave; the form carries the plan's version."""
    plan = _plan(request, pk)
    access.require_edit(request.user, plan)
    resource = get_object_or_404(PlanResource, plan=plan, pk=seat)
    label = str(resource)
    done = _done(request, plan, lambda: resources.remove_resource(
        resource, by=request.user, expected_version=posted_version(request.POST)),
        f"{label} removed from the plan.")
    return HttpResponseClientRedirect(done.url) if request.htmx else done


@login_required
@require_POST
def leave_add(request, pk: int):
    plan = _plan(request, pk)
    access.require_edit(request.user, plan)
    form = LeaveForm(request.POST)
    if not form.is_valid():
        return _invalid(request, plan, form)
    data = form.cleaned_data
    resource = get_object_or_404(PlanResource, plan=plan, pk=data["resource"])
    return _done(request, plan, lambda: resources.add_leave(
        resource, by=request.user, start=data["start"], end=data["end"], note=data["note"]),
        "Leave added.")


@login_required
@require_POST
def budget_add(request, pk: int):
    plan = _plan(request, pk)
    access.require_edit(request.user, plan)
    form = BudgetForm(request.POST)
    if not form.is_valid():
        return _invalid(request, plan, form)
    return _done(request, plan, lambda: resources.add_budget_line(
        plan, by=request.user, **form.cleaned_data), "Budget line added.")
