"""The record kit: a record type registers once and gets its standard API.

A feature app describes each CRUD-shaped record type with one `RecordType` — the model,
the rows a user may see (its selector), its list definition, its schemas, its services
and its resource in the permission registry — and installs it on its router:

    install(router, "/pricing", [families, products, price_books, entries, ...])

Each record type then answers, for every part it has (a part it leaves out is not
generated: a record that cannot be deleted has no `delete`):

    GET    /<path>                 list (a keyset page of `page_schema`, or the whole
                                   list for short reference lists: `paged=False`)
    GET    /<path>/export.csv      the same list as CSV, only the rows the user may see
    POST   /<path>                 create (201, Location)
    GET    /<path>/{id}            one record (404 alike for missing and not visible)
    PATCH  /<path>/{id}            change, with the `version` read (428 missing, 409 stale)
    DELETE /<path>/{id}?version=n  delete, with the version read (428 missing, 409 stale)
    GET    /<path>/{id}/audit      who changed what, newest first

A child record type (a price book's entries) lives under its parent's path,
`/<parent>/{parent_id}/<path>`; the parent is looked up first with the user's rights, so
a parent the user may not see answers 404 before the child is looked for.
A child may also be named on its own, `/<item_prefix>/{id}`, while its list stays under
the parent (a territory's rules: `/{id}/rules`, `/rules/{rule_id}`).

`install` also declares every generated operation in the permission registry (the
resource and action of each part, `Actions`), and keeps the record type in
`RECORD_TYPES`, from which the generated permission tests (tests/security) probe every
route for every role. See docs/development/adding-a-record-type.md.
"""

import csv
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from ninja import Query, Router, Schema, Status

from .api_support import (
    MAX_ID,
    AuditPage,
    PageParams,
    VersionParam,
    list_params_schema,
    page_of,
    page_schema,
    service_data,
)
from .audit import history_for
from .errors import NotFound
from .listing import ListDefinition, keyset_page
from .registry import register_operations
from .spreadsheet import formula_safe

User = Any
Finder = Callable[[User, int], models.Model]


@dataclass(frozen=True)
class Actions:
    """The registry actions (of the record type's `resource`) each part checks; the
    services check the same ones, the registry is told so for the generated tests."""

    view: str = "view"
    create: str = "create"
    change: str = "change"
    delete: str = "delete"


@dataclass(frozen=True)
class Parent:
    """The record a child type lives under: price-books/{book_id}/entries."""

    segment: str  # the parent's URL segment: "price-books" ("": the router's own records)
    param: str  # the path parameter naming it: "book_id"
    field: str  # the child's foreign key to it: "price_book"
    lookup: Finder  # (user, pk) -> the parent, NotFound if the user may not see it
    label: str = ""  # "price book", for messages


