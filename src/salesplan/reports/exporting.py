"""Any table of figures as a CSV, XLSX or PDF download.

One entry point, `export_table`, serves every report, list and dashboard card that
offers an export. Columns say what kind of value they hold, so each format can show it
properly: money and percentages stay exact Decimals in CSV and XLSX (never floats), dates
are real dates in the spreadsheet, and the PDF is a plain printable table with the title,
the filters it was run with and the time it was generated.
"""

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.http import HttpResponse
from django.template.loader import render_to_string

from salesplan.core.clock import company_now, in_company_time
from salesplan.core.spreadsheet import formula_safe, sheet_title, write_xlsx

ColumnKind = Literal["text", "int", "money", "percent", "date"]
ExportFormat = Literal["csv", "xlsx", "pdf"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx", "pdf")

CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
_XLSX_FORMATS = {"int": "#,##0", "money": "#,##0.00", "percent": '0.0"%"',
                 "date": "yyyy-mm-dd"}


@dataclass(frozen=True)
class Column:
    """One column of an exported table: the key of its value, its heading and its kind.

    Percentages are given as percentages (42.5 means 42.5 %), money as a Decimal amount.
    """

    key: str
    label: str
    kind: ColumnKind = "text"


@dataclass(frozen=True)
class Export:
    """An export's bytes with the headers a download needs (also used for attachments)."""

    content: bytes
    content_type: str
    filename: str


def export_table(*, title: str, columns: Sequence[Column], rows: Iterable[Sequence],
                 fmt: ExportFormat, filters: Mapping[str, str] | None = None,
                 filename: str) -> HttpResponse:
    """The table as a download in the given format (`filename` without its extension)."""
    export = build_export(title=title, columns=columns, rows=rows, fmt=fmt, filters=filters,
                          filename=filename)
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


def build_export(*, title: str, columns: Sequence[Column], rows: Iterable[Sequence],
                 fmt: ExportFormat, filters: Mapping[str, str] | None = None,
                 filename: str) -> Export:
    """The table rendered in one format, as bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"format: choose one of {', '.join(FORMATS)}, not {fmt!r}.")
    filters = dict(filters or {})
    generated = company_now()
    if fmt == "csv":
        content = _csv(columns, rows)
    elif fmt == "xlsx":
        content = _xlsx(title, columns, rows, filters, generated)
    else:
        content = _pdf(title, columns, rows, filters, generated)
    return Export(content, CONTENT_TYPES[fmt], f"{safe_filename(filename)}.{fmt}")


def safe_filename(name: str) -> str:
    """A file name without path separators, quotes or control characters."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return cleaned[:120] or "export"


def _text_cell(value: object) -> str:
    return formula_safe("" if value is None else str(value))


def _csv_cell(column: Column, value: object) -> object:
    if value is None:
        return ""
    if column.kind == "text":
        return _text_cell(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def _csv(columns: Sequence[Column], rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.label for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(c, v) for c, v in zip(columns, row, strict=True)])
    # A byte-order mark first, so spreadsheet programs read the file as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_cell(column: Column, value: object) -> object:
    if value is None:
        return None
    if column.kind == "text":
        return _text_cell(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return in_company_time(value).replace(tzinfo=None)
    return value


def _xlsx(title: str, columns: Sequence[Column], rows: Iterable[Sequence],
          filters: Mapping[str, str], generated: datetime) -> bytes:
    lead = [[_text_cell(name), _text_cell(value)] for name, value in filters.items()]
    lead += [["Generated", generated.strftime("%Y-%m-%d %H:%M %Z")], []]
    return write_xlsx(
        sheet_title(title, "Report"), [c.label for c in columns],
        ([_xlsx_cell(c, v) for c, v in zip(columns, row, strict=True)] for row in rows),
        formats=[_XLSX_FORMATS.get(c.kind) for c in columns], heading=_text_cell(title),
        lead=lead)


def display_value(column: Column, value: object) -> str:
    """A value as printed in the PDF and on pages: grouped digits, two decimals for money."""
    if value is None:
        return ""
    if column.kind == "money" and isinstance(value, (Decimal, int, float)):
        return f"{Decimal(value):,.2f}"
    if column.kind == "int" and isinstance(value, (int, Decimal)):
        return f"{value:,}"
    if column.kind == "percent" and isinstance(value, (Decimal, int, float)):
        return f"{Decimal(value):.1f} %"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _pdf(title: str, columns: Sequence[Column], rows: Iterable[Sequence],
         filters: Mapping[str, str], generated: datetime) -> bytes:
    from weasyprint import HTML

    body = [
        [(display_value(c, v), c.kind != "text" and c.kind != "date")
         for c, v in zip(columns, row, strict=True)]
        for row in rows
    ]
    html = render_to_string("reports/export_table.html", {
        "title": title, "columns": columns, "rows": body, "filters": filters,
        "generated": generated,
    })
    return HTML(string=html).write_pdf()
