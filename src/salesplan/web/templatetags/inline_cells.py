"""`{% cell row "owner" %}`: a list cell the user may change in place (when the field is
one the list edits and the user may change the row), else its plain value;
`{% row_version row %}`: the version the row's cells send."""

from django import template
from django.template.loader import render_to_string
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
    return render_to_string("web/_cell.html", {
        "resource": resource, "name": name, "spec": spec, "row": row,
        "display": spec.display(row)})


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
