"""Reviews (freeze the numbers with notes and decisions, compare two) and re-planning."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound

from . import access, reviews, selectors
from .models import Measure
from .views import _plan


class ReviewForm(forms.Form):
    as_of = forms.DateField(required=False, help_text="Default: today.")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    decisions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ReplanForm(forms.Form):
    measure = forms.ChoiceField(choices=Measure.choices)
    reason = forms.CharField(max_length=2000, help_text="Why the plan changes (a revision).")


@login_required
def reviews_page(request, pk: int):
    plan = _plan(request, pk)
    found = selectors.reviews(plan)
    changes, pair = None, None
    older_id, newer_id = request.GET.get("older"), request.GET.get("newer")
    if older_id and newer_id:
        try:
            pair = (reviews.get_review(plan, int(older_id)),
                    reviews.get_review(plan, int(newer_id)))
        except (NotFound, ValueError) as exc:
            raise Http404(str(exc)) from exc
        changes = reviews.compare_reviews(pair[0], pair[1], request.user)
    editable = access.can_edit(request.user, plan)
    return render(request, "planning/reviews.html", {
        "nav_section": "plans", "plan": plan, "reviews": found, "changes": changes,
        "pair": pair, "form": ReviewForm() if editable else None,
        "replan_form": ReplanForm() if editable else None,
        "needs_reason": plan.is_revised_on_change,
    })


@login_required
def review_detail(request, pk: int, review_id: int):
    plan = _plan(request, pk)
    try:
        review = reviews.get_review(plan, review_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    return render(request, "planning/review.html", {
        "nav_section": "plans", "plan": plan, "review": review,
        "rows": reviews.review_rows(review, request.user),
        "alerts": review.snapshot.get("alerts", [])
        if access.sees_every_objective(request.user) else [],
    })


@login_required
@require_POST
def review_create(request, pk: int):
    plan = _plan(request, pk)
    access.require_edit(request.user, plan)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Check the review's date.")
        return redirect("web:planning:reviews", plan.pk)
    data = form.cleaned_data
    review = reviews.create_review(plan, by=request.user,
                                   as_of=data["as_of"] or company_today(),
                                   notes=data["notes"], decisions=data["decisions"])
    messages.success(request, "Review recorded: the numbers of the day are frozen in it.")
    return redirect("web:planning:review", plan.pk, review.pk)
