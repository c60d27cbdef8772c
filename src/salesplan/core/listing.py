"""Lists that stay fast at a million rows: filters, search, facets, paging.

One ListDefinition per record type serves the HTML list, the API, and exports, so a
filter means the same everywhere. The API pages by keyset (the sort value and id of the
last row seen), so page 2,000 costs what page 1 costs. The pages number their pages
(`numbered_page`) only within the rows the list counts (`capped_count`, 10,000): an
offset is cheap there, and past it they go on by keyset. Facets count a filter's values
with one grouped query each (`facet_counts`).
"""

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Count, F, OrderBy, Q, QuerySet
from django.db.models.functions import Coalesce


def _parse_int(value: str) -> int:
    number = int(value)
    # Ids and counts fit in a signed 64-bit column; anything larger is a typo, not a query.
    if not -(2**63) <= number < 2**63:
        raise ValueError("out of range")
    return number


def _parse_date(value: str) -> date:
    return date.fromisoformat(value)


def _parse_decimal(value: str) -> Decimal:
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


PARSERS: dict[str, Callable[[str], object]] = {
    "int": _parse_int, "date": _parse_date, "decimal": _parse_decimal, "bool": _parse_bool,
    "str": str,
}


@dataclass(frozen=True)
class Filter:
    """One filter a user can apply: `lookup` is the ORM lookup, `kind` the value type."""

    lookup: str
    kind: str = "str"
    label: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    multiple: bool = False
    # A filter no single lookup says (a family "and the families below it"): called with
    # the queryset and the parsed values instead of filtering on `lookup`.
    method: Callable[[QuerySet, list], QuerySet] | None = None


@dataclass(frozen=True)
class Column:
    """A column a user may show: `path` reads the value ("owner", "account__name",
    "get_lifecycle_display"); `sort` is its ascending sort key, if sortable."""

    label: str
    path: str
    sort: str = ""


@dataclass(frozen=True)
class ListDefinition:
    """How a record type is listed: filters, sort keys, searchable prefix fields."""

    filters: dict[str, Filter]
    sorts: dict[str, str]  # public key -> model field ("-field" for descending)
    default_sort: str
    search_fields: tuple[str, ...] = ()
    search_normaliser: Callable[[str], str] = field(default=lambda s: s.strip().lower())
    # A search other than a prefix of `search_fields` (an SKU prefix or part of a name).
    search: Callable[[QuerySet, str], QuerySet] | None = None
    search_label: str = "Search by name prefix."  # what `q` searches, for the API's docs
    # Fields `q` finds anywhere in, ignoring case ("pharma" finds "Acme Pharmaceuticals").
    # On PostgreSQL each has a trigram index; on SQLite it is a plain LIKE scan.
    contains_fields: tuple[str, ...] = ()
    # The columns a user may choose to show (`cols=name,industry`), first one linked.
    columns: dict[str, Column] = field(default_factory=dict)
    # Filters whose values are counted beside the list (`facet_counts`), in this order;
    # `facet_labels[name](values) -> {value: label}` names values that are ids.
    facets: tuple[str, ...] = ()
    facet_labels: dict[str, Callable[[list], dict]] = field(default_factory=dict)

    def chosen_columns(self, cols: str | None) -> list[tuple[str, Column]]:
        """The columns `cols` names that the list has, in the order given."""
        keys = [key.strip() for key in (cols or "").split(",")]
        return [(key, self.columns[key]) for key in dict.fromkeys(keys) if key in self.columns]

    def apply(self, queryset: QuerySet, params) -> QuerySet:
        """Filter and search `queryset` by request parameters; bad values name the field."""
        errors: dict[str, str] = {}
        for name, spec in self.filters.items():
            raw_values = _values(params, name)
            if not raw_values:
                continue
            try:
                values = [PARSERS[spec.kind](v) for v in raw_values]
            except (ValueError, TypeError, InvalidOperation):
                errors[name] = f"'{raw_values[0]}' is not a valid {spec.kind} value."
                continue
            if spec.choices and any(str(v) not in dict(spec.choices) for v in values):
                errors[name] = "Choose one of: " + ", ".join(k for k, _ in spec.choices)
                continue
            if spec.method is not None:
                queryset = spec.method(queryset, values)
            elif spec.kind == "str" and not spec.choices and "__" not in spec.lookup:
                # Free-text filters ignore case: "california" finds "California".
                any_of = Q()
                for value in values:
                    any_of |= Q(**{f"{spec.lookup}__iexact": value})
                queryset = queryset.filter(any_of)
            elif spec.multiple or len(values) > 1:
                lookup = spec.lookup if spec.lookup.endswith("__in") else f"{spec.lookup}__in"
                queryset = queryset.filter(**{lookup: values})
            else:
                queryset = queryset.filter(**{spec.lookup: values[0]})
        if errors:
            raise ValidationError(errors)
        term = (params.get("q") or "").strip()
        if term and self.search is not None:
            queryset = self.search(queryset, term)
        elif term and self.contains_fields:
            queryset = queryset.filter(contains_search_q(self.contains_fields, term))
        elif term and self.search_fields:
            queryset = queryset.filter(
                prefix_search_q(self.search_fields, self.search_normaliser(term)))
        return queryset

    def sort_field(self, sort: str | None) -> str:
        key = sort or self.default_sort
        if key not in self.sorts:
            raise ValidationError({"sort": "Sort by one of: " + ", ".join(self.sorts)})
        return self.sorts[key]


