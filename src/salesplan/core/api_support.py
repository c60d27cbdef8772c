"""What every API endpoint shares: who is calling, one error shape, input types, list
pages, and the standard create/read/change/delete endpoints of a CRM record.

Handlers stay thin: reads start from the selectors (already restricted to what the
caller may see), writes call the domain services (which check permissions), and every
error any of them raises becomes an RFC 9457 problem details answer here.
"""

import inspect
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    PermissionDenied,
    RequestDataTooBig,
    ValidationError,
)
from django.db import DatabaseError, DataError, models
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from ninja import Field, NinjaAPI, Query, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError
from ninja.openapi.docs import DocsBase
from ninja.parser import Parser
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf
from pydantic import (
    AfterValidator,
    ConfigDict,
    PlainSerializer,
    StrictInt,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    field_validator,
)
from pydantic.fields import FieldInfo

from salesplan.core.clock import as_company_aware

from .audit import history_for
from .edge import (
    PROBLEM_CONTENT_TYPE,
    BodyRefused,
    BodyTooLarge,
    parse_json,
    problem,
    too_large_message,
)
from .errors import DuplicatesFound, NotFound, StaleVersion, VersionRequired
from .listing import ListDefinition, capped_count, facet_counts, keyset_page
from .money import CURRENCY_CHOICES, MAX_AMOUNT
from .permissions import require
from .references import REFERENCE_FIELDS
from .security_log import note_refusal

logger = logging.getLogger(__name__)

# Largest id a database integer column holds; anything above cannot name a record.
MAX_ID = 2**63 - 1
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


# --- Who is calling ------------------------------------------------------------------


class BrowserSessionAuth(APIKeyCookie):
    """The logged-in browser session. A session is sent by the browser on its own, so
    every unsafe request must also carry the CSRF token (`X-CSRFToken` header)."""

    openapi_description = "The session of a user logged in to the web interface (CSRF applies)."

    def __init__(self) -> None:
        from django.conf import settings

        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=False)  # checked below, only once we know there is a session

    def authenticate(self, request: HttpRequest, key: str | None):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header with the "
                                 "value of the csrftoken cookie.")
        return user


# --- One error shape -----------------------------------------------------------------


class Problem(Schema):
    """RFC 9457 problem details; `errors` maps each wrong field to its messages."""

    type: str
    title: str
    status: int
    detail: str = ""
    errors: dict[str, list[str]] | None = None


def _sent_fields(request: HttpRequest) -> dict[str, Any]:
    """The JSON object the client sent, to name errors the way the client named fields."""
    if request.method in SAFE_METHODS or "json" not in (request.content_type or ""):
        return {}
    try:
        data = parse_json(request.body or b"{}")
    except BodyRefused:
        return {}
    return data if isinstance(data, dict) else {}


def _client_field_name(name: str, sent: dict[str, Any]) -> str:
    """Services name references by model field ("account"); clients send "account_id"."""
    if name == NON_FIELD_ERRORS:
        return "non_field_errors"
    if name in REFERENCE_FIELDS and f"{name}_id" in sent and name not in sent:
        return f"{name}_id"
    for key, value in sent.items():
        if isinstance(value, dict) and name not in sent:
            nested = _client_field_name(name, value)
            if nested in value:
                return f"{key}.{nested}"
    return name


def _validation_problem(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    sent = _sent_fields(request)
    if hasattr(exc, "error_dict"):
        errors = {_client_field_name(f, sent): msgs for f, msgs in exc.message_dict.items()}
    else:
        errors = {"non_field_errors": exc.messages}
    detail = "; ".join(f"{f}: {' '.join(m)}" for f, m in errors.items())
    return problem(422, "The data is not valid", detail, kind="validation", errors=errors)


_FRIENDLY_MESSAGES = {
    "extra_forbidden": "This field does not exist or cannot be set here.",
    "missing": "This field is required.",
    "json_invalid": "The body is not valid JSON.",
}


def _version_missing(exc: RequestValidationError) -> bool:
    """The version the change must carry was not sent (in the body or the query)."""
    return any(error.get("type") == "missing" and tuple(error.get("loc", ()))[-1:] == ("version",)
               for error in exc.errors)


def _version_required_problem(field: str = "version") -> HttpResponse:
    message = str(VersionRequired(field))
    return problem(428, "Version required", message, kind="version-required",
                   errors={field: [message]})


def _request_problem(request: HttpRequest, exc: RequestValidationError) -> HttpResponse:
    if _version_missing(exc):
        return _version_required_problem()
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(p) for p in error.get("loc", ())]
        # ("body", "payload", "amount") -> "amount"; ("query", "limit") -> "limit".
        if loc and loc[0] == "body":
            loc = loc[2:] if len(loc) > 2 else ["body"]
        elif loc:
            loc = loc[1:] or loc
        field = ".".join(loc) or "non_field_errors"
        message = _FRIENDLY_MESSAGES.get(error.get("type", ""), str(error.get("msg", "Invalid.")))
        message = message.removeprefix("Value error, ")  # our validators' own words
        errors.setdefault(field, []).append(message)
    detail = "; ".join(f"{f}: {' '.join(m)}" for f, m in errors.items())
    return problem(422, "The request is not valid", detail, kind="validation", errors=errors)


