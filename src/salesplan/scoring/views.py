"""Scoring pages: rules, the predictive model with its held-out measures, leads by score,
and the score panel on a lead's page.

Thin: reads from `selectors` (scores of visible leads only), writes through `services`.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from salesplan.core.errors import NotFound
from salesplan.core.listing import keyset_page
from salesplan.core.records import posted_version
from salesplan.engines.lead_scoring import NUMBER_OPERATORS, TEXT_OPERATORS
from salesplan.ui import charts
from salesplan.ui.forms import add_service_errors

from . import selectors, services
from .facts import FACT_FIELDS, campaign_responses_available
from .forms import RuleForm, TrainForm
from .models import Grade, ScoringRule


def _require_manage(user) -> None:
    if not services.can_manage(user):
        raise PermissionDenied("Only marketing users and admins may change lead scoring.")


@login_required
def rules(request):
    """The rules marketing configures; everyone may read them."""
    can_edit = services.can_manage(request.user)
    form = RuleForm(request.POST or None) if can_edit else None
    if request.method == "POST":
        _require_manage(request.user)
        if form is not None and form.is_valid():
            try:
                rule = services.create_rule(by=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Rule “{rule}” added; rescore leads to apply it.")
                return redirect("web:scoring:rules")
    return render(request, "scoring/rules.html", {
        "nav_section": "scoring", "rules": ScoringRule.objects.all(), "form": form,
        "can_edit": can_edit, "responses_tracked": campaign_responses_available(),
        "facts": [(f, ", ".join(NUMBER_OPERATORS if f.numeric else TEXT_OPERATORS))
                  for f in FACT_FIELDS.values()],
    })


@login_required
@require_POST
def rule_toggle(request, pk: int):
    rule = ScoringRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404("No such rule.")
    services.update_rule(rule, by=request.user, data={"active": not rule.active},
                         expected_version=posted_version(request.POST))
    return redirect("web:scoring:rules")


@login_required
@require_POST
def rule_delete(request, pk: int):
    rule = ScoringRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404("No such rule.")
    services.delete_rule(rule, by=request.user, expected_version=posted_version(request.POST))
    messages.success(request, "Rule deleted; rescore leads to apply it.")
    return redirect("web:scoring:rules")


@login_required
@require_POST
def rescore_all(request):
    job = services.start_rescore(by=request.user)
    messages.success(request, "Scoring every lead in the background.")
    return redirect("web:imports:job", job.pk)


def _calibration_chart(model) -> str:
    rows = model.calibration or []
    return charts.line_chart(
        [f"D{r['decile']}" for r in rows],
        {"Predicted %": [round(100 * r["predicted"], 1) for r in rows],
         "Observed %": [round(100 * r["observed"], 1) for r in rows]},
        y_name="% converted")


@login_required
def model_page(request):
    """The current model: held-out accuracy, calibration by decile, what drives it."""
    current, latest = selectors.current_model(), selectors.latest_model()
    can_edit = services.can_manage(request.user)
    form = TrainForm(request.POST or None, initial={
        "min_per_class": services.default_min_per_class()}) if can_edit else None
    if request.method == "POST":
        _require_manage(request.user)
        if form is not None and form.is_valid():
            try:
                job = services.start_training(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Training in the background; leads are rescored "
                                          "when it succeeds.")
                return redirect("web:imports:job", job.pk)
    return render(request, "scoring/model.html", {
        "nav_section": "scoring", "model": current,
        "refused": latest if latest is not None and latest != current and latest.reason
        else None,
        "chart": _calibration_chart(current) if current else "",
        "weights": selectors.feature_weights(current) if current else [],
        "history": selectors.models_list()[:20], "form": form, "can_edit": can_edit,
    })


@login_required
def lead_list(request):
    """The leads you may see, best score first."""
    sort = request.GET.get("sort") if request.GET.get("sort") in selectors.SORTS else "total"
    grade = request.GET.get("grade", "") if request.GET.get("grade") in Grade.values else ""
    open_only = request.GET.get("open") == "1"
    scores = selectors.scored_leads(request.user, sort=sort, grade=grade, open_only=open_only)
    try:
        page = keyset_page(scores, sort_field=selectors.SORTS[sort], sort_key=sort,
                           cursor=request.GET.get("cursor"), limit=50)
    except ValidationError as exc:
        raise Http404("That page of the list does not exist.") from exc
    return render(request, "scoring/lead_list.html", {
        "nav_section": "scoring", "page": page, "sort": sort, "grade": grade,
        "open_only": open_only, "grades": Grade.values,
        "model": selectors.current_model(),
    })


def _panel(request, pk: int, *, rescored: bool = False):
    try:
        lead, score = selectors.lead_score(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    latest = selectors.latest_model()
    return render(request, "scoring/_lead_panel.html", {
        "lead": lead, "score": score, "rescored": rescored,
        "refused": latest.reason if latest is not None and latest.reason
        and (score is None or score.probability is None) else "",
    })


@login_required
def lead_panel(request, pk: int):
    """The score panel on a lead's page (loaded by htmx)."""
    return _panel(request, pk)


@login_required
@require_POST
def lead_rescore(request, pk: int):
    try:
        lead, _ = selectors.lead_score(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    services.rescore_lead(lead, by=request.user)
    if request.htmx:
        return _panel(request, pk, rescored=True)
    return redirect("web:lead_detail", pk)
