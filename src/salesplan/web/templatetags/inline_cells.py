"""`{% cell row "owner" %}`: a list cell the user may change in place (when the field is
one the list edits and the user may change the row), else its plain value;
`{% row_version row %}`: the version the row's cells send."""

from functools import lru_cache

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

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
    display = escape(spec.display(row))
    # Built here rather than from web/_cell.html (which the cell's own answers use): a
    # list draws hundreds of cells, and a template render each would cost more than the
    # rest of the page. Only the value is escaped: the resource, the label and the id
    # come from the code and the database's integer key, and escaping every part (as
    # format_html does) was a fifth of a list page's processor time.
    label = _label(resource, name)
    return mark_safe(  # noqa: S308 (the value is escaped above, the rest is ours)
        f'<button type="button" class="cell-value" data-inline-edit '
        f'hx-get="{_cell_url(resource, row.pk, name)}" '
        f'hx-include="#version-{resource}-{int(row.pk)}" hx-target="closest td" '
        f'hx-swap="innerHTML" aria-label="Change {label}: {display or "not set"}">'
        f'{display or "—"}</button>')


@lru_cache(maxsize=64)
def _label(resource: str, name: str) -> str:
    return escape(cells.CELLS[resource][name].label.lower())


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