def install_error_handlers(api: NinjaAPI) -> None:
    """Every error a handler, service or request parser raises, as problem details."""

    @api.exception_handler(RequestValidationError)
    def request_invalid(request, exc):
        return _request_problem(request, exc)

    @api.exception_handler(ValidationError)
    def data_invalid(request, exc):
        return _validation_problem(request, exc)

    @api.exception_handler(DuplicatesFound)
    def duplicates_found(request, exc):
        return problem(
            409, "Likely duplicate", " ".join(exc.messages), kind="duplicate",
            duplicates=exc.matches, hidden_matches=exc.hidden,
            errors={"non_field_errors": exc.messages})

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request, exc):
        message = str(exc) if str(exc) != "Unauthorized" else (
            "Log in, or send an API token as `Authorization: Bearer <token>`.")
        response = problem(401, "Authentication required", message, kind="unauthenticated")
        response["WWW-Authenticate"] = 'Bearer realm="salesplan"'
        return response

    @api.exception_handler(BodyRefused)
    def body_refused(request, exc):
        return exc.response()

    @api.exception_handler(RequestDataTooBig)
    def body_too_large(request, exc):
        return BodyTooLarge(too_large_message()).response()

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        if isinstance(exc.__cause__, BodyRefused):  # raised by EdgeParser, wrapped by ninja
            return exc.__cause__.response()
        if exc.status_code == 400:
            # The only 400 ninja raises itself: a body that cannot be parsed.
            message = "The body is not valid JSON (or not in the declared content type)."
            return problem(400, "The request body cannot be read", message, kind="malformed",
                           errors={"body": [message]})
        return problem(exc.status_code, str(exc), str(exc))

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        note_refusal(request, exc)
        return problem(403, "Not allowed", str(exc) or "You may not do this.", kind="forbidden")

    @api.exception_handler(NotFound)
    def not_found(request, exc):
        note_refusal(request, exc)
        return problem(404, "Not found", str(exc), kind="not-found")

    @api.exception_handler(Http404)
    def http404(request, exc):
        return problem(404, "Not found", "There is nothing at this address.", kind="not-found")

    @api.exception_handler(StaleVersion)
    def stale(request, exc):
        return problem(409, "The record was changed by someone else", str(exc),
                       kind="stale-version", current_version=exc.current_version)

    @api.exception_handler(VersionRequired)
    def version_required(request, exc):
        return _version_required_problem(exc.field)

    @api.exception_handler(ProtectedError)
    def protected(request, exc):
        return problem(409, "Other records depend on this one", str(exc.args[0]),
                       kind="in-use")

    api.add_exception_handler(RestrictedError, protected)

    @api.exception_handler(OverflowError)
    def too_large(request, exc):
        return problem(422, "A number is out of range", "A number in the request is too large.",
                       kind="validation", errors={"non_field_errors": ["A number is too large."]})

    @api.exception_handler(DatabaseError)
    def database_lost(request, exc):
        from .middleware import DATABASE_LOST_MESSAGE, is_database_lost

        if not is_database_lost(exc):
            raise exc
        logger.warning("API request failed: database connection lost: %s", exc)
        response = problem(503, "The database could not be reached", DATABASE_LOST_MESSAGE,
                           kind="unavailable")
        response["Retry-After"] = "1"
        return response

    @api.exception_handler(DataError)
    def data_error(request, exc):
        logger.info("API request refused by the database: %s", exc)
        return problem(422, "A value is out of range",
                       "A value in the request does not fit the data.", kind="validation",
                       errors={"non_field_errors": ["A value does not fit the data."]})


