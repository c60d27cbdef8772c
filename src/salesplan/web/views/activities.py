"""The selling log: list, detail, forms, quick logging on a record, one-click done."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from salesplan.activities import selectors, services
from salesplan.activities.filters import ACTIVITY_LIST
from salesplan.activities.forms import ActivityForm, QuickLogForm
from salesplan.activities.models import Activity
from salesplan.core.audit import history_for
from salesplan.core.request_memo import remembers_reads
from salesplan.customers.models import Account, Contact, Lead
from salesplan.pipeline.models import Opportunity
from salesplan.ui.forms import add_service_errors
from salesplan.ui.pages import ListSpec, list_page, record_actions, visible_or_404

from .common import delete_page, detail_url, form_page, log_panel_context

ACTIVITIES = ListSpec("activity", "activities", "Activities", ACTIVITY_LIST,
                      selectors.activity_list, "activities/activity_list.html",
                      ("owner", "kind", "done", "due_after", "due_before"))
LINKABLE = {"account": Account, "contact": Contact, "lead": Lead, "opportunity": Opportunity}


@login_required
def activity_list(request):
    return list_page(request, ACTIVITIES)


@login_required
def activity_detail(request, pk):
    activity = visible_or_404(Activity, request.user, pk, related=(
        "owner", "account", "contact", "opportunity", "lead"))

    return render(request, "activities/activity_detail.html", {
        "object": activity, **record_actions(request.user, "activity", activity),
        "history": list(history_for(activity)[:50])})


@login_required
def activity_create(request):
    return form_page(request, form_class=ActivityForm, resource="activity",
                     template="activities/activity_form.html", title="New activity",
                     success_message="Activity saved.")


@login_required
def activity_edit(request, pk):
    activity = visible_or_404(Activity, request.user, pk)
    return form_page(request, form_class=ActivityForm, resource="activity", instance=activity,
                     template="activities/activity_form.html", title=f"Edit {activity}",
                     success_message="Activity saved.")


@login_required
@require_http_methods(["GET", "POST"])
def activity_delete(request, pk):
    return delete_page(request, model=Activity, resource="activity", pk=pk,
                       delete_service=services.delete_activity, label="Activity")


@login_required
@require_POST
@remembers_reads
def log_on_record(request, resource, pk):
    """The quick log form on a record's page; htmx gets the refreshed panel back."""
    if resource not in LINKABLE:
        raise Http404("Activities are logged on accounts, contacts, leads and deals.")
    record = visible_or_404(LINKABLE[resource], request.user, pk)
    form = QuickLogForm(request.POST, auto_id=f"log_%s_{resource}")
    saved = None
    if form.is_valid():
        try:
            saved = services.log_activity(by=request.user,
                                          data={**form.service_data(), resource: record})
        except ValidationError as exc:
            add_service_errors(form, exc)
    if saved is not None:
        form = QuickLogForm(auto_id=f"log_%s_{resource}")
    if request.htmx:
        context = log_panel_context(request, resource, record)
        context.update(log_form=form, logged=saved)
        return render(request, "activities/_panel.html", context)
    if saved is not None:
        messages.success(request, "Activity saved.")
        return redirect(detail_url(resource, pk))
    return render(request, "activities/log_form_page.html",
                  {"object": record, "log_form": form, "log_link": resource})


@login_required
@require_POST
def activity_done(request, pk):
    """One click: mark done. htmx swaps the row; a plain form goes back to My day."""
    activity = visible_or_404(Activity, request.user, pk)
    services.complete_activity(activity, by=request.user,
                               outcome=request.POST.get("outcome", ""))
    if request.htmx:
        return render(request, "activities/_done_row.html", {"activity": activity})
    messages.success(request, f"“{activity.subject}” is done.")
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/")
                    and not request.POST["next"].startswith("//") else "web:my_day")
