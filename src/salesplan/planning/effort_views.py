"""Pages for effort allocation: start a run, the manager's judgements per segment, and a
run's result (response curves with their data, current vs optimal profit, the value of
one more hour per rep, the call plan), with the button that applies it."""

from decimal import Decimal

import numpy as np
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from salesplan.core.errors import STALE_MESSAGE, NotFound, StaleVersion
from salesplan.core.records import posted_version
from salesplan.customers.models import Tier
from salesplan.ui import charts

from . import access, effort, selectors
from .models import PAYS_ABOVE_SEEN_MAX_PCT
from .views import _plan


class PaysAboveSeenField(forms.DecimalField):
    """The most calls a month the manager believes still pay, as % above the most seen."""

    def __init__(self, **kwargs) -> None:
        super().__init__(
            min_value=0, max_value=PAYS_ABOVE_SEEN_MAX_PCT, max_digits=5, decimal_places=1,
            required=False,
            label="Calls still pay up to (% above the most seen)",
            help_text="The most calls a month you believe still pay, as % above the most "
                      "a month the history holds; every curve is trusted up to there. Empty: "
                      "no curve past the most seen (a manager's curve past its +50% point).",
            **kwargs)


class PaysAboveSeenForm(forms.Form):
    pays_above_seen_pct = PaysAboveSeenField()


class EffortForm(forms.Form):
    basis = forms.ChoiceField(choices=[("account", "Each account"),
                                       ("segment", "Segments (rep × tier × industry)")])
    margin_rate = forms.DecimalField(min_value=0, max_value=1, initial="0.30",
                                     help_text="Gross margin on bookings, 0 to 1.")
    cost_per_hour = forms.DecimalField(min_value=0, initial=50)
    hours_per_call = forms.DecimalField(min_value=Decimal("0.05"), max_value=24, initial=1)
    call_share = forms.DecimalField(min_value=0, max_value=1, initial="0.60", help_text=(
        "Share of selling hours available for calls."))
    first_month = forms.IntegerField(min_value=1, max_value=12, required=False,
                                     help_text="First fiscal month to plan (default: now).")
    strategic_min = forms.DecimalField(min_value=0, required=False, initial=1, help_text=(
        "Minimum calls a month on every strategic account."))
    enterprise_min = forms.DecimalField(min_value=0, required=False)
    pays_above_seen_pct = PaysAboveSeenField()

    def params(self) -> dict:
        data = dict(self.cleaned_data)
        if data.get("pays_above_seen_pct") is None:
            data.pop("pays_above_seen_pct", None)
        coverage = {}
        for tier, key in ((Tier.STRATEGIC, "strategic_min"), (Tier.ENTERPRISE, "enterprise_min")):
            value = data.pop(key)
            if value is not None:
                coverage[str(tier)] = str(value)
        if data.get("first_month") is None:
            data.pop("first_month")
        return {**{k: str(v) for k, v in data.items()}, "min_calls_by_tier": coverage}


class JudgementForm(forms.Form):
    tier = forms.ChoiceField(choices=[("", "Any")] + list(Tier.choices), required=False)
    industry = forms.CharField(max_length=80, required=False)
    current_calls = forms.DecimalField(min_value=0, help_text="Calls per account per month now.")
    no_effort = forms.DecimalField(min_value=0, label="Bookings with no calls")
    current = forms.DecimalField(min_value=0, label="Bookings with current calls")
    plus_half = forms.DecimalField(min_value=0, label="Bookings with 50% more calls")
    saturation = forms.DecimalField(min_value=0, label="Bookings at saturation")


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def effort_page(request, pk: int):
    plan = _plan(request, pk)
    editable = access.can_edit(request.user, plan)
    return render(request, "planning/effort.html", {
        "nav_section": "plans", "plan": plan, "can_edit": editable,
        "form": EffortForm() if editable else None,
        "judgement_form": JudgementForm() if editable else None,
        "judgements": plan.judgements.all(),
        "runs": [(run, effort.visible_result(run, request.user).get("summary", {}))
                 for run in selectors.effort_runs(plan)],
    })


@login_required
@require_POST
def effort_start(request, pk: int):
    plan = _plan(request, pk)
    access.require_edit(request.user, plan)
    form = EffortForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Check the optimiser's inputs: " + " ".join(
            f"{f}: {' '.join(str(m) for m in e)}" for f, e in form.errors.items()))
        return redirect("web:planning:effort", plan.pk)
    try:
        run = effort.start_run(plan, by=request.user, params=form.params())
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("web:planning:effort", plan.pk)
    return redirect("web:planning:effort_run", plan.pk, run.pk)


@login_required
@require_POST
def judgement_save(request, pk: int):
    plan = _plan(request, pk)
    access.require_edit(request.user, plan)
    form = JudgementForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Every judgement figure is a number of zero or more.")
    else:
        try:
            effort.set_judgement(plan, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, "Judgement saved; the next run uses it.")
    return redirect("web:planning:effort", plan.pk)


