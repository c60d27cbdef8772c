"""Inline edit of one cell of a list (htmx): the cell's form, and saving it with the
version its row was drawn with. A stale edit answers 409 and shows the current value; a
bad value answers 422 naming the field; either way nothing is written."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from salesplan.core.errors import StaleVersion
from salesplan.core.records import posted_version
from salesplan.ui.pages import require_or_403, visible_or_404

from .. import cells

STALE = ("Someone else changed this record since the list was shown; your change was not "
         "saved. The current value is shown: edit it again to change it.")


def _context(resource: str, name: str, obj, user, **extra) -> dict:
    spec = cells.CELLS[resource][name]
    return {"resource": resource, "name": name, "spec": spec, "row": obj,
            "display": spec.display(obj), "version": obj.version,
            "choices": spec.choices(user, obj) if spec.choices else [],
            "value": cells.form_value(resource, name, obj), **extra}


def _errors(resource: str, name: str, exc: ValidationError) -> list[str]:
    """Each message with the field it is about, in the user's words."""
    if not hasattr(exc, "error_dict"):
        return exc.messages
    labels = {key: spec.label for key, spec in cells.CELLS[resource].items()}
    labels["lost_reason"] = "Lost reason"
    return [f"{labels.get(field, field.replace('_', ' ').capitalize())}: {message}"
            if field != "__all__" else message
            for field, messages in exc.message_dict.items() for message in messages]


@login_required
@require_http_methods(["GET", "POST"])
def cell(request, resource: str, pk: int, name: str):
    """GET: the cell's form (or, with `display`, its value again); POST: save it."""
    if name not in cells.CELLS.get(resource, {}):
        raise Http404("This column cannot be changed in place.")
    obj = visible_or_404(cells.MODELS[resource], request.user, pk,
                         related=cells.RELATED[resource])
    require_or_403(request.user, resource, "change", obj)
    if request.method == "GET":
        template = "web/_cell.html" if request.GET.get("display") else "web/_cell_form.html"
        context = _context(resource, name, obj, request.user,
                           version=posted_version(request.GET) or obj.version)
        return render(request, template, context)
    version = posted_version(request.POST)
    raw = request.POST.get("value", "")
    lost_reason = request.POST.get("lost_reason", "").strip()
    try:
        value = cells.read_value(resource, name, obj, request.user, raw)
        cells.save_value(resource, name, obj, request.user, value, version=version,
                         lost_reason=lost_reason)
    except StaleVersion:
        current = visible_or_404(cells.MODELS[resource], request.user, pk,
                                 related=cells.RELATED[resource])
        return render(request, "web/_cell.html", _context(
            resource, name, current, request.user, message=STALE, swap_version=True),
            status=409)
    except ValidationError as exc:
        return render(request, "web/_cell_form.html", _context(
            resource, name, obj, request.user, version=version, value=raw,
            lost_reason=lost_reason, errors=_errors(resource, name, exc)), status=422)
    saved = cells.MODELS[resource]._default_manager.select_related(
        *cells.RELATED[resource]).get(pk=pk)
    return render(request, "web/_cell.html", _context(
        resource, name, saved, request.user, swap_version=True, saved=True))
