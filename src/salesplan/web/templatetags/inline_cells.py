"""`{% cell row "owner" %}`: a list cell the user may change in place (when the field is
one the list edits and the user may change the row), else its plain value;
`{% row_version row %}`: the version the row's cells send."""

from functools import lru_cache

from django import template
from django.urls import reverse
from django.utils.html import format_html

from salesplan.web import cells

register = template.Library()


@register.simple_tag(takes_context=True)
def cell(context, row, name: str):
    resource = context["spec"].resource
    spec = cells.CELLS.get(resource, {}).get(name)
    request = context["request"]
    cache = context.render_context.setdefault("inline_cells", {})
    if spec is None:
        return ""
    if not cells.may_edit_row(request.user, resource, row, cache):
        return spec.display(row)
    display = spec.display(row)
    # Built here rather than from web/_cell.html (which the cell's own answers use): a
    # list draws hundreds of cells, and a template render each would cost more than the
    # rest of the page.
    return format_html(
        '<button type="button" class="cell-value" data-inline-edit hx-get="{}" '
        'hx-include="#version-{}-{}" hx-target="closest td" hx-swap="innerHTML" '
        'aria-label="Change {}: {}">{}</button>', _cell_url(resource, row.pk, name), resource,
        row.pk, spec.label.lower(), display or "not set", display or "—")


@lru_cache(maxsize=64)
def _url_pattern(resource: str, name: str) -> tuple[str, str]:
    head, tail = reverse("web:list_cell", args=[resource, 1, name]).rsplit("/1/", 1)
    return head + "/", "/" + tail


def _cell_url(resource: str, pk: int, name: str) -> str:
    head, tail = _url_pattern(resource, name)
    return f"{head}{pk}{tail}"


@register.simple_tag(takes_context=True)
def row_version(context, row):
    resource = context["spec"].resource
    if resource not in cells.CELLS or not hasattr(row, "version"):
        return ""
    return format_html('<input type="hidden" id="version-{}-{}" name="version" value="{}">',
                       resource, row.pk, row.version)


@register.filter
def editable_column(key: str, resource: str) -> bool:
    return key in cells.CELLS.get(resource, {})
