"""Reading an uploaded CSV or XLSX file as a header and rows of text, one row at a time."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from .columns import cell_text


class UnreadableFile(ValueError):
    """The file is not a CSV or XLSX file we can read; the message says why."""


@dataclass
class Table:
    """A file's header and an iterator over its data rows (lists of text)."""

    headers: list[str]
    rows: Iterator[list[str]]
    estimated_rows: int
    close: object = None


def is_xlsx(name: str) -> bool:
    return name.lower().endswith((".xlsx", ".xlsm"))


def open_table(path_or_file, name: str) -> Table:
    """Open a CSV (any common delimiter, UTF-8 or Latin-1) or the first sheet of an XLSX."""
    if is_xlsx(name):
        return _open_xlsx(path_or_file)
    return _open_csv(path_or_file)


def _read_bytes(path_or_file) -> bytes:
    if hasattr(path_or_file, "read"):
        path_or_file.seek(0)
        data = path_or_file.read()
        return data.encode() if isinstance(data, str) else data
    with open(path_or_file, "rb") as handle:
        return handle.read()


def _open_csv(path_or_file) -> Table:
    data = _read_bytes(path_or_file)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        headers = [h.strip() for h in next(reader)]
    except StopIteration:
        raise UnreadableFile("The file is empty.") from None
    if not any(headers):
        raise UnreadableFile("The first row must hold the column names.")
    estimated = max(0, text.count("\n") - 1)
    # Cells are stripped by the importer, and only those of mapped columns.
    return Table(headers=headers, rows=reader, estimated_rows=estimated)


def _open_xlsx(path_or_file) -> Table:
    from openpyxl import load_workbook

    if hasattr(path_or_file, "seek"):
        path_or_file.seek(0)
    try:
        book = load_workbook(path_or_file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise UnreadableFile(f"This is not a readable XLSX file ({exc}).") from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        headers = [cell_text(v) for v in next(rows)]
    except StopIteration:
        book.close()
        raise UnreadableFile("The first sheet is empty.") from None
    estimated = max(0, (sheet.max_row or 1) - 1)
    return Table(headers=headers, rows=_xlsx_rows(rows, book), estimated_rows=estimated,
                 close=book.close)


def _xlsx_rows(rows, book) -> Iterator[list[str]]:
    try:
        for row in rows:
            yield [cell_text(v) for v in row]
    finally:
        book.close()
