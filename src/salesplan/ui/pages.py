"""Page helpers any app uses: finding a visible record, permission checks, list pages.

Nothing here knows a record type; the CRM's own form, delete and detail pages (with the
activity timeline) are in `salesplan.web.views.common`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render

from salesplan.core.errors import NotFound
from salesplan.core.listing import (
    ListDefinition,
    Page,
    capped_count,
    column_value,
    facet_counts,
    keyset_page,
    numbered_page,
    parse_page_number,
)
from salesplan.core.permissions import has_permission
from salesplan.core.registry import refusal_reason
from salesplan.core.selectors import get_visible
from salesplan.ui.forms import owner_choices

# Filters that name one record by id: shown as a removable chip, not as an input.
REFERENCE_FILTERS = {"account", "parent", "contact", "opportunity", "lead"}


def visible_or_404(model, user, pk, related: tuple[str, ...] = ()):
    try:
        return get_visible(model, user, pk, related=related)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def require_or_403(user, resource: str, action: str, obj=None) -> None:
    if not has_permission(user, resource, action, obj):
        raise PermissionDenied(refusal_reason(user, resource, action, obj))


def record_actions(user, resource: str, obj) -> dict:
    return {"can_change": has_permission(user, resource, "change", obj),
            "can_delete": has_permission(user, resource, "delete", obj)}


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


def _query_url(request, **changes) -> str:
    query = request.GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = str(value)
    return "?" + query.urlencode()


def pager(request, page: Page, *, number: int | None, count: int, capped: bool) -> dict:
    """Page links for the list: numbers within the counted rows (the first, the last,
    two either side of this one), a jump box, and Previous/Next. Past the counted rows
    (or on a page reached by cursor) Previous/Next go on by keyset."""
    size = settings.LIST_PAGE_SIZE
    pages = max(1, -(-count // size))
    info: dict = {"number": number, "pages": None if capped else pages,
                  "max_page": pages, "links": [], "hidden": []}
    if number is not None:
        wanted = sorted({1, pages, *range(max(1, number - 2), min(pages, number + 2) + 1)})
        previous = 0
        for n in wanted:
            if n - previous > 1:
                info["links"].append((None, ""))
            info["links"].append((n, _query_url(request, page=n, cursor=None)))
            previous = n
        info["hidden"] = [(k, v) for k, values in request.GET.lists() if k not in (
            "page", "cursor") for v in values]
    if number is not None and number > 1:
        info["previous_url"] = _query_url(request, page=number - 1, cursor=None)
    elif page.previous_cursor:
        info["previous_url"] = _query_url(request, cursor=page.previous_cursor, page=None)
    if number is not None and number < pages:
        info["next_url"] = _query_url(request, page=number + 1, cursor=None)
    elif page.next_cursor:
        info["next_url"] = _query_url(request, cursor=page.next_cursor, page=None)
    return info


def facet_links(request, facets: list) -> list[dict]:
    """Facets with a link per value: choosing it filters the list on it (page 1);
    choosing the chosen one again clears that filter."""
    shown = []
    for facet in facets:
        values = [{"label": v.label, "count": v.count, "selected": v.selected,
                   "url": _query_url(request, **{facet.name: None if v.selected else v.value,
                                                 "page": None, "cursor": None,
                                                 "facets_only": None})
                   if v.value else ""} for v in facet.values]
        shown.append({"name": facet.name, "label": facet.label, "values": values,
                      "others": facet.others, "others_exact": facet.others_exact})
    return shown


def _read_page(request, spec: ListSpec, queryset, sort: str, count: int, capped: bool):
    """(this page's rows, its number or None when reached by cursor)."""
    sort_field = spec.definition.sort_field(sort)
    cursor = request.GET.get("cursor") or None
    if cursor:
        return keyset_page(queryset, sort_field=sort_field, sort_key=sort, cursor=cursor), None
    size = settings.LIST_PAGE_SIZE
    number = min(parse_page_number(request.GET.get("page")), max(1, -(-count // size)))
    return numbered_page(queryset, sort_field=sort_field, sort_key=sort, number=number), number


def facets_fragment(request, spec: ListSpec):
    """The list's facet counts alone: the page asks for them once it is shown (htmx), so
    the rows never wait for the counting."""
    try:
        facets = facet_counts(spec.definition, spec.selector, request.user, request.GET)
    except ValidationError:
        facets = []
    return render(request, "web/_facets.html", {"facets": facet_links(request, facets)})


def list_page(request, spec: ListSpec, extra: dict | None = None):
    """The full list page, or only its rows for an htmx request from the list itself.
    The rows are counted once, for the count and the page numbers; the facets follow in
    their own request (`facets_only`)."""
    require_or_403(request.user, spec.resource, "view")
    if request.GET.get("facets_only") and spec.definition.facets:
        return facets_fragment(request, spec)
    sort = request.GET.get("sort") or spec.definition.default_sort
    errors: dict = {}
    try:
        queryset = spec.selector(request.user, request.GET)
        spec.definition.sort_field(sort)
        count, capped = capped_count(queryset)
        page, number = _read_page(request, spec, queryset, sort, count, capped)
    except ValidationError as exc:
        errors = exc.message_dict
        page, count, capped, number = Page([], None, None, sort), 0, False, 1
    export_query = request.GET.copy()
    export_query.pop("cursor", None)
    export_query.pop("page", None)
    columns = spec.definition.chosen_columns(",".join(request.GET.getlist("cols")))
    chosen = {key for key, _ in columns}
    context = {
        "spec": spec, "page": page, "rows": page.items, "count": count, "capped": capped,
        "pager": pager(request, page, number=number, count=count, capped=capped),
        "facets_url": _query_url(request, facets_only=1, page=None, cursor=None)
        if spec.definition.facets and not errors else "",
        "sort": sort, "errors": errors, "filters": filter_controls(request, spec, errors),
        "chips": reference_chips(request, spec), "q": request.GET.get("q", ""),
        "filters_active": any(request.GET.get(name) for name in spec.filter_names),
        "export_query": export_query.urlencode(),
        "can_create": has_permission(request.user, spec.resource, "create"),
        "list_url": request.path, "columns": columns,
        "column_keys": [key for key, _ in columns],
        "cells": [(row, [column_value(row, c.path) for _, c in columns]) for row in page.items]
        if columns else [],
        "column_choices": [(key, c.label, key in chosen)
                           for key, c in spec.definition.columns.items()],
        "detail_route": f"web:{spec.resource}_detail", **(extra or {}),
    }
    template = spec.template
    if request.htmx and not request.htmx.history_restore_request \
            and request.htmx.target == "list-results":
        template = "web/_columns_table.html" if columns else template + "#rows"
    return render(request, template, context)