@dataclass(frozen=True)
class RecordType:
    """One record type's standard endpoints. Every part is optional except the rows and
    the output schema; the services follow one calling convention:

        create(*, by, data) -> record
        update(record, *, by, data, expected_version) -> record or anything
        delete(record, *, by, expected_version) -> None

    (`keyword_services` adapts services written as `create_x(*, by, **values)`.)
    `data` holds the fields the client sent, `*_id` references turned into records by
    `references` (or named as `core.references` names them), then passed through
    `prepare`; a child's `data` also holds its parent under `parent.field`.
    """

    name: str  # singular, in operation ids: "price_book" -> get_price_book
    plural: str  # in the list's operation id: "price_books" -> list_price_books
    path: str  # the URL segment: "price-books"
    resource: str  # in the permission registry: "catalogue"
    model: type[models.Model]
    rows: Callable[[User], QuerySet]  # what the user may see (the selector checks "view")
    out: type[Schema]
    detail_out: type[Schema] | None = None  # for one record, if richer than a list row
    label: str = ""  # in messages and docs: "price book" (default: the model's name)
    actions: Actions = Actions()
    id_param: str = "id"  # the path parameter: "book_id"
    lookup_field: str = "pk"  # what the URL's id names: "product_id" for an entry
    parent: Parent | None = None
    # A child whose own routes are not under its parent: "rules" -> /rules/{rule_id}
    # (a territory's rules are listed at /{id}/rules); None: under the list's path.
    item_prefix: str | None = None
    listing: ListDefinition | None = None  # filters, search and sorts of the list
    paged: bool = True  # False: the list is short reference data, answered whole
    page_name: str = ""  # the page schema's name (default: <Out>Page)
    export: bool = True
    export_columns: tuple[tuple[str, Callable[[Any], Any]], ...] = ()  # default: `out`
    audit: bool = True
    has_get: bool = True  # False: no GET of one record (its list says all there is)
    create_in: type[Schema] | None = None
    create: Callable[..., Any] | None = None
    patch_in: type[Schema] | None = None
    update: Callable[..., Any] | None = None
    delete: Callable[..., Any] | None = None
    references: Mapping[str, Finder] = field(default_factory=dict)  # "family_id": finder
    prepare: Callable[[User, dict[str, Any]], dict[str, Any]] | None = None
    summaries: Mapping[str, str] = field(default_factory=dict)  # part -> summary line

    # --- reading ----------------------------------------------------------------------

    @property
    def title(self) -> str:
        return self.label or str(self.model._meta.verbose_name)

    @property
    def item_path(self) -> str:
        return f"{{int:{self.id_param}}}"

    def base_path(self) -> str:
        if self.parent is None:
            return f"/{self.path}"
        segment = f"/{self.parent.segment}" if self.parent.segment else ""
        return f"{segment}/{{int:{self.parent.param}}}/{self.path}"

    def item_base(self) -> str:
        """The path one record's routes hang from (then /{id})."""
        if self.item_prefix is None:
            return self.base_path()
        return f"/{self.item_prefix}" if self.item_prefix else ""

    def visible_rows(self, user, parent_pk: int | None = None) -> tuple[Any, QuerySet]:
        """The parent (or None) and the rows the user may see, under that parent (all
        of them for a record named without its parent: `item_prefix`)."""
        rows = self.rows(user)
        if self.parent is None or (parent_pk is None and self.item_prefix is not None):
            return None, rows
        if parent_pk is None or not 1 <= parent_pk <= MAX_ID:  # no row has it: not found
            raise NotFound(f"No {self.parent.label or self.parent.field} with id {parent_pk}.")
        parent = self.parent.lookup(user, parent_pk)
        return parent, rows.filter(**{self.parent.field: parent})

    def find(self, user, pk: int, parent_pk: int | None = None):
        """The record the URL names, if the user may see it; NotFound otherwise."""
        _, rows = self.visible_rows(user, parent_pk)
        found = rows.filter(**{self.lookup_field: pk}).first() if 1 <= pk <= MAX_ID else None
        if found is None:
            where = f" in this {self.parent.label or self.parent.field}" if self.parent else ""
            raise NotFound(f"No {self.title} with id {pk}{where}.")
        return found

    def reread(self, user, obj):
        """The record as just written, read the way `get` reads it (the writer may no
        longer see it, e.g. after handing it over: then as stored)."""
        found = self.rows(user).filter(pk=obj.pk).first()
        return found if found is not None else type(obj)._default_manager.get(pk=obj.pk)

    def service_data(self, user, payload: Schema | dict, parent=None) -> dict[str, Any]:
        data = payload if isinstance(payload, dict) else payload.model_dump(exclude_unset=True)
        data = dict(data)
        if self.references:
            for key, finder in self.references.items():
                if key in data:
                    pk = data.pop(key)
                    data[key.removesuffix("_id")] = None if pk is None else finder(user, pk)
        else:
            data = service_data(data)
        if parent is not None and self.parent is not None:
            data[self.parent.field] = parent
        return self.prepare(user, data) if self.prepare is not None else data

    def list_rows(self, user, params, parent_pk: int | None = None) -> QuerySet:
        """The list's rows: visible, under the parent, filtered as the list definition
        says (the same filters in the API list and its export)."""
        _, rows = self.visible_rows(user, parent_pk)
        if self.listing is not None:
            rows = self.listing.apply(rows, params)
        return rows

    # --- the registry -----------------------------------------------------------------

    def operations(self, mount: str) -> list[tuple[str, str, str]]:
        """(METHOD, path under /api/v1, action) of every generated route."""
        base = mount + _openapi_path(self.base_path())
        item = f"{mount}{_openapi_path(self.item_base())}/{{{self.id_param}}}"
        parts = [("GET", base, self.actions.view)]
        if self.export:
            parts.append(("GET", f"{base}/export.csv", self.actions.view))
        if self.create is not None:
            parts.append(("POST", base, self.actions.create))
        if self.has_get:
            parts.append(("GET", item, self.actions.view))
        if self.update is not None:
            parts.append(("PATCH", item, self.actions.change))
        if self.delete is not None:
            parts.append(("DELETE", item, self.actions.delete))
        if self.audit:
            parts.append(("GET", f"{item}/audit", self.actions.view))
        return parts