@csrf_exempt  # it changes nothing; a POST here must get 404, not Django's CSRF page
def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Unknown addresses under /api/v1/ answer in the API's error shape, not HTML."""
    return problem(404, "Not found", f"No API endpoint at /{rest}.", kind="not-found")


# --- The API object and its documentation ---------------------------------------------


# A handler that looks a record up by an id it was given (in the query or the body).
_FINDS_RECORDS = re.compile(
    r"\b(NotFound|get_record|get_visible|Http404|\w*_or_404|_visible_\w+)\b")


def _finds_records(view_func: Callable | None) -> bool:
    try:
        return bool(view_func and _FINDS_RECORDS.search(inspect.getsource(view_func)))
    except (OSError, TypeError):
        return False


def _error_responses(path: str, method: str, *, finds_records: bool = False) -> dict[int, str]:
    responses = {401: "Not authenticated", 422: "Invalid input (names each wrong field)"}
    if "{" in path or finds_records:
        responses[404] = "No such record, or one you may not see"
    if method != "get":
        responses[403] = "You may not do this (or the CSRF check failed)"
    if method != "get" and "{" in path:
        responses[409] = "The record changed since you read it (stale version)"
        responses[428] = "The change did not carry the version you read"
    if method in {"post", "patch", "put"}:
        responses[400] = "The body is not valid JSON"
        responses[413] = "The body is larger than the upload limit"
    return responses


class EdgeParser(Parser):
    """Every API body is read by `core.edge.parse_json`: depth and size limits, no NaN."""

    def parse_body(self, request: HttpRequest) -> Any:
        return parse_json(request.body)


class SalesplanAPI(NinjaAPI):
    """NinjaAPI with short operation ids and problem-details responses in the schema."""

    def get_openapi_operation_id(self, operation) -> str:
        """The handler's name; where two apps use the same name, the app's name first
        (e.g. pricing_list_rules and territories_list_rules), so every id is unique."""
        name = operation.view_func.__name__
        if self._handler_name_counts().get(name, 0) > 1:
            return f"{operation.view_func.__module__.split('.')[1]}_{name}"
        return name

    def _handler_name_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for bound in self._get_bound_routers():
            for path_view in bound.path_operations.values():
                for operation in path_view.operations:
                    name = operation.view_func.__name__
                    counts[name] = counts.get(name, 0) + 1
        return counts

    def _handlers_by_operation_id(self) -> dict[str, Callable]:
        return {self.get_openapi_operation_id(operation): operation.view_func
                for bound in self._get_bound_routers()
                for path_view in bound.path_operations.values()
                for operation in path_view.operations}

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}")
        ref = {"$ref": "#/components/schemas/Problem"}
        handlers = self._handlers_by_operation_id()
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                finds = _finds_records(handlers.get(operation.get("operationId", "")))
                for status, description in sorted(
                        _error_responses(path, method, finds_records=finds).items()):
                    if status in responses:  # the handler documents this one itself
                        continue
                    responses.setdefault(str(status), {
                        "description": description,
                        "content": {PROBLEM_CONTENT_TYPE: {"schema": ref}},
                    })
        return schema

    def openapi_json(self) -> str:
        """The schema as committed in docs/openapi.json (stable order, final newline)."""
        from ninja.responses import NinjaJSONEncoder

        schema = self.get_openapi_schema()
        return json.dumps(schema, indent=2, ensure_ascii=False, cls=NinjaJSONEncoder) + "\n"


