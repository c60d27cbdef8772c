"""The API's edge: what is refused before any handler runs, and the answer every error
on an API path gets.

Every JSON body the API (or a page) reads goes through `parse_json`: a body nested
deeper than any record the product stores, or larger than the upload limit, is refused
with a problem-details answer naming the problem, never parsed into a RecursionError.
`ApiEdgeMiddleware` makes Django's own answers on /api/ paths (an unknown address, a
method not allowed, a failed CSRF check, a body too large, a crash) problem details too.
"""

import json
import logging
import re
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.signals import got_request_exception
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE = "urn:salesplan:problem:"
# No record the product stores nests deeper than a handful of levels; 64 leaves room
# for any integration while keeping the parser's recursion far from Python's limit.
MAX_JSON_DEPTH = 64

# A JSON string (skipped whole, so brackets inside text do not count) or a bracket.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset(b"[{")


class BodyRefused(Exception):
    """A request body the API will not read; nothing was written."""

    status = 400
    kind = "malformed"
    title = "The request body cannot be read"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def response(self) -> HttpResponse:
        return problem(self.status, self.title, self.message, kind=self.kind,
                       errors={"body": [self.message]})


class BodyTooLarge(BodyRefused):
    status = 413
    kind = "too-large"
    title = "The request body is too large"


class BodyTooDeep(BodyRefused):
    status = 422
    kind = "validation"
    title = "The request body is nested too deeply"


class NumberNotFinite(BodyRefused):
    status = 422
    kind = "validation"
    title = "A number is not finite"


def problem(status: int, title: str, detail: str = "", *, kind: str = "",
            errors: dict[str, list[str]] | None = None, **extra: Any) -> HttpResponse:
    """An RFC 9457 problem details answer; `errors` maps each wrong field to messages."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + kind if kind else "about:blank",
        "title": title, "status": status, "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)


def too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return f"Send at most {limit // (1024 * 1024)} MB in one request."


def json_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep the body's arrays and objects nest, counted up to `limit + 1`."""
    if raw.count(b"[") + raw.count(b"{") <= limit:  # the usual body: nothing to scan
        return 0
    depth = deepest = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if len(token) != 1:
            continue  # a string
        if token[0] in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        else:
            depth -= 1
    return deepest


def _not_finite(constant: str) -> float:
    raise NumberNotFinite(f"{constant} is not a number this API accepts; send a finite number.")


def parse_json(raw: bytes) -> Any:
    """The JSON value of a request body, or BodyRefused saying what is wrong with it."""
    if len(raw) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise BodyTooLarge(too_large_message())
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise BodyTooDeep(f"Nest arrays and objects at most {MAX_JSON_DEPTH} levels deep.")
    try:
        return json.loads(raw, parse_constant=_not_finite)
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, NumberNotFinite):
            raise
        raise BodyRefused("The body is not valid JSON.") from None


def read_json(request: HttpRequest) -> Any:
    """The request's JSON body (None when empty), read once through `parse_json`."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise BodyTooLarge(too_large_message()) from None
    return parse_json(raw) if raw else None


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    """The request's body as a JSON object ({} when empty)."""
    data = read_json(request)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BodyRefused("Send a JSON object.")
    return data


def is_api_path(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


class ApiEdgeMiddleware:
    """On /api/ paths: a body over the upload limit is refused with 413 before anything
    reads it, and every error answer Django or a library writes as HTML (404, 405, the
    CSRF page, 500) becomes problem details with the same status."""

    # Headers of the original answer that still mean something in the problem answer.
    KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_path(request):
            return self.get_response(request)
        if self._declared_too_large(request):
            return BodyTooLarge(too_large_message()).response()
        response = self.get_response(request)
        if response.status_code >= 400 and not self._is_json(response):
            response = self._as_problem(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not is_api_path(request):
            return None
        if isinstance(exception, BodyRefused):
            return exception.response()
        if isinstance(exception, RequestDataTooBig):
            return BodyTooLarge(too_large_message()).response()
        # Let the test client and error reporting see the crash, then answer in shape.
        logger.exception("Server error on %s %s", request.method, request.path)
        got_request_exception.send(sender=None, request=request)
        return problem(500, "Server error", "Something went wrong on our side; nothing "
                       "was changed by this request. Try again, or report it.",
                       kind="server-error")

    @staticmethod
    def _declared_too_large(request: HttpRequest) -> bool:
        # Uploaded files are streamed to disk and limited elsewhere; other bodies are
        # read into memory whole, so one larger than the limit is refused unread.
        if (request.content_type or "").startswith("multipart/"):
            return False
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False
        return length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    @staticmethod
    def _is_json(response: HttpResponse) -> bool:
        return "json" in response.get("Content-Type", "")

    def _as_problem(self, response: HttpResponse) -> HttpResponse:
        status = response.status_code
        try:
            title = HTTPStatus(status).phrase
        except ValueError:
            title = "Error"
        detail, kind = {
            403: ("The CSRF check failed: a browser session must send the X-CSRFToken "
                  "header with the value of the csrftoken cookie; an integration sends "
                  "`Authorization: Bearer <token>`.", "forbidden"),
            404: ("There is no API endpoint at this address.", "not-found"),
            405: ("This address does not accept the method "
                  f"(allowed: {response.get('Allow', 'none')}).", "method-not-allowed"),
        }.get(status, (title, ""))
        answer = problem(status, title, detail, kind=kind)
        for header in self.KEPT_HEADERS:
            if header in response:
                answer[header] = response[header]
        return answer
