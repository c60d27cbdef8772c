"""Saving the list a user is looking at as a named view."""

from urllib.parse import parse_qsl

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import services


@login_required
@require_POST
def save(request):
    """Save the list's current parameters under a name, then open the saved view."""
    back = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/"
    params = dict(parse_qsl(request.POST.get("params", ""), keep_blank_values=False))
    try:
        view = services.create_view(by=request.user, data={
            "name": request.POST.get("name", ""), "list_key": request.POST.get("list_key", ""),
            "params": params, "shared": request.POST.get("shared") == "1"})
    except ValidationError as exc:
        messages.error(request, " ".join(" ".join(v) for v in exc.message_dict.values()))
        return redirect(back)
    messages.success(request, f"Saved the view “{view.name}”.")
    return redirect(back)