class SwaggerDocs(DocsBase):
    """Swagger UI from our own static files (npm swagger-ui-dist), started by a script
    file rather than inline script, so the page works under the strict CSP."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        return render(request, "core/api_docs.html", {
            "api": api, "openapi_url": self.get_openapi_url(api, kwargs),
        })


# --- Input and output types -----------------------------------------------------------


def _admits_bool(annotation: Any) -> bool:
    if annotation is bool or annotation is Any:
        return True
    return any(_admits_bool(arg) for arg in get_args(annotation))


# Types whose column is never NULL: text is "" when empty, a flag is true or false, a
# choice is one of its values, a list is []. Null for such a field means nothing.
_NEVER_NULL_ORIGINS = (Literal, list, dict, set, tuple)


def _null_means_nothing(annotation: Any) -> bool:
    args = get_args(annotation)
    if get_origin(annotation) not in (Union, UnionType) or type(None) not in args:
        return False
    return all(arg in (str, bool) or get_origin(arg) in _NEVER_NULL_ORIGINS
               for arg in args if arg is not type(None))


def _document_refused_nulls(schema: dict[str, Any], model: Any) -> None:
    """The schema shows what the validator refuses: such fields are not nullable."""
    for name in getattr(model, "__refused_nulls__", ()):
        field = schema.get("properties", {}).get(name, {})
        options = [o for o in field.get("anyOf", ()) if o != {"type": "null"}]
        if "anyOf" in field and len(options) == 1:
            del field["anyOf"]
            field.update(options[0])
        elif "anyOf" in field:
            field["anyOf"] = options


class InputSchema(Schema):
    """A request body: unknown fields are refused rather than silently ignored; numbers
    are finite, true/false is not taken for a number (`"version": true` is not 1), and
    null is refused where the value can never be empty (text, flags, choices, lists):
    leave such a field out to keep its value or take the default."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False,
                              json_schema_extra=_document_refused_nulls)
    __refused_nulls__: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.__refused_nulls__ = frozenset(
            name for name, field in cls.model_fields.items()
            if _null_means_nothing(field.annotation))

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_bool_for_number_and_null(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name
        if value is None and name in cls.__refused_nulls__:
            raise ValueError("This field cannot be null: send a value, or leave it out.")
        if isinstance(value, bool) and name is not None:
            field = cls.model_fields.get(name)
            if field is not None and not _admits_bool(field.annotation):
                raise ValueError("Send a number or text here, not true or false.")
        return value


RecordId = Annotated[int, Field(ge=1, le=MAX_ID, description="Id of a record you can see.")]

# The version a change carries: a JSON integer only (`true` is not version 1). Missing:
# 428; older than the stored record: 409 with the current version; nothing is written.
Version = Annotated[StrictInt, Field(
    ge=1, le=MAX_ID, description="The `version` you read; if the record changed since, "
                                 "nothing is written and the answer is 409.")]
# The same in a query string (DELETE has no body), where every value arrives as text.
VersionParam = Annotated[int, Field(
    ge=1, le=MAX_ID, description="The `version` you read; if the record changed since, "
                                 "nothing is deleted and the answer is 409.")]

MoneyIn = Annotated[
    Decimal,
    Field(ge=0, le=MAX_AMOUNT, max_digits=18, decimal_places=2),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["12500.00"],
                    "description": "A decimal amount as a string (numbers are accepted)."}),
]
MoneyOut = Annotated[
    Decimal,
    PlainSerializer(lambda value: str(value), return_type=str),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["12500.00"]}),
]
Currency = Literal[tuple(code for code, _ in CURRENCY_CHOICES)]


def _company_time(value: datetime) -> datetime:
    """A time without an offset is read in the company's time zone."""
    return as_company_aware(value)


DateTimeIn = Annotated[datetime, AfterValidator(_company_time)]


def choice_of(choices: type[models.TextChoices], *, blank: bool = False, exclude=()) -> Any:
    """A Literal type of the choice values, so the schema lists them and others are refused."""
    values = [v for v in choices.values if v not in exclude]
    if blank and "" not in values:
        values.append("")
    return Literal[tuple(values)]


def patch_schema(create: type[Schema], name: str, *, exclude: tuple[str, ...] = ()) -> type[Schema]:
    """The PATCH body for a record: any of the create fields, each optional (but never
    null where the field cannot be empty), plus the `version` the client last read."""
    fields: dict[str, Any] = {}
    for field_name, info in create.model_fields.items():
        if field_name in exclude:
            continue
        fields[field_name] = (info.annotation, FieldInfo.merge_field_infos(info, default=None))
    fields["version"] = (Version, ...)
    return create_model(name, __base__=InputSchema, **fields)


