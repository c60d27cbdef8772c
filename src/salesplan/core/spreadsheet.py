"""Text cells that a spreadsheet program will show rather than run, and Decimals that
openpyxl writes with their own digits.

Excel, LibreOffice and Google Sheets run a cell as a formula when its text starts with
= + - or @, and some of them first skip blanks or, when a file is split on another
separator, the separators in front (`;=1+2`). A leading tab or carriage return can also
start one. Such a cell gets a leading apostrophe, which every one of them reads as
"this is text" and does not show.

`write_xlsx` is the one workbook writer the exports share (reports, payroll).
"""

import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

FORMULA_TRIGGERS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")  # and their full-width forms
# What a spreadsheet may skip before deciding: blanks and field separators.
SKIPPED_BEFORE_FORMULA = ";,|\t\r\n\x0b\x0c"


def starts_like_formula(text: str) -> bool:
    if not text:
        return False
    if text[0] in "\t\r\n":
        return True
    rest = text.lstrip()
    while rest and rest[0] in SKIPPED_BEFORE_FORMULA:
        rest = rest[1:].lstrip()
    return bool(rest) and rest[0] in FORMULA_TRIGGERS


def formula_safe(text: str) -> str:
    """The text as it should be written to a spreadsheet cell."""
    return "'" + text if starts_like_formula(text) else text


def exact_decimals_in_xlsx() -> None:
    """Make openpyxl write a Decimal's own digits into the sheet.

    openpyxl formats every number with "%.16g" through a float, which writes
    99999999999.99 as 99999999999.99001. The cell writer looks the formatter up by
    name, so a Decimal-aware one that hands everything else to the original is enough.
    """
    from openpyxl.cell import _writer

    original = _writer.safe_string
    if getattr(original, "keeps_decimals", False):
        return

    def safe_string(value):
        if isinstance(value, Decimal) and value.is_finite():
            return format(value, "f")
        return original(value)

    safe_string.keeps_decimals = True  # type: ignore[attr-defined]
    _writer.safe_string = safe_string


def sheet_title(text: str, fallback: str = "Sheet") -> str:
    """A worksheet name Excel accepts: none of []:*?/\\ and at most 31 characters."""
    return re.sub(r"[\[\]:*?/\\]", " ", text)[:31] or fallback


def write_xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence[object]], *,
               formats: Sequence[str | None] = (), heading: str | None = None,
               lead: Iterable[Sequence[object]] = ()) -> bytes:
    """A workbook of one sheet, written as it streams: an optional bold heading and lead
    rows, the header row in bold, then `rows` (values ready for a cell: text already
    `formula_safe`). A column's number format (`formats`) applies to its non-empty
    cells; Decimals are written with their own digits (`exact_decimals_in_xlsx`)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    exact_decimals_in_xlsx()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=sheet_title(title))
    if heading is not None:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = Font(bold=True, size=13)
        sheet.append([cell])
    for row in lead:
        sheet.append(list(row))
    bold = []
    for label in header:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = Font(bold=True)
        bold.append(cell)
    sheet.append(bold)
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            cell = WriteOnlyCell(sheet, value=value)
            number_format = formats[i] if i < len(formats) else None
            if number_format and value is not None:
                cell.number_format = number_format
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
