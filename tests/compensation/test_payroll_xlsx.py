"""The payroll workbook of a closed period: the CSV's rows, money as numbers with two
decimals and the currency in its own column; admins only."""

import csv
import io
from datetime import date
from decimal import Decimal as D

from openpyxl import load_workbook

from salesplan.compensation import services

from .conftest import won


def _closed_january(org, comp):
    won(org.west_rep, "120000", date(2026, 1, 5))
    won(org.west_rep2, "10000", date(2026, 1, 9), currency="EUR")
    services.calculate_period(comp.january)
    return services.close_period(comp.january, by=org.admin,
                                 expected_version=comp.january.version)


def test_the_workbook_holds_the_csv_rows_with_money_as_numbers(org, comp, client):
    period = _closed_january(org, comp)
    client.force_login(org.admin)
    response = client.get(f"/api/v1/comp/periods/{period.pk}/payroll.xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('payroll-2026-01-01.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    text = client.get(f"/api/v1/comp/periods/{period.pk}/payroll.csv").content.decode()
    csv_rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == csv_rows[0] and len(rows) == len(csv_rows) == 3
    by_email = {r[0]: r for r in rows[1:]}
    # 100,000 × 2 % + 20,000 × 5 % = 3,000.00 USD
    west = by_email[org.west_rep.email]
    assert west[3] == "USD" and west[4] == 3000 and west[5] == 3000 and west[11] == 3000
    # 10,000 EUR × 1.085 = 10,850 USD × 2 % = 217.00
    assert by_email[org.west_rep2.email][4] == 217
    for sheet_row, csv_row in zip(rows[1:], csv_rows[1:], strict=True):
        assert sheet_row[:4] == csv_row[:4]
        assert [D(str(v)).quantize(D("0.01")) for v in sheet_row[4:]] == [
            D(v) for v in csv_row[4:]]
    money_cell = sheet.cell(row=2, column=5)
    assert money_cell.data_type == "n" and money_cell.number_format == "#,##0.00"


def test_only_an_admin_exports_and_only_a_closed_period(org, comp, client):
    client.force_login(org.admin)
    assert client.get(f"/api/v1/comp/periods/{comp.january.pk}/payroll.xlsx").status_code == 422
    period = _closed_january(org, comp)
    page = client.get(f"/comp/periods/{period.pk}/payroll.xlsx")
    assert page.status_code == 200 and page.content[:2] == b"PK"
    for user in (org.west_manager, org.west_rep, org.executive):
        client.force_login(user)
        assert client.get(f"/api/v1/comp/periods/{period.pk}/payroll.xlsx").status_code == 403