def service_data(payload: Schema | dict, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields the client sent, named as the services name them (`owner_id` -> `owner`)."""
    data = payload if isinstance(payload, dict) else payload.model_dump(exclude_unset=True)
    result = {}
    for key, value in data.items():
        if key in drop:
            continue
        base = key.removesuffix("_id")
        result[base if key.endswith("_id") and base in REFERENCE_FIELDS else key] = value
    return result


def full_name(user) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


# --- Lists ----------------------------------------------------------------------------


def list_params_schema(name: str, definition: ListDefinition) -> type[Schema]:
    """Query parameters of a list: its filters (read by the ListDefinition, so a filter
    means the same here as in the web list), `q`, `sort`, `cursor` and `limit`."""
    fields: dict[str, Any] = {
        "q": (str | None, Field(None, max_length=200, description=definition.search_label)),
        "sort": (Literal[tuple(definition.sorts)] | None,
                 Field(None, description=f"Default: {definition.default_sort}.")),
        "cursor": (str | None, Field(None, max_length=1000,
                                     description="next_cursor or previous_cursor of a page.")),
        "limit": (int | None, Field(None, ge=1, le=500, description="Rows per page (50).")),
    }
    for key, spec in definition.filters.items():
        description = spec.label or key
        if spec.choices:
            description += ": " + ", ".join(value for value, _ in spec.choices)
        if spec.multiple:
            description += " (several values: repeat the parameter or separate with commas)"
        fields[key] = (str | None, Field(None, description=f"{description} [{spec.kind}]"))
    return create_model(name, __base__=Schema, **fields)


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    return create_model(name, __base__=Schema, items=(list[item], ...),
                        next_cursor=(str | None, None), previous_cursor=(str | None, None))


def page_of(queryset, definition: ListDefinition, params) -> dict[str, Any]:
    """One cursor page of an already filtered, visibility-restricted queryset."""
    sort_key = params.sort or definition.default_sort
    page = keyset_page(queryset, sort_field=definition.sort_field(sort_key), sort_key=sort_key,
                       cursor=params.cursor, limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor}


class FacetValueOut(Schema):
    value: str = Field(description="The filter value to send to narrow the list to it.")
    label: str
    count: int
    selected: bool = Field(description="The list is filtered on this value now.")


class FacetOut(Schema):
    name: str = Field(description="The filter parameter this facet counts.")
    label: str
    values: list[FacetValueOut] = Field(description="The values with most rows first.")
    others: int = Field(description="Rows with any other value.")
    others_exact: bool


class FacetsOut(Schema):
    """How many rows the list has, and per facet how many have each value."""

    total: int = Field(description="Rows matching the filter (up to the count cap).")
    total_capped: bool = Field(description="There are more rows than `total`.")
    facets: list[FacetOut]


def facets_of(select: Callable[..., Any], definition: ListDefinition, user,
              params) -> dict[str, Any]:
    """The list's count and facets for `params`, counted once (see `facet_counts`)."""
    total, capped = capped_count(select(user, params))
    return {"total": total, "total_capped": capped,
            "facets": facet_counts(definition, select, user, params,
                                   total=None if capped else total)}


class PageParams(Schema):
    cursor: str | None = Field(None, max_length=1000)
    limit: int | None = Field(None, ge=1, le=500)


def get_record(model: type[models.Model], user, pk: int, related: tuple[str, ...] = ()):
    """The record if the user may see it; 404 otherwise (whether missing or not theirs)."""
    from .selectors import get_visible

    if not 1 <= pk <= MAX_ID:
        raise NotFound(f"No {model._meta.verbose_name} with id {pk}.")
    return get_visible(model, user, pk, related=related)


# --- Audit history ---------------------------------------------------------------------


class AuditEntryOut(Schema):
    id: int
    action: str
    field: str
    old_value: str
    new_value: str
    changed_at: datetime
    changed_by_id: int | None
    changed_by_name: str

    @staticmethod
    def resolve_changed_by_name(entry) -> str:
        return full_name(entry.changed_by)


AuditPage = page_schema(AuditEntryOut, "AuditPage")


# --- The standard endpoints of a CRM record --------------------------------------------


@dataclass(frozen=True)
class RecordEndpoints:
    """How one record type is listed, read, created, changed and deleted over the API.

    `select` is the app's list selector; `create`, `update` and `delete` are its
    services (they check permissions and record the audit trail)."""

    name: str  # singular, as in the permission table: "account"
    plural: str  # the URL segment: "accounts"
    model: type[models.Model]
    listing: ListDefinition
    select: Callable[..., Any]
    related: tuple[str, ...]
    out: type[Schema]
    create_in: type[Schema]
    patch_in: type[Schema]
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., Any]

    def get(self, request: Any, pk: int):
        return get_record(self.model, request.auth, pk, self.related)

    def reread(self, obj):
        """The record as just written (the writer may see it even if no longer theirs)."""
        return self.model._default_manager.select_related(*self.related).get(pk=obj.pk)

    def register(self, router: Router) -> None:
        for build in (self._list, self._facets, self._create, self._retrieve, self._update,
                      self._delete, self._audit):
            build(router)

    def _named(self, func, name: str, doc: str):
        func.__name__ = func.__qualname__ = name
        func.__doc__ = doc
        return func

    def _list(self, router: Router) -> None:
        params_schema = list_params_schema(f"{self.out.__name__[:-3]}ListParams", self.listing)
        page = page_schema(self.out, f"{self.out.__name__[:-3]}Page")

        def handler(request, params: Query[params_schema]):
            queryset = self.select(request.auth, request.GET)
            return page_of(queryset, self.listing, params)

        router.get("", response=page)(self._named(
            handler, f"list_{self.plural}",
            f"The {self.plural} you may see, filtered and sorted, one cursor page at a time."))

    def _facets(self, router: Router) -> None:
        if not self.listing.facets:
            return
        params_schema = list_params_schema(f"{self.out.__name__[:-3]}FacetParams",
                                           self.listing)

        def handler(request, params: Query[params_schema]):
            require(request.auth, self.name, "view")
            return facets_of(self.select, self.listing, request.auth, request.GET)

        router.get("/facets", response=FacetsOut)(self._named(
            handler, f"{self.name}_facets",
            f"How many of the {self.plural} you may see match the filter, and per facet "
            f"({', '.join(self.listing.facets)}) how many have each value: the values "
            "with most rows first, the rest summed as `others`. A facet is counted "
            "without its own filter, so every value stays offered."))

    def _create(self, router: Router) -> None:
        def handler(request, payload: self.create_in, response: HttpResponse):  # type: ignore[name-defined]
            obj = self.create(by=request.auth, data=service_data(payload))
            response["Location"] = reverse(f"api:get_{self.name}", kwargs={"id": obj.pk})
            return Status(201, self.reread(obj))

        router.post("", response={201: self.out})(self._named(
            handler, f"create_{self.name}", f"Create a {self.name}; you own it unless you "
                                            "name another owner you may assign work to."))

    def _retrieve(self, router: Router) -> None:
        def handler(request, id: int):
            return self.get(request, id)

        router.get("/{id}", response=self.out, url_name=f"get_{self.name}")(self._named(
            handler, f"get_{self.name}", f"One {self.name}."))

    def _update(self, router: Router) -> None:
        def handler(request, id: int, payload: self.patch_in):  # type: ignore[name-defined]
            obj = self.get(request, id)
            data = payload.model_dump(exclude_unset=True)
            version = data.pop("version")
            self.update(obj, by=request.auth, data=service_data(data), expected_version=version)
            return self.reread(obj)

        router.patch("/{id}", response=self.out)(self._named(
            handler, f"update_{self.name}",
            f"Change some fields of a {self.name}. Send the `version` you read: if the "
            "record changed since, nothing is written and the answer is 409."))

    def _delete(self, router: Router) -> None:
        def handler(request, id: int):
            self.delete(self.get(request, id), by=request.auth)
            return Status(204, None)

        router.delete("/{id}", response={204: None})(self._named(
            handler, f"delete_{self.name}", f"Delete a {self.name}."))

    def _audit(self, router: Router) -> None:
        def handler(request, id: int, params: Query[PageParams]):
            obj = self.get(request, id)
            page = keyset_page(history_for(obj), sort_field="-changed_at", sort_key="-changed_at",
                               cursor=params.cursor, limit=params.limit)
            return {"items": page.items, "next_cursor": page.next_cursor,
                    "previous_cursor": page.previous_cursor}

        router.get("/{id}/audit", response=AuditPage)(self._named(
            handler, f"{self.name}_audit",
            f"Who changed what on a {self.name}, and when, newest first."))
