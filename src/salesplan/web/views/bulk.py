"""Bulk actions from the account and opportunity lists: choose, preview, confirm, follow."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from salesplan.customers import bulk
from salesplan.pipeline.models import Stage
from salesplan.ui.forms import owner_choices
from salesplan.ui.pages import require_or_403

LABELS = {"change_owner": "Change owner", "change_stage": "Change stage", "delete": "Delete"}
PLURAL = {"account": "accounts", "opportunity": "opportunities"}


def _selection(data) -> dict:
    if data.get("all"):
        return {"ids": None, "filters": QueryDict(data.get("filter", ""))}
    try:
        ids = [int(i) for i in data.getlist("ids")]
    except ValueError:
        ids = []
    return {"ids": ids, "filters": None}


@login_required
@require_http_methods(["GET", "POST"])
def bulk_page(request, resource: str):
    require_or_403(request.user, resource, "bulk_change")
    data = request.POST if request.method == "POST" else request.GET
    action = data.get("action", "")
    values = {k: data[k] for k in ("owner", "stage", "lost_reason") if data.get(k)}
    context = {
        "resource": resource, "plural": PLURAL[resource], "actions": [
            (a, LABELS[a]) for a in bulk.ACTIONS[resource]],
        "action": action, "action_label": LABELS.get(action, ""), "values": values,
        "ids": data.getlist("ids"), "all": data.get("all", ""), "filter": data.get("filter", ""),
        "owners": owner_choices(request.user) if resource == "account" else [],
        "stages": (Stage.objects.select_related("pipeline").order_by("pipeline_id", "position")
                   if resource == "opportunity" else []),
        "errors": {},
    }
    step = data.get("step", "")
    if request.method == "POST" and step in ("preview", "confirm"):
        try:
            job_request = bulk.prepare(request.user, resource, action=action, values=values,
                                       **_selection(data))
            if step == "confirm":
                job = bulk.start(request.user, job_request)
                return redirect("web:imports:job", job.pk)
            context["preview"] = bulk.preview(request.user, job_request)
        except ValidationError as exc:
            context["errors"] = exc.message_dict
    return render(request, "web/bulk.html", context)
