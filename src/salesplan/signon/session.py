"""Where a signed-in session stands with the second factor.

A password login of a user with two-factor authentication leaves the session waiting
for a code; an admin without it, when the policy requires it, is sent to set it up. The
middleware holds such a session to those pages (and logging out): every other page
redirects there and the JSON API answers 401. Requests with an API token are left
alone — a token is issued by an admin (or the user's own session that passed the second
factor) and stands on its own; it cannot be used to log in to the pages.

A login through the OpenID provider leaves the second factor to the provider, which is
where the company sets its own rules for it.
"""

from urllib.parse import urlencode

from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

PENDING = "signon.pending"  # a code is expected
ENROL = "signon.enrol"  # the policy requires setting up two-factor first
VIA = "signon.via"  # "password", "totp", "recovery" or "provider"


def note_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """user_logged_in: decide what the new session must do before anything else."""
    if request is None or not hasattr(request, "session"):
        return
    from .two_factor import has_two_factor, two_factor_required

    session = request.session
    session.pop(PENDING, None)
    session.pop(ENROL, None)
    via = getattr(request, "signon_via", "password")
    session[VIA] = via
    if via == "provider":
        return
    if has_two_factor(user):
        session[PENDING] = True
    elif two_factor_required(user):
        session[ENROL] = True


def second_factor_passed(request: HttpRequest, how: str) -> None:
    request.session.pop(PENDING, None)
    request.session.pop(ENROL, None)
    request.session[VIA] = how
    request.session.cycle_key()


def _open(path: str, session) -> bool:
    """The pages a session that owes a second factor may use: giving its code (never the
    two-factor settings, where a password alone could switch it off), or, when it must
    set two-factor up, the set-up pages; and logging out."""
    if path == reverse("web:logout"):
        return True
    if session.get(PENDING):
        return path == reverse("web:signon:verify")
    return path in (reverse("web:signon:two_factor"), reverse("web:signon:enrol_confirm"))


class SecondFactorMiddleware:
    """Keeps a session that owes a second factor to the pages where it is given."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        session = getattr(request, "session", None)
        if session is None or not (session.get(PENDING) or session.get(ENROL)):
            return self.get_response(request)
        path = request.path_info
        if path.startswith("/api/"):
            if request.headers.get("Authorization"):
                return self.get_response(request)  # the token decides, not the session
            return JsonResponse(
                {"type": "about:blank", "title": "Second factor required", "status": 401,
                 "detail": "Finish signing in with your authentication code first."},
                status=401, content_type="application/problem+json")
        if _open(path, session) or path.startswith("/static/"):
            return self.get_response(request)
        target = "web:signon:verify" if session.get(PENDING) else "web:signon:two_factor"
        query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
        return redirect(reverse(target) + (f"?{query}" if query else ""))