def _values(params, name: str) -> list[str]:
    if hasattr(params, "getlist"):
        values = params.getlist(name)
    else:
        value = params.get(name)
        values = value if isinstance(value, list) else ([] if value is None else [value])
    flat: list[str] = []
    for v in values:
        flat.extend(part for part in str(v).split(",") if part.strip() != "")
    return flat


def prefix_search_q(fields: tuple[str, ...], term: str) -> Q:
    """Rows where any field starts with `term`, as an index-friendly range
    (field >= term AND field < term-with-last-char-bumped) instead of LIKE."""
    upper = term[:-1] + chr(ord(term[-1]) + 1)
    q = Q()
    for f in fields:
        q |= Q(**{f"{f}__gte": term, f"{f}__lt": upper})
    return q


def contains_search_q(fields: tuple[str, ...], term: str) -> Q:
    """Rows where any field contains `term`, ignoring case."""
    q = Q()
    for f in fields:
        q |= Q(**{f"{f}__icontains": term})
    return q


# --- keyset pagination -----------------------------------------------------------


@dataclass
class Page:
    items: list
    next_cursor: str | None
    previous_cursor: str | None
    sort: str


def _encode(value) -> object:
    if isinstance(value, (date, datetime)):
        return {"t": "dt" if isinstance(value, datetime) else "d", "v": value.isoformat()}
    if isinstance(value, Decimal):
        return {"t": "dec", "v": str(value)}
    return value


def _decode(value) -> object:
    if isinstance(value, dict):
        kind, raw = value.get("t"), str(value.get("v"))
        if kind == "d":
            return date.fromisoformat(raw)
        if kind == "dt":
            return datetime.fromisoformat(raw)
        if kind == "dec":
            return Decimal(raw)
    return value


