"""The CRM record pages: detail (with the activity timeline), form and delete pages.

The generic pieces (finding a visible record, permission checks, list pages) are in the
UI kit, `salesplan.ui.pages`, so apps below `web` can use them too.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from salesplan.activities.forms import QuickLogForm
from salesplan.activities.selectors import timeline
from salesplan.core.audit import history_for
from salesplan.core.permissions import has_permission
from salesplan.ui.pages import record_actions, require_or_403, visible_or_404
from salesplan.web.panels import record_panels


def log_panel_context(request, resource: str, obj, history: list | None = None) -> dict:
    """What a record's activity panel shows (the log form and the timeline); after a
    call is logged, htmx redraws only this panel, so only this is read."""
    return {
        "object": obj, "timeline": timeline(request.user, obj, limit=50, history=history),
        "log_form": QuickLogForm(auto_id=f"log_%s_{resource}"),
        "log_link": resource, "can_log": has_permission(request.user, "activity", "create"),
    }


def detail_context(request, resource: str, obj) -> dict:
    history = list(history_for(obj)[:50])  # the page's history list and its timeline
    return {
        **log_panel_context(request, resource, obj, history=history),
        **record_actions(request.user, resource, obj),
        "history": history, "panels": record_panels(resource, obj.pk),
    }


def form_page(request, *, form_class, resource: str, template: str, instance=None,
              title: str = "", success_message: str = "Saved.", extra: dict | None = None):
    """Create or edit one record: the form with errors next to each field, or a redirect
    to the saved record."""
    action = "create" if instance is None else "change"
    require_or_403(request.user, resource, action, instance)
    form = form_class(request.POST or None, request.FILES or None, instance=instance,
                      user=request.user, initial=prefill(request, form_class, instance))
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if saved is not None:
            messages.success(request, success_message)
            return redirect(saved.get_absolute_url() if hasattr(saved, "get_absolute_url")
                            else detail_url(resource, saved.pk))
    cancel_url = (detail_url(resource, instance.pk) if instance is not None
                  else reverse(LIST_URLS[resource]))
    return render(request, template, {"form": form, "object": instance, "title": title,
                                      "resource": resource, "cancel_url": cancel_url,
                                      **(extra or {})})


# Links such as "New contact" on an account page name the record to start from.
PREFILL_REFERENCES = ("account", "contact", "opportunity")


def prefill(request, form_class, instance) -> dict:
    """Initial references for a new record from the query (?account=12); the form shows
    only records the user may see, so an id they may not see stays empty."""
    if instance is not None:
        return {}
    fields = getattr(form_class, "base_fields", {})
    return {name: int(request.GET[name]) for name in PREFILL_REFERENCES
            if name in fields and request.GET.get(name, "").isdigit()}


# What else goes when a record is deleted, said on the confirmation page.
DELETE_CONSEQUENCES = {
    "account": "Its activities are deleted with it; its contacts stay, without an account.",
    "contact": "Its activities stay, without the contact.",
    "lead": "Its activities are deleted with it.",
    "opportunity": "Its activities and stage history are deleted with it.",
    "activity": "",
}


def delete_page(request, *, model, resource: str, pk: int, delete_service: Callable,
                label: str):
    """Ask before deleting (a page that works without JavaScript), then delete on POST
    through the service; a refusal from the service is shown, nothing is deleted."""
    obj = visible_or_404(model, request.user, pk)
    require_or_403(request.user, resource, "delete", obj)
    error = ""
    if request.method == "POST":
        name = str(obj)
        try:
            delete_service(obj, by=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"{label} “{name}” deleted.")
            return _go(request, reverse(LIST_URLS[resource]))
        if request.htmx:
            # The hx-confirm dialog was the confirmation; show the refusal on the record.
            messages.error(request, error)
            return _go(request, detail_url(resource, pk))
    return render(request, "web/confirm_delete.html", {
        "object": obj, "resource": resource, "label": label, "error": error,
        "consequences": DELETE_CONSEQUENCES.get(resource, ""),
        "cancel_url": detail_url(resource, pk), "list_url": reverse(LIST_URLS[resource]),
        "list_label": LIST_LABELS[resource],
    })


def _go(request, url: str):
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


DETAIL_URLS = {"account": "web:account_detail", "contact": "web:contact_detail",
               "lead": "web:lead_detail", "opportunity": "web:opportunity_detail",
               "activity": "web:activity_detail"}


LIST_URLS = {"account": "web:account_list", "contact": "web:contact_list",
             "lead": "web:lead_list", "opportunity": "web:opportunity_list",
             "activity": "web:activity_list"}


LIST_LABELS = {"account": "Accounts", "contact": "Contacts", "lead": "Leads",
               "opportunity": "Opportunities", "activity": "Activities"}


def detail_url(resource: str, pk: int) -> str:
    return reverse(DETAIL_URLS[resource], args=[pk])
