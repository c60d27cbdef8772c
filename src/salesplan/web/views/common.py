"""Pieces every page uses: finding a visible record, the list machinery, form pages."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from salesplan.core.audit import history_for
from salesplan.core.errors import NotFound
from salesplan.core.listing import ListDefinition, Page, capped_count, keyset_page
from salesplan.core.permissions import has_permission
from salesplan.core.selectors import get_visible
from salesplan.web.forms import owner_choices
from salesplan.web.panels import record_panels

# Filters that name one record by id: shown as a removable chip, not as an input.
REFERENCE_FILTERS = {"account", "parent", "contact", "opportunity", "lead"}


def visible_or_404(model, user, pk, related: tuple[str, ...] = ()):
    try:
        return get_visible(model, user, pk, related=related)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def require_or_403(user, resource: str, action: str, obj=None) -> None:
    if not has_permission(user, resource, action, obj):
        raise PermissionDenied(f"You may not {action} this {resource}.")


def record_actions(user, resource: str, obj) -> dict:
    return {"can_change": has_permission(user, resource, "change", obj),
            "can_delete": has_permission(user, resource, "delete", obj)}


def detail_context(request, resource: str, obj) -> dict:
    from salesplan.activities.forms import QuickLogForm
    from salesplan.activities.selectors import timeline

    return {
        "object": obj, **record_actions(request.user, resource, obj),
        "timeline": timeline(request.user, obj, limit=50),
        "history": list(history_for(obj)[:50]),
        "log_form": QuickLogForm(auto_id=f"log_%s_{resource}"),
        "log_link": resource, "can_log": has_permission(request.user, "activity", "create"),
        "panels": record_panels(resource, obj.pk),
    }


@dataclass(frozen=True)
class ListSpec:
    """How one record type's list page is built."""

    resource: str  # permission resource, e.g. "account"
    plural: str  # URL and export name, e.g. "accounts"
    title: str
    definition: ListDefinition
    selector: Callable
    template: str
    filter_names: tuple[str, ...] = ()
    extra_options: dict[str, Callable] = field(default_factory=dict)


def filter_controls(request, spec: ListSpec, errors: dict) -> list[dict]:
    controls = []
    for name in spec.filter_names:
        definition = spec.definition.filters[name]
        control = {"name": name, "label": definition.label or name.replace("_", " ").capitalize(),
                   "value": request.GET.get(name, ""), "error": " ".join(errors.get(name, []))}
        if name == "owner":
            control["options"] = [(str(u.pk), u.get_full_name() or u.username)
                                  for u in owner_choices(request.user)]
        elif name in spec.extra_options:
            control["options"] = spec.extra_options[name]()
        elif definition.choices:
            control["options"] = [(str(k), v) for k, v in definition.choices if k != ""]
        else:
            control["input_type"] = {"date": "date", "int": "number",
                                     "decimal": "number"}.get(definition.kind, "text")
        if definition.kind == "bool":
            control["options"] = [("true", "Yes"), ("false", "No")]
        controls.append(control)
    return controls


def reference_chips(request, spec: ListSpec) -> list[dict]:
    chips = []
    for name in spec.definition.filters:
        if name in REFERENCE_FILTERS and request.GET.get(name):
            rest = request.GET.copy()
            rest.pop(name, None)
            rest.pop("cursor", None)
            chips.append({"name": name, "value": request.GET[name],
                          "label": spec.definition.filters[name].label or name,
                          "clear_url": "?" + rest.urlencode()})
    return chips


def list_page(request, spec: ListSpec, extra: dict | None = None):
    """The full list page, or only its rows for an htmx request from the list itself."""
    require_or_403(request.user, spec.resource, "view")
    sort = request.GET.get("sort") or spec.definition.default_sort
    errors: dict = {}
    try:
        queryset = spec.selector(request.user, request.GET)
        sort_field = spec.definition.sort_field(sort)
        count, capped = capped_count(queryset)
        page = keyset_page(queryset, sort_field=sort_field, sort_key=sort,
                           cursor=request.GET.get("cursor") or None)
    except ValidationError as exc:
        errors = exc.message_dict
        page, count, capped = Page([], None, None, sort), 0, False
    export_query = request.GET.copy()
    export_query.pop("cursor", None)
    context = {
        "spec": spec, "page": page, "rows": page.items, "count": count, "capped": capped,
        "sort": sort, "errors": errors, "filters": filter_controls(request, spec, errors),
        "chips": reference_chips(request, spec), "q": request.GET.get("q", ""),
        "filters_active": any(request.GET.get(name) for name in spec.filter_names),
        "export_query": export_query.urlencode(),
        "can_create": has_permission(request.user, spec.resource, "create"),
        "list_url": request.path, **(extra or {}),
    }
    template = spec.template
    if request.htmx and not request.htmx.history_restore_request \
            and request.htmx.target == "list-results":
        template += "#rows"
    return render(request, template, context)


def form_page(request, *, form_class, resource: str, template: str, instance=None,
              title: str = "", success_message: str = "Saved.", extra: dict | None = None):
    """Create or edit one record: the form with errors next to each field, or a redirect
    to the saved record."""
    action = "create" if instance is None else "change"
    require_or_403(request.user, resource, action, instance)
    form = form_class(request.POST or None, request.FILES or None, instance=instance,
                      user=request.user)
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
