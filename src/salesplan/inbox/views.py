"""The inbox page, its rows (dismissed with htmx), the badge the header polls and the
delivery preferences form. Thin: reads through `selectors`, writes through `services`."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from salesplan.core.errors import STALE_MESSAGE, NotFound, StaleVersion
from salesplan.core.records import posted_version

from . import selectors, services
from .models import Delivery, Kind

# How often the header's badge asks again, in seconds (SALESPLAN_INBOX_POLL_SECONDS).
BADGE_POLL_SECONDS = 20


def _poll_seconds() -> int:
    return int(getattr(settings, "SALESPLAN_INBOX_POLL_SECONDS", BADGE_POLL_SECONDS))


@login_required
def inbox(request):
    kind = request.GET.get("kind") or ""
    if kind not in Kind.values:
        kind = ""
    counts = selectors.counts_by_kind(request.user)
    found = services.settings_of(request.user)
    return render(request, "inbox/inbox.html", {
        "nav_section": "inbox", "kind": kind, "counts": counts,
        "total": sum(counts.values()),
        "kinds": [(k.value, k.label, counts[k.value]) for k in Kind],
        "items": list(selectors.open_items(request.user, kind=kind or None)[:200]),
        "preferences": [(k.value, k.label, found.delivery_of(k.value)) for k in Kind],
        "deliveries": Delivery.choices, "settings_version": found.version,
    })


@login_required
@require_POST
def dismiss(request, pk: int):
    try:
        item = selectors.own_item(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    services.dismiss(item, by=request.user)
    if request.htmx:
        return render(request, "inbox/_dismissed.html", {"item": item})
    return redirect("web:inbox:inbox")


@login_required
@require_POST
def preferences(request):
    wanted = {kind: request.POST.get(f"delivery_{kind}", Delivery.APP) for kind in Kind.values}
    try:
        services.set_delivery(by=request.user, delivery=wanted,
                              expected_version=posted_version(request.POST))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    except StaleVersion:
        messages.error(request, STALE_MESSAGE)
    else:
        messages.success(request, "Saved how you are told about your inbox.")
    return redirect("web:inbox:inbox")


@login_required
def badge(request):
    """The open count for the page header; htmx asks again every few seconds."""
    return render(request, "inbox/_badge.html", {"open": selectors.open_count(request.user),
                                                 "poll": _poll_seconds()})