def _openapi_path(path: str) -> str:
    return path.replace("{int:", "{")


# The installed record types, with the API prefix each is mounted at; the generated
# permission tests read this.
RECORD_TYPES: list[tuple[str, RecordType]] = []


def install(router: Router, mount: str, record_types: list[RecordType]) -> None:
    """Add every record type's routes to `router` (mounted at `mount`, e.g. "/pricing")
    and declare them in the permission registry."""
    for record_type in record_types:
        _Routes(record_type, router).add()
        register_operations("\n".join(
            f"{method} {path} {record_type.resource}.{action}"
            for method, path, action in record_type.operations(mount)))
        RECORD_TYPES.append((mount, record_type))


def keyword_services(*, create=None, update=None, delete=None) -> dict[str, Any]:
    """Services written as `create_x(*, by, **values)`, `update_x(obj, *, by, version,
    **values)` and `delete_x(obj, *, by, version)`, in the kit's calling convention."""
    adapted: dict[str, Any] = {}
    if create is not None:
        adapted["create"] = lambda *, by, data: create(by=by, **data)
    if update is not None:
        adapted["update"] = lambda obj, *, by, data, expected_version: update(
            obj, by=by, version=expected_version, **data)
    if delete is not None:
        adapted["delete"] = lambda obj, *, by, expected_version: delete(
            obj, by=by, version=expected_version)
    return adapted


# --- the routes ----------------------------------------------------------------------


def _handler(func: Callable, name: str, doc: str, module: str,
             params: list[tuple[str, Any]]) -> Callable:
    """`func(request, **values)` as a view ninja reads: named for its operation id, in
    the app's module (operation ids that clash between apps take the app's name),
    with the path, query and body parameters given."""
    func.__name__ = func.__qualname__ = name
    func.__doc__ = doc
    func.__module__ = module
    signature = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    signature += [inspect.Parameter(param, inspect.Parameter.KEYWORD_ONLY, annotation=kind)
                  for param, kind in params]
    func.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    return func


