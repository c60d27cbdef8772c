"""Show times in the company's time zone."""

from django.utils import timezone

from salesplan.core.clock import activate_company_time_zone


class CompanyTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        activate_company_time_zone()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class StaleChangeMiddleware:
    """A page form or button that changed a record someone else changed since the page
    was drawn (or that did not carry the version it was drawn with) wrote nothing: say
    so and send the user back to reload, the same way on every page of every app.

    API paths answer 409/428 problem details themselves and never reach this."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.contrib import messages
        from django.http import HttpResponse, HttpResponseRedirect
        from django.utils.http import url_has_allowed_host_and_scheme

        from .errors import STALE_MESSAGE, StaleVersion, VersionRequired

        if not isinstance(exception, StaleVersion | VersionRequired):
            return None
        if "application/json" in request.headers.get("Accept", ""):
            from django.http import JsonResponse

            return JsonResponse({"ok": False, "message": STALE_MESSAGE}, status=409)
        messages.error(request, STALE_MESSAGE)
        if request.headers.get("HX-Request"):
            # htmx keeps the old page on a 409; reloading shows the record as it is now
            # and the message above it.
            response = HttpResponse(STALE_MESSAGE, status=409)
            response["HX-Refresh"] = "true"
            return response
        back = request.headers.get("Referer", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()},
                                               require_https=request.is_secure()):
            back = request.path
        return HttpResponseRedirect(back)


DATABASE_LOST_MESSAGE = ("The connection to the database was lost while this was being "
                         "done; nothing of it was saved. Try again in a moment.")


def is_database_lost(exception: BaseException) -> bool:
    from django.db import InterfaceError, OperationalError

    return isinstance(exception, OperationalError | InterfaceError)


class DatabaseLostMiddleware:
    """A request whose database connection broke (a restart, a failover) answers 503
    with what happened, not a bare server error: its transaction was rolled back by the
    database, and the next request opens a new connection. API paths answer the same
    as problem details (core.api_support)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.http import HttpResponse

        if not is_database_lost(exception):
            return None
        response = HttpResponse(DATABASE_LOST_MESSAGE, status=503,
                                content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "1"
        return response
