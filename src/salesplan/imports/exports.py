"""Exports: any list, as filtered on its page, to CSV (streamed) or XLSX.

Rows come from each app's list selector (`account_list(user, params)` …), so an export
holds exactly the rows the person can see with the same filters as the page. Rows are
read with `.iterator(chunk_size=2000)`: a million-row export never sits in memory.
Column headers are the import labels, so an exported file maps itself on re-import.
"""

import csv
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone

from salesplan.activities.filters import ACTIVITY_LIST
from salesplan.activities.selectors import activity_list
from salesplan.core.clock import company_now, in_company_time
from salesplan.core.spreadsheet import formula_safe
from salesplan.customers.filters import ACCOUNT_LIST, CONTACT_LIST, LEAD_LIST
from salesplan.customers.selectors import account_list, contact_list, lead_list
from salesplan.pipeline.filters import OPPORTUNITY_LIST
from salesplan.pipeline.selectors import opportunity_list

from .columns import EXPORT_RESOURCES, RESOURCE_ALIASES

# Exports above this many rows go to a background job when written as XLSX.
XLSX_INLINE_LIMIT = 50_000

Getter = Callable[[Any], object]


def _owner(record) -> str:
    return record.owner.username if record.owner_id else ""


def _name_of(attr: str) -> Getter:
    def get(record) -> str:
        related = getattr(record, attr)
        return "" if related is None else str(related)
    return get


def _attr(name: str) -> Getter:
    return lambda record: getattr(record, name)


def _fields(*names: str) -> list[tuple[str, Getter]]:
    return [(n.replace("_", " ").capitalize(), _attr(n)) for n in names]


EXPORT_COLUMNS: dict[str, list[tuple[str, Getter]]] = {
    "account": [("Id", _attr("pk")),
                *_fields("name", "domain", "website", "industry", "employees",
                         "annual_revenue", "street", "city", "postal_code"),
                ("State/region", _attr("state")),
                *_fields("county", "country", "tier", "lifecycle", "potential", "currency"),
                ("Owner", _owner), ("Created at", _attr("created_at"))],
    "contact": [("Id", _attr("pk")),
                *_fields("first_name", "last_name", "title", "email", "email_secondary",
                         "phone", "mobile"),
                ("Account", _name_of("account")),
                *_fields("buying_role", "do_not_contact"),
                ("Owner", _owner), ("Created at", _attr("created_at"))],
    "lead": [("Id", _attr("pk")),
             *_fields("first_name", "last_name", "title", "email", "phone", "company",
                      "website", "industry", "employees", "city"),
             ("State/region", _attr("state")),
             *_fields("postal_code", "country", "source", "campaign", "status"),
             ("Owner", _owner), ("Created at", _attr("created_at"))],
    "opportunity": [("Id", _attr("pk")), *_fields("name"),
                    ("Account", _name_of("account")),
                    ("Stage", lambda o: o.stage.name),
                    *_fields("status", "amount", "currency", "close_date", "probability",
                             "forecast_category", "next_step", "lost_reason"),
                    ("Owner", _owner), ("Created at", _attr("created_at"))],
    "activity": [("Id", _attr("pk")), *_fields("kind", "subject", "due_at",
                                               "duration_minutes", "outcome", "done"),
                 ("Account", lambda a: str(a.account) if a.account_id else ""),
                 ("Contact", lambda a: str(a.contact) if a.contact_id else ""),
                 ("Opportunity", lambda a: str(a.opportunity) if a.opportunity_id else ""),
                 ("Lead", lambda a: str(a.lead) if a.lead_id else ""),
                 ("Owner", _owner)],
}

SELECTORS = {"account": account_list, "contact": contact_list, "lead": lead_list,
             "opportunity": opportunity_list, "activity": activity_list}


def resource_name(name: str) -> str | None:
    """'accounts' or 'account' → 'account'; None for something we do not export."""
    name = RESOURCE_ALIASES.get(name, name)
    return name if name in EXPORT_RESOURCES else None


def as_query_dict(params) -> QueryDict:
    """Request parameters, or a plain {name: value or [values]} dict from a job or the
    CLI, as the QueryDict the list definitions read."""
    if isinstance(params, QueryDict):
        return params
    query = QueryDict(mutable=True)
    for key, value in (params or {}).items():
        query.setlist(key, [str(v) for v in value] if isinstance(value, list) else [str(value)])
    return query


def export_rows(user, resource: str, params) -> QuerySet:
    """The visible, filtered rows of a list in the list's own sort order."""

    definitions = {"account": ACCOUNT_LIST, "contact": CONTACT_LIST, "lead": LEAD_LIST,
                   "opportunity": OPPORTUNITY_LIST, "activity": ACTIVITY_LIST}
    params = as_query_dict(params)
    queryset = SELECTORS[resource](user, params)
    sort = definitions[resource].sort_field(params.get("sort"))
    return queryset.order_by(sort, "-pk" if sort.startswith("-") else "pk")


def safe_cell(value) -> object:
    """A cell value that no spreadsheet will run as a formula: text starting with
    = + - @ (also after blanks or separators) or a tab/return gets a leading quote.
    Numbers and dates stay as they are."""
    if value is None:
        return ""
    if isinstance(value, bool | int | Decimal | float):
        return value
    if isinstance(value, datetime):
        return in_company_time(value).replace(tzinfo=None) if timezone.is_aware(value) \
            else value
    if not isinstance(value, str) and hasattr(value, "isoformat"):
        return value
    text = str(value)
    return formula_safe(text)


def header_row(resource: str) -> list[str]:
    return [header for header, _ in EXPORT_COLUMNS[resource]]


def value_rows(queryset: QuerySet, resource: str) -> Iterator[list]:
    getters = [get for _, get in EXPORT_COLUMNS[resource]]
    for record in queryset.iterator(chunk_size=2000):
        yield [safe_cell(get(record)) for get in getters]


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_lines(queryset: QuerySet, resource: str) -> Iterator[str]:
    """The export as CSV text, one line at a time (UTF-8 BOM first, so Excel reads it)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header_row(resource))
    for row in value_rows(queryset, resource):
        yield writer.writerow([_csv_text(v) for v in row])


def _csv_text(value) -> object:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def write_xlsx(queryset: QuerySet, resource: str, target, progress=None) -> int:
    """Write the export to `target` (a path or binary file) with openpyxl's write-only
    mode, which streams rows to disk instead of building the sheet in memory."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=resource.capitalize())
    sheet.append(header_row(resource))
    count = 0
    for row in value_rows(queryset, resource):
        sheet.append(row)
        count += 1
        if progress is not None and count % 2000 == 0:
            progress.advance_to(count, f"Wrote {count:,} rows")
    book.save(target)
    return count


def export_filename(resource: str, fmt: str) -> str:
    stamp = company_now().strftime("%Y%m%d-%H%M")
    plural = {"opportunity": "opportunities", "activity": "activities"}.get(
        resource, f"{resource}s")
    return f"{plural}-{stamp}.{fmt}"