class _Routes:
    def __init__(self, record_type: RecordType, router: Router):
        self.kind = record_type
        self.router = router
        self.module = record_type.out.__module__
        self.base = record_type.base_path()
        self.item = f"{record_type.item_base()}/{record_type.item_path}"
        parent = record_type.parent
        self.parent_params: list[tuple[str, Any]] = [] if parent is None else [(parent.param, int)]
        # one record's routes name the parent too, unless they live apart (`item_prefix`)
        self.item_params = [] if record_type.item_prefix is not None else self.parent_params

    def add(self) -> None:
        kind = self.kind
        self._list()
        if kind.export:
            self._export()
        if kind.create is not None:
            self._create(kind.create)
        if kind.has_get:
            self._get()
        if kind.update is not None:
            self._update(kind.update)
        if kind.delete is not None:
            self._delete(kind.delete)
        if kind.audit:
            self._audit()

    def _parent_pk(self, values: dict[str, Any]) -> int | None:
        return values.get(self.kind.parent.param) if self.kind.parent else None

    def _summary(self, part: str, default: str) -> str:
        return self.kind.summaries.get(part, default)

    def _list(self) -> None:
        kind = self.kind
        prefix = kind.out.__name__.removesuffix("Out")
        listing = kind.listing
        params_schema = (list_params_schema(f"{prefix}ListParams", listing)
                         if listing is not None else PageParams)
        if kind.paged:
            response: Any = page_schema(kind.out, kind.page_name or f"{prefix}Page")
        else:
            response = list[kind.out]  # type: ignore[name-defined]

        def handler(request, **values):
            rows = kind.list_rows(request.auth, request.GET, self._parent_pk(values))
            if not kind.paged:  # in the list's default sort, else the model's order
                if listing is not None:
                    return list(rows.order_by(listing.sort_field(None), "pk"))
                return list(rows if rows.ordered else rows.order_by("pk"))
            params = values["params"]
            if listing is not None:
                return page_of(rows, listing, params)
            page = keyset_page(rows, sort_field="id", sort_key="id", cursor=params.cursor,
                               limit=params.limit)
            return {"items": page.items, "next_cursor": page.next_cursor,
                    "previous_cursor": page.previous_cursor}

        params = list(self.parent_params)
        if kind.paged or listing is not None:
            params.append(("params", Query[params_schema]))  # type: ignore[misc]
        self.router.get(self.base, response=response, summary=self._summary(
            "list", f"The {kind.plural.replace('_', ' ')} you may see"))(_handler(
                handler, f"list_{kind.plural}",
                f"The {kind.plural.replace('_', ' ')} you may see"
                + (", one cursor page at a time." if kind.paged else "."),
                self.module, params))

    def _export(self) -> None:
        kind = self.kind

        def handler(request, **values):
            rows = kind.list_rows(request.auth, request.GET, self._parent_pk(values))
            if kind.listing is not None:
                rows = rows.order_by(kind.listing.sort_field(request.GET.get("sort")), "pk")
            elif not rows.ordered:
                rows = rows.order_by("pk")
            response = StreamingHttpResponse(_csv_lines(rows, kind),
                                             content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{kind.path}.csv"'
            return response

        self.router.get(f"{self.base}/export.csv", summary=self._summary(
            "export", f"The {kind.plural.replace('_', ' ')} you may see, as CSV"),
            openapi_extra={"responses": {200: {"description": "CSV, one row per record",
                                               "content": {"text/csv": {}}}}})(_handler(
                handler, f"export_{kind.plural}",
                "The list's rows you may see, with its filters, as CSV (UTF-8).",
                self.module, self.parent_params))

    def _create(self, create: Callable[..., Any]) -> None:
        kind = self.kind
        out = kind.detail_out or kind.out

        def handler(request, **values):
            parent, _ = kind.visible_rows(request.auth, self._parent_pk(values))
            data = kind.service_data(request.auth, values["payload"], parent)
            obj = create(by=request.auth, data=data)
            response: HttpResponse = values["response"]
            response["Location"] = self._location(request.path, obj.pk)
            return Status(201, kind.reread(request.auth, obj))

        self.router.post(self.base, response={201: out}, summary=self._summary(
            "create", f"Add a {kind.title}"))(_handler(
                handler, f"create_{kind.name}", f"Add a {kind.title}.", self.module,
                [*self.parent_params, ("payload", kind.create_in),
                 ("response", HttpResponse)]))

    def _location(self, list_path: str, pk: int) -> str:
        """The new record's URL, from the list's (its item routes may live apart)."""
        list_path = list_path.rstrip("/")
        if self.kind.item_prefix is None:
            return f"{list_path}/{pk}"
        mount = list_path.rsplit("/", self.base.count("/"))[0]
        return f"{mount}{self.kind.item_base()}/{pk}"

    def _get(self) -> None:
        kind = self.kind

        def handler(request, **values):
            return kind.find(request.auth, values[kind.id_param], self._parent_pk(values))

        self.router.get(self.item, response=kind.detail_out or kind.out, summary=self._summary(
            "get", f"One {kind.title}"))(_handler(
                handler, f"get_{kind.name}", f"One {kind.title}.", self.module,
                [*self.item_params, (kind.id_param, int)]))

    def _update(self, update: Callable[..., Any]) -> None:
        kind = self.kind

        def handler(request, **values):
            obj = kind.find(request.auth, values[kind.id_param], self._parent_pk(values))
            data = values["payload"].model_dump(exclude_unset=True)
            version = data.pop("version")
            update(obj, by=request.auth, data=kind.service_data(request.auth, data),
                        expected_version=version)
            return kind.reread(request.auth, obj)

        self.router.patch(self.item, response=kind.detail_out or kind.out,
                          summary=self._summary("update", f"Change a {kind.title}"))(_handler(
                handler, f"update_{kind.name}",
                f"Change some fields of a {kind.title}. Send the `version` you read: if the "
                "record changed since, nothing is written and the answer is 409.",
                self.module, [*self.item_params, (kind.id_param, int),
                              ("payload", kind.patch_in)]))

    def _delete(self, delete: Callable[..., Any]) -> None:
        kind = self.kind

        def handler(request, **values):
            obj = kind.find(request.auth, values[kind.id_param], self._parent_pk(values))
            delete(obj, by=request.auth, expected_version=values["version"])
            return Status(204, None)

        self.router.delete(self.item, response={204: None}, summary=self._summary(
            "delete", f"Delete a {kind.title}"))(_handler(
                handler, f"delete_{kind.name}",
                f"Delete a {kind.title}, with `?version=` the version you read (409 if it "
                "changed since).", self.module,
                [*self.item_params, (kind.id_param, int), ("version", VersionParam)]))

    def _audit(self) -> None:
        kind = self.kind

        def handler(request, **values):
            obj = kind.find(request.auth, values[kind.id_param], self._parent_pk(values))
            params = values["params"]
            page = keyset_page(history_for(obj), sort_field="-changed_at",
                               sort_key="-changed_at", cursor=params.cursor,
                               limit=params.limit)
            return {"items": page.items, "next_cursor": page.next_cursor,
                    "previous_cursor": page.previous_cursor}

        self.router.get(f"{self.item}/audit", response=AuditPage, summary=self._summary(
            "audit", f"A {kind.title}'s history"))(_handler(
                handler, f"{kind.name}_audit",
                f"Who changed what on a {kind.title}, and when, newest first.", self.module,
                [*self.item_params, (kind.id_param, int), ("params", Query[PageParams])]))


# --- the CSV export ----------------------------------------------------------------------


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: QuerySet, kind: RecordType) -> Iterator[str]:
    """A UTF-8 BOM and the header, then one line per row: the `export_columns`, or every
    field of the list's output schema as the API shows it. Text a spreadsheet would run
    as a formula is written as text."""
    writer = csv.writer(_Echo())
    if kind.export_columns:
        yield "\ufeff" + writer.writerow([header for header, _ in kind.export_columns])
        for record in rows.iterator(chunk_size=2000):  # streamed; prefetches by chunk
            yield writer.writerow([_cell(get(record)) for _, get in kind.export_columns])
        return
    names = list(kind.out.model_fields)
    yield "\ufeff" + writer.writerow(names)
    for record in rows.iterator(chunk_size=2000):  # streamed; prefetches by chunk
        shown = kind.out.from_orm(record).model_dump(mode="json")
        yield writer.writerow([_cell(shown[name]) for name in names])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return formula_safe(str(value))
