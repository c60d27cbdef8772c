"""The visit settings page (admins): the travel estimate, the routing server, visit
defaults and horizon, and the frequency rules per tier and industry. Each form posts on
its own; with htmx its section is redrawn in place (422 with the field's error, 409 when
someone saved first), without it the page reloads."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from salesplan.core.errors import STALE_MESSAGE, StaleVersion
from salesplan.core.records import posted_version
from salesplan.ui.pages import require_or_403

from . import planner, services
from .forms import FrequencyRuleForm, VisitSettingsForm
from .models import FrequencyRule

TEMPLATE = "visits/settings.html"


def _rule_rows(user, edited: FrequencyRuleForm | None) -> list:
    return [(rule, edited if edited is not None and edited.instance.pk == rule.pk
             else FrequencyRuleForm(instance=rule, prefix=f"rule-{rule.pk}", user=user))
            for rule in FrequencyRule.objects.all()]


def _page(request, *, part: str = "", status: int = 200, notice: str = "",
          settings_form=None, rule_form=None, add_form=None):
    """The whole page, or (for htmx) only the section a form posted from."""
    context = {"nav_section": "visit_settings", "notice": notice, "notice_part": part,
               "stale_message": STALE_MESSAGE,
               "settings_form": settings_form or VisitSettingsForm(
                   instance=planner.settings(), user=request.user),
               "rules": _rule_rows(request.user, rule_form),
               "add_form": add_form or FrequencyRuleForm(prefix="new", user=request.user)}
    template = f"{TEMPLATE}#{part}" if part and request.htmx else TEMPLATE
    return render(request, template, context, status=status)


def _done(request, part: str, notice: str):
    if request.htmx:
        return _page(request, part=part, notice=notice)
    messages.success(request, notice)
    return redirect("web:visits:settings")


def _refused(form) -> int:
    """409 when someone saved first, else 422: the form says which field is wrong."""
    return 409 if STALE_MESSAGE in form.non_field_errors() else 422


@login_required
def settings_page(request):
    require_or_403(request.user, "visit_settings", "change")
    if request.method != "POST":
        return _page(request)
    form = VisitSettingsForm(request.POST, instance=planner.settings(), user=request.user)
    if form.is_valid() and form.save(by=request.user) is not None:
        return _done(request, "settings-form", "Visit settings saved.")
    return _page(request, part="settings-form", status=_refused(form), settings_form=form)


@login_required
@require_POST
def rule_add(request):
    require_or_403(request.user, "visit_rule", "change")
    form = FrequencyRuleForm(request.POST, prefix="new", user=request.user)
    if form.is_valid() and form.save(by=request.user) is not None:
        return _done(request, "rules", "Frequency rule added.")
    return _page(request, part="rules", status=_refused(form), add_form=form)


def _rule(pk: int) -> FrequencyRule:
    rule = FrequencyRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404("No such frequency rule.")
    return rule


@login_required
@require_POST
def rule_change(request, pk: int):
    require_or_403(request.user, "visit_rule", "change")
    form = FrequencyRuleForm(request.POST, instance=_rule(pk), prefix=f"rule-{pk}",
                             user=request.user)
    if form.is_valid() and form.save(by=request.user) is not None:
        return _done(request, "rules", "Frequency rule saved.")
    return _page(request, part="rules", status=_refused(form), rule_form=form)


@login_required
@require_POST
def rule_delete(request, pk: int):
    require_or_403(request.user, "visit_rule", "change")
    try:
        services.delete_rule(_rule(pk), by=request.user,
                             expected_version=posted_version(request.POST))
    except StaleVersion:
        if request.htmx:
            return _page(request, part="rules", status=409, notice=STALE_MESSAGE)
        messages.error(request, STALE_MESSAGE)
        return redirect("web:visits:settings")
    return _done(request, "rules", "Frequency rule deleted.")
