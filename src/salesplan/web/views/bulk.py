"""Bulk actions from the CRM lists: choose (rows, this page, or everything the filter
matches), preview, confirm, follow the job."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from salesplan.customers import bulk
from salesplan.marketing.models import Campaign, CampaignStatus, Response
from salesplan.pipeline.models import Stage
from salesplan.ui.forms import owner_choices
from salesplan.ui.pages import require_or_403

VALUE_FIELDS = ("owner", "stage", "lost_reason", "campaign", "response", "columns")


def _selection(data) -> dict:
    scope = data.get("scope") or ("all" if data.get("all") else "chosen")
    if scope == "all":
        return {"ids": None, "filters": QueryDict(data.get("filter", ""))}
    try:
        ids = [int(i) for i in data.getlist("page_ids" if scope == "page" else "ids")]
    except ValueError:
        ids = []
    return {"ids": ids, "filters": None}


def _campaigns(names: set[str]):
    if "add_to_campaign" not in names:
        return []
    return Campaign.objects.filter(status__in=(CampaignStatus.PLANNED, CampaignStatus.ACTIVE)
                                   ).order_by("name", "id")


@login_required
@require_http_methods(["GET", "POST"])
def bulk_page(request, resource: str):
    require_or_403(request.user, resource, "bulk_change")
    data = request.POST if request.method == "POST" else request.GET
    action = data.get("action", "")
    actions = bulk.actions_for(resource)
    names = {a.name for a in actions}
    labels = {a.name: a.label for a in actions}
    values = {k: data[k] for k in VALUE_FIELDS if data.get(k)}
    selection = _selection(data)
    context = {
        "resource": resource, "plural": bulk.PLURAL[resource],
        "actions": [(a.name, a.label) for a in actions],
        "action": action, "action_label": labels.get(action, ""), "values": values,
        "ids": [str(i) for i in selection["ids"] or []], "all": "1" if selection["ids"] is None
        else "", "filter": data.get("filter", ""),
        "owners": owner_choices(request.user) if "change_owner" in names else [],
        "stages": (Stage.objects.select_related("pipeline").order_by("pipeline_id", "position")
                   if "change_stage" in names else []),
        "campaigns": _campaigns(names), "responses": Response.choices,
        "errors": {},
    }
    step = data.get("step", "")
    if request.method == "POST" and step in ("preview", "confirm"):
        try:
            job_request = bulk.prepare(request.user, resource, action=action, values=values,
                                       **selection)
            if step == "confirm":
                job = bulk.start(request.user, job_request)
                return redirect("web:imports:job", job.pk)
            context["preview"] = bulk.preview(request.user, job_request)
        except ValidationError as exc:
            context["errors"] = exc.message_dict
    return render(request, "web/bulk.html", context)
