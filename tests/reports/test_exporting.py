"""Exports of a table: exact figures in CSV and XLSX, a printable PDF with its context."""

import csv
import io
import shutil
import subprocess
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from salesplan.reports.exporting import Column, build_export, export_table

# The exporter reads the company's time zone to stamp when a file was made.
pytestmark = pytest.mark.django_db

COLUMNS = [Column("name", "Rep"), Column("deals", "Deals", "int"),
           Column("amount", "Bookings", "money"), Column("rate", "Win rate", "percent"),
           Column("day", "First close", "date")]
ROWS = [
    ("Ada Lovelace", 3, Decimal("1234567.89"), Decimal("33.3"), date(2026, 3, 31)),
    ("=HYPERLINK(\"x\")", 0, Decimal("0.10"), None, None),
    ("Zoë Ünicode", 12, Decimal("99999999999.99"), Decimal("100.0"), date(2026, 1, 2)),
]


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_csv_keeps_decimals_exact_and_neutralises_formulas():
    response = export_table(title="Bookings", columns=COLUMNS, rows=ROWS, fmt="csv",
                            filename="bookings q1")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="bookings-q1.csv"'
    rows = _csv_rows(response.content)
    assert rows[0] == ["Rep", "Deals", "Bookings", "Win rate", "First close"]
    assert rows[1] == ["Ada Lovelace", "3", "1234567.89", "33.3", "2026-03-31"]
    assert rows[2] == ["'=HYPERLINK(\"x\")", "0", "0.10", "", ""]
    assert rows[3][0] == "Zoë Ünicode"
    assert rows[3][2] == "99999999999.99"


def test_xlsx_has_title_filters_and_exact_numbers():
    response = export_table(title="Bookings", columns=COLUMNS, rows=ROWS, fmt="xlsx",
                            filters={"Period": "FY2026 Q1", "Team": "West"},
                            filename="bookings")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Bookings"
    assert values[1][:2] == ("Period", "FY2026 Q1")
    assert values[2][:2] == ("Team", "West")
    assert values[3][0] == "Generated"
    header_at = values.index(("Rep", "Deals", "Bookings", "Win rate", "First close"))
    first = values[header_at + 1]
    assert first[0] == "Ada Lovelace" and first[1] == 3
    # The stored number is the exact decimal text, whatever the reader converts it to.
    assert Decimal(str(first[2])) == Decimal("1234567.89")
    assert first[4].date() == date(2026, 3, 31)
    assert values[header_at + 2][0] == "'=HYPERLINK(\"x\")"
    assert Decimal(str(values[header_at + 3][2])) == Decimal("99999999999.99")
    raw = zipfile.ZipFile(io.BytesIO(response.content)).read("xl/worksheets/sheet1.xml")
    assert b"<v>99999999999.99</v>" in raw and b"<v>1234567.89</v>" in raw
    # Money carries a two-decimal number format.
    money_cell = sheet.cell(row=header_at + 2, column=3)
    assert money_cell.number_format == "#,##0.00"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext not installed")
def test_pdf_prints_title_filters_time_and_rows(tmp_path):
    export = build_export(title="Bookings by rep", columns=COLUMNS, rows=ROWS, fmt="pdf",
                          filters={"Period": "FY2026 Q1"}, filename="bookings")
    assert export.filename == "bookings.pdf"
    assert export.content.startswith(b"%PDF")
    path = tmp_path / "out.pdf"
    path.write_bytes(export.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,  # noqa: S603, S607
                          text=True, check=True).stdout
    assert "Bookings by rep" in text
    assert "Period: FY2026 Q1" in text
    assert "Generated" in text
    assert "1,234,567.89" in text
    assert "33.3 %" in text
    assert "Zoë Ünicode" in text


def test_unknown_format_is_refused_naming_it():
    with pytest.raises(ValueError, match="format"):
        build_export(title="x", columns=COLUMNS, rows=[], fmt="doc",  # type: ignore[arg-type]
                     filename="x")


def test_row_of_wrong_width_is_refused():
    with pytest.raises(ValueError):
        build_export(title="x", columns=COLUMNS, rows=[("only one",)], fmt="csv",
                     filename="x")
