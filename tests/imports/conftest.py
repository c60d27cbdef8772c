"""Helpers for import/export tests: files written to a temp folder, jobs run inline."""

import csv
import io

import pytest


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def write_csv(tmp_path):
    """write_csv(rows, name) -> path of a CSV whose first row is the header."""

    def write(rows: list[list[object]], name: str = "file.csv") -> str:
        path = tmp_path / name
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
        return str(path)

    return write


@pytest.fixture
def write_xlsx(tmp_path):
    def write(rows: list[list[object]], name: str = "file.xlsx") -> str:
        from openpyxl import Workbook

        book = Workbook()
        for row in rows:
            book.active.append(row)
        path = tmp_path / name
        book.save(path)
        return str(path)

    return write


def read_csv_text(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
