"""The page a refused request gets: why, and a way back."""

from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

GENERIC_REASON = "You may not do this."


def back_url(request) -> str:
    """The page the user came from, when it is on this site and not this very page."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer or not url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return ""
    return "" if referer.endswith(request.get_full_path()) else referer


def forbidden(request, exception=None):
    """403 with the registry's reason ("Executives have read-only access", "only its owner
    … may") instead of a bare "Forbidden"."""
    reason = str(exception or "") or GENERIC_REASON
    if reason.startswith("CSRF"):
        reason = "The form expired or came from another site; reload the page and try again."
    return render(request, "web/403.html", {
        "reason": reason, "back_url": back_url(request), "home_url": reverse("web:my_day"),
    }, status=403)