def make_cursor(sort_value, pk: int, backwards: bool = False) -> str:
    payload = json.dumps([_encode(sort_value), pk, 1 if backwards else 0], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def read_cursor(cursor: str) -> tuple[object, int, bool]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_value, pk, backwards = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return _decode(sort_value), int(pk), bool(backwards)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise ValidationError(
            {"cursor": "The cursor is not valid; start from the first page."}) from exc


def keyset_page(queryset: QuerySet, *, sort_field: str, sort_key: str, cursor: str | None = None,
                limit: int | None = None, from_index: bool = True) -> Page:
    """One page of `queryset` ordered by `sort_field` then id, after or before the cursor.
    `from_index=False` sorts the matching rows instead of walking an index in list
    order (see `sorted_not_walked`)."""
    limit = max(1, min(limit or settings.LIST_PAGE_SIZE, 500))
    descending = sort_field.startswith("-")
    name = sort_field.lstrip("-")
    backwards = False
    if cursor:
        value, pk, backwards = read_cursor(cursor)
        # Going forwards on an ascending sort means "greater than"; every other case flips.
        greater = descending == backwards
        op = "gt" if greater else "lt"
        # The inclusive bound alone is what lets the database seek straight to the cursor
        # in the (…, sort field, id) index; the OR then drops the rows before it.
        queryset = queryset.filter(
            Q(**{f"{name}__{op}e": value}),
            Q(**{f"{name}__{op}": value}) | Q(**{name: value, f"pk__{op}": pk}))
    forward_desc = descending != backwards
    order = _page_order(queryset, name, forward_desc, from_index=from_index)
    rows = list(queryset.order_by(*order)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    return _page(rows, name=name, sort_key=sort_key, cursor=cursor, backwards=backwards,
                 more=more)


def _page_order(queryset: QuerySet, name: str, descending: bool, *,
                from_index: bool = True) -> tuple[str | OrderBy, ...]:
    """The list's order, then id's: walked along an index, or sorted (`from_index=False`,
    and a rep's view on PostgreSQL: see `VisibleQuerySet.few_visible_rows`)."""
    order: tuple[str | OrderBy, ...] = (f"-{name}", "-pk") if descending else (name, "pk")
    if not from_index or (getattr(queryset, "few_visible_rows", False)
                          and connections[queryset.db].vendor == "postgresql"):
        order = tuple(sorted_not_walked(str(part)) for part in order)
    return order


def _page(rows: list, *, name: str, sort_key: str, cursor: str | None, backwards: bool,
          more: bool) -> Page:
    """A page of rows in display order, with the cursors that lead on from it."""
    next_cursor = previous_cursor = None
    if rows:
        first, last = rows[0], rows[-1]
        if more or backwards:
            next_cursor = make_cursor(_attr(last, name), last.pk)
        if cursor and (not backwards or more):
            previous_cursor = make_cursor(_attr(first, name), first.pk, backwards=True)
    return Page(items=rows, next_cursor=next_cursor, previous_cursor=previous_cursor,
                sort=sort_key)


def sorted_not_walked(order: str) -> OrderBy:
    """`order` ("name" or "-name") as an expression no index provides, so the database
    finds the matching rows by their other conditions and sorts them. For a part of a
    list PostgreSQL wrongly expects to be large (a rep's territory accounts' records
    not owned by the rep): walking an index in list order to fill a page of it would
    then read the whole company's table."""
    name = order.lstrip("-")
    expression = Coalesce(F(name), F(name))
    return expression.desc() if order.startswith("-") else expression.asc()


def merged_keyset_page(querysets: list[QuerySet], *, sort_field: str, sort_key: str,
                       cursor: str | None = None, limit: int | None = None) -> Page:
    """`keyset_page` of the union of querysets, which may overlap: a page of each,
    merged. For a set the database reads faster in parts (each on its own index) than
    as one query. The first is read from its index in list order, the others are
    sorted (`sorted_not_walked`): they are a user's territory parts."""
    if len(querysets) == 1:
        return keyset_page(querysets[0], sort_field=sort_field, sort_key=sort_key,
                           cursor=cursor, limit=limit)
    limit = max(1, min(limit or settings.LIST_PAGE_SIZE, 500))
    backwards = read_cursor(cursor)[2] if cursor else False
    name = sort_field.lstrip("-")
    rows: list = []
    more = False
    seen: set = set()
    for i, queryset in enumerate(querysets):
        page = keyset_page(queryset, sort_field=sort_field, sort_key=sort_key, cursor=cursor,
                           limit=limit, from_index=i == 0)
        rows.extend(row for row in page.items if row.pk not in seen)
        seen.update(row.pk for row in page.items)
        # A part has rows beyond its page: going forwards it offers a next page, going
        # backwards a previous one.
        more = more or (page.previous_cursor if backwards else page.next_cursor) is not None
    rows.sort(key=lambda r: (_attr(r, name), r.pk), reverse=sort_field.startswith("-"))
    more = more or len(rows) > limit
    rows = rows[-limit:] if backwards else rows[:limit]
    return _page(rows, name=name, sort_key=sort_key, cursor=cursor, backwards=backwards,
                 more=more)


def _attr(obj, path: str):
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj


def column_value(obj, path: str):
    """What a column shows for `obj`: the attribute at `path`, called if a method."""
    for part in path.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            return ""
    return obj() if callable(obj) else obj


def capped_count(queryset: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """Count up to `cap` rows; returns (count, capped)."""
    cap = cap or settings.LIST_COUNT_LIMIT
    in_parts = getattr(queryset, "disjoint_parts", None)
    parts = (in_parts() if in_parts else None) or [queryset]
    count = 0
    for part in parts:  # disjoint: their counts add up to the whole's
        count += part.order_by()[: cap + 1 - count].count()
        if count > cap:
            break
    return min(count, cap), count > cap


# --- numbered pages --------------------------------------------------------------


def parse_page_number(raw) -> int:
    """The `page` a request asks for: 1 when absent; a bad one names the field."""
    if raw in (None, ""):
        return 1
    try:
        number = int(str(raw))
    except ValueError as exc:
        raise ValidationError({"page": "Give a page number (1, 2, …)."}) from exc
    if number < 1:
        raise ValidationError({"page": "Pages are numbered from 1."})
    return number


def numbered_page(queryset: QuerySet, *, sort_field: str, sort_key: str, number: int,
                  limit: int | None = None) -> Page:
    """Page `number` of `queryset` by offset, with the keyset cursors that lead on from
    it (so "Next" past the counted rows goes on by keyset). Callers keep `number` within
    the counted rows: the offset is then at most the count cap."""
    limit = max(1, min(limit or settings.LIST_PAGE_SIZE, 500))
    name = sort_field.lstrip("-")
    order = _page_order(queryset, name, sort_field.startswith("-"))
    offset = (number - 1) * limit
    rows = list(queryset.order_by(*order)[offset: offset + limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = previous_cursor = None
    if rows and more:
        next_cursor = make_cursor(_attr(rows[-1], name), rows[-1].pk)
    if rows and number > 1:
        previous_cursor = make_cursor(_attr(rows[0], name), rows[0].pk, backwards=True)
    return Page(items=rows, next_cursor=next_cursor, previous_cursor=previous_cursor,
                sort=sort_key)


# --- facets ----------------------------------------------------------------------

FACET_TOP = 8  # values shown per facet; the rest are summed as "others"
FACET_SCAN = 200  # groups read per facet; past it "others" comes from the list's count


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class FacetCounts:
    """One filter's values with how many rows of the list each has."""

    name: str
    label: str
    values: list[FacetValue]
    others: int  # rows with a value outside the top ones
    others_exact: bool


def _without(params, name: str):
    """The request's parameters without filter `name` (nor paging)."""
    if hasattr(params, "copy") and hasattr(params, "getlist"):
        rest = params.copy()
        for key in (name, "cursor", "page"):
            rest.pop(key, None)
        return rest
    return {k: v for k, v in dict(params or {}).items() if k not in (name, "cursor", "page")}


def facet_counts(definition: ListDefinition, select: Callable[[object, object], QuerySet],
                 user, params, *, total: int | None = None,
                 top: int = FACET_TOP) -> list[FacetCounts]:
    """For each facet of the list: its values among the rows the user may see that match
    every other filter (a value's own filter is left out, so choosing one still shows
    the others), most rows first, each with one grouped query. `total` is the list's
    own count when known (not capped): a facet whose filter is not set counts the same
    rows, so its "others" is exact even past FACET_SCAN groups."""
    found: list[FacetCounts] = []
    for name in definition.facets:
        spec = definition.filters[name]
        chosen = {value.lower() for value in _values(params, name)}
        rows = list(select(user, _without(params, name)).order_by().values_list(spec.lookup)
                    .annotate(n=Count("pk")).order_by("-n", spec.lookup)[:FACET_SCAN])
        shown = rows[:top]
        # A chosen value stays listed even when it is not among the top ones.
        shown += [row for row in rows[top:] if str(row[0]).lower() in chosen]
        shown_sum = sum(n for _, n in shown)
        others, exact = sum(n for _, n in rows) - shown_sum, len(rows) < FACET_SCAN
        if not exact and total is not None and not chosen:
            others, exact = total - shown_sum, True
        found.append(FacetCounts(name, spec.label or name.replace("_", " ").capitalize(),
                                 _facet_values(definition, name, shown, chosen), others, exact))
    return found


def _facet_values(definition: ListDefinition, name: str, rows: list,
                  chosen: set[str]) -> list[FacetValue]:
    spec = definition.filters[name]
    labels: dict = dict(spec.choices)
    if name in definition.facet_labels:
        labels = definition.facet_labels[name]([value for value, _ in rows if value is not None])
    values = []
    if spec.kind == "bool":
        labels = {"true": "Yes", "false": "No"}
    for value, n in rows:
        text = "" if value is None else str(value).lower() if isinstance(value, bool) \
            else str(value)
        label = labels.get(value, labels.get(text, text)) if text else "Not set"
        values.append(FacetValue(text, str(label), n, text.lower() in chosen))
    return values
