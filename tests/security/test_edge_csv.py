"""No exported cell can run as a formula in a spreadsheet program, whatever text a
user stored: not `=1+2`, nor `;=1+2`, ` =1+2`, `|@SUM(A1)`, nor text starting with a tab."""

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesplan.core.spreadsheet import FORMULA_TRIGGERS, SKIPPED_BEFORE_FORMULA
from salesplan.imports.exports import safe_cell
from salesplan.reports.exporting import Column, build_export

# Text weighted towards what could start a formula, plus anything else.
risky_text = st.lists(
    st.sampled_from(list("=+-@;,| \t\r\n\u00a0\u3000'\"\uff1d") + ["cmd", "1+2", "A1"])
    | st.text(max_size=3), max_size=8).map("".join)


def starts_with_trigger(cell: str) -> bool:
    """What the review asked for: after blanks and separators, a formula trigger."""
    if cell[:1] in ("\t", "\r"):
        return True
    rest = cell.lstrip()
    while rest and rest[0] in SKIPPED_BEFORE_FORMULA:
        rest = rest[1:].lstrip()
    return bool(rest) and rest[0] in FORMULA_TRIGGERS


@pytest.mark.parametrize("text", ["=1+2", ";=1+2", " =1+2", ",+1", "|@SUM(A1)", "\t=1",
                                  "\r-1", "; ;-2", "\u00a0=1", "\uff1d1+2", "-", "@"])
def test_known_formula_starts_are_neutralised(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Acme", "a=b", "1-2", "", "'quoted", "x;=1"])
def test_ordinary_text_is_left_alone(text):
    assert safe_cell(text) == text


@pytest.mark.django_db  # the export's heading reads the company's clock
@given(st.lists(risky_text, min_size=1, max_size=4))
def test_no_exported_report_cell_starts_a_formula(texts):
    columns = [Column(key=f"c{i}", label=f"C{i}", kind="text") for i in range(len(texts))]
    export = build_export(title="T", columns=columns, rows=[texts], fmt="csv", filename="t")
    header, row = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"),
                                              newline="")))
    assert len(row) == len(texts)
    assert not any(starts_with_trigger(cell) for cell in row), row


@given(risky_text)
def test_no_exported_record_cell_starts_a_formula(text):
    cell = safe_cell(text)
    assert not starts_with_trigger(str(cell)), cell
    assert str(cell).endswith(text)  # only a mark in front; the text itself is kept