def _run(plan, run_id: int):
    try:
        return effort.get_run(plan, run_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


@login_required
def effort_run(request, pk: int, run_id: int):
    plan = _plan(request, pk)
    run = _run(plan, run_id)
    result = effort.visible_result(run, request.user)
    pct = result.get("summary", {}).get("pays_above_seen_pct")
    segments = [_segment_view(seg, pct) for seg in result.get("segments", [])]
    reps = result.get("reps", [])
    rep_chart = charts.bar_chart([r["name"] for r in reps], {
        "Calls / month today": [r["current_calls_per_month"] for r in reps],
        "Today's hours, reallocated": [r.get("reallocated_calls_per_month") for r in reps],
        "With the plan's hours": [r["calls_per_month"] for r in reps]},
        y_name="Calls") if reps else None
    return render(request, "planning/effort_run.html", {
        "nav_section": "plans", "plan": plan, "run": run, "result": result,
        # The curves the plan uses come first; the others (often most of them) are folded
        # away, or the page would run to dozens of charts nobody acts on.
        "segments": segments, "unused_segments": sum(1 for s in segments if not s["trusted"]),
        "reps": reps, "rep_chart": rep_chart,
        "units": result.get("units", [])[:200], "unit_count": len(result.get("units", [])),
        "can_apply": access.can_edit(request.user, plan) and run.status == "succeeded",
        "belief_form": PaysAboveSeenForm(initial={
            "pays_above_seen_pct": run.pays_above_seen_pct})
        if access.can_edit(request.user, plan) and run.applied_at is None
        and run.status in ("succeeded", "failed") else None,
        "job": run.job,
    })


def _curve_at(points: list, x: float) -> float:
    return float(np.interp(x, [p[0] for p in points], [p[1] for p in points]))


def _segment_view(seg: dict, above_seen_pct: float | None = None) -> dict:
    """A segment's chart (the curve the plan uses, smooth over a true calls scale, solid
    up to its cap and dashed where it is held flat; the mean bookings seen at each
    number of calls beside it) and the figures its plain-language sentence reads."""
    curve = seg.get("curve_points") or []
    if not curve:
        return {**seg, "chart": None, "facts": None}
    cap = seg["cap"]
    within = [p for p in curve if p[0] <= cap + 1e-9]
    if within and within[-1][0] < cap:
        within.append([cap, _curve_at(curve, cap)])
    beyond = [[cap, _curve_at(curve, cap)], *(p for p in curve if p[0] > cap + 1e-9)]
    used = "Curve the plan uses" if seg["trusted"] else "Fitted curve (not used)"
    believed = above_seen_pct is not None and seg["source"] != "none"
    flat = ("Held flat past the calls believed to pay" if believed
            else "Held flat past the most calls seen")
    observed = [(p[0], p[1]) for p in seg.get("points") or []]
    most = max((p[0] for p in observed), default=0.0)
    marks = ({f"most seen {most:g}": most, f"believed to pay {cap:g}": cap} if believed
             else {f"most seen {cap:g}": cap})
    chart = charts.curve_chart(
        {used: within, flat: beyond}, {"Mean bookings seen": observed},
        title=f"{seg['tier'] or 'Any tier'} · {seg['industry'] or 'any industry'}",
        x_name="Calls / account / month", y_name="Bookings / account / month",
        marks=marks, dashed=[flat])
    facts = {"no_calls": _curve_at(curve, 0.0),
             "today": _curve_at(curve, seg["current_calls"]),
             "at_cap": _curve_at(curve, cap),
             "least_seen": min((p[0] for p in observed), default=0.0),
             "most_seen": most,
             "observations": sum(p[2] for p in seg.get("points") or [])}
    return {**seg, "chart": chart, "facts": facts,
            "above_seen_pct": above_seen_pct if believed else None}


@login_required
@require_POST
def effort_change(request, pk: int, run_id: int):
    """Redo the run with another belief of how far above the most calls seen calls pay."""
    plan = _plan(request, pk)
    run = _run(plan, run_id)
    access.require_edit(request.user, plan)
    form = PaysAboveSeenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Calls still pay up to: " + " ".join(
            str(m) for m in form.errors["pays_above_seen_pct"]))
        return redirect("web:planning:effort_run", plan.pk, run.pk)
    try:
        effort.change_pays_above_seen(
            run, by=request.user, pays_above_seen_pct=form.cleaned_data["pays_above_seen_pct"],
            expected_version=posted_version(request.POST))
    except StaleVersion:
        messages.error(request, STALE_MESSAGE)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, "The run is being redone with that belief.")
    return redirect("web:planning:effort_run", plan.pk, run.pk)


@login_required
@require_POST
def effort_apply(request, pk: int, run_id: int):
    plan = _plan(request, pk)
    run = _run(plan, run_id)
    try:
        effort.apply_run(run, by=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("web:planning:effort_run", plan.pk, run.pk)
    messages.success(request, "The call plan is now the plan's activity targets.")
    return redirect("web:planning:detail", plan.pk)
