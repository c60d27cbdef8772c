"""The security log: who was refused what, on which existing record.

A refusal on a record that exists (403, or the 404 a user gets for a record they may
not see) is what probing for other people's records looks like; a 404 for a record
that does not exist is an ordinary mistake and is not logged. The one place errors
become answers calls `note_refusal`: the API's error handlers and, for pages,
`RefusalLogMiddleware`.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from .errors import NotFound

security_logger = logging.getLogger("salesplan.security")


def _existing_record(exc: BaseException) -> str | None:
    """'app.model:pk' of the record a NotFound names, if that record exists."""
    model, pk = getattr(exc, "model", None), getattr(exc, "pk", None)
    if model is None or pk is None:
        return None
    try:
        exists = model._default_manager.filter(pk=pk).exists()
    except (ValueError, TypeError, OverflowError):
        return None
    return f"{model._meta.label_lower}:{pk}" if exists else None


def note_refusal(request: HttpRequest, exc: BaseException) -> dict[str, Any] | None:
    """Log a refusal worth keeping (see the module's docstring); the logged fields."""
    if isinstance(exc, Http404) and isinstance(exc.__cause__, NotFound):
        exc = exc.__cause__
    if isinstance(exc, NotFound):
        record = _existing_record(exc)
        if record is None:
            return None
        reason = "not-visible"
    elif isinstance(exc, PermissionDenied):
        record, reason = request.path, "forbidden"
    else:
        return None
    user = getattr(request, "user", None)
    event = {
        "event": "access-refused", "reason": reason,
        "user_id": getattr(user, "pk", None), "username": getattr(user, "username", ""),
        "action": f"{request.method} {request.path}", "record": record,
        "detail": str(exc)[:300],
    }
    security_logger.warning(
        "access refused (%s): user=%s id=%s action=%s record=%s", reason,
        event["username"], event["user_id"], event["action"], record,
        extra={"security": event})
    return event


class RefusalLogMiddleware:
    """Pages: a PermissionDenied or a not-visible record raised by a view is logged
    before Django turns it into the 403/404 page (the API logs in its own handlers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied | Http404):
            note_refusal(request, exception)
