"""Exports hold exactly the rows the person sees with the list's filters, safely."""

import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from salesplan.core.models import BackgroundJob
from tests.factories import make_account, make_activity, make_opportunity

from .conftest import read_csv_text


@pytest.fixture
def accounts(org):
    return {
        "west_customer": make_account(org.west_rep, name="West Customer", lifecycle="customer"),
        "west_prospect": make_account(org.west_rep, name="West Prospect"),
        "team_customer": make_account(org.west_rep2, name="Team Customer", lifecycle="customer"),
        "east_customer": make_account(org.east_rep, name="East Customer", lifecycle="customer"),
    }


def streamed_text(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def test_csv_export_holds_exactly_the_visible_filtered_rows(client, org, accounts):
    client.force_login(org.west_manager)
    response = client.get("/exports/accounts.csv", {"lifecycle": "customer", "sort": "name"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv_text(streamed_text(response))
    assert rows[0][:3] == ["Id", "Name", "Domain"]
    assert [r[1] for r in rows[1:]] == ["Team Customer", "West Customer"]

    client.force_login(org.west_rep)
    rows = read_csv_text(streamed_text(client.get("/exports/accounts.csv")))
    assert sorted(r[1] for r in rows[1:]) == ["West Customer", "West Prospect"]


def test_xlsx_export_holds_exactly_the_visible_filtered_rows(client, org, accounts):
    client.force_login(org.west_manager)
    response = client.get("/exports/accounts.xlsx", {"lifecycle": "customer"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == ["Team Customer", "West Customer"]


def test_every_list_exports(client, org):
    opp = make_opportunity(org.west_rep, name="Big deal")
    make_activity(org.west_rep, opp.account, subject="Kick-off call")
    client.force_login(org.west_rep)
    for resource, expected in [("opportunities", "Big deal"), ("activities", "Kick-off call"),
                               ("contacts", None), ("leads", None)]:
        rows = read_csv_text(streamed_text(client.get(f"/exports/{resource}.csv")))
        values = [cell for row in rows[1:] for cell in row]
        assert (expected in values) if expected else rows[1:] == []


def test_bad_filter_names_the_field(client, org):
    client.force_login(org.west_rep)
    response = client.get("/exports/accounts.csv", {"lifecycle": "nonsense"})
    assert response.status_code == 400
    assert b"lifecycle" in response.content


def test_formula_injection_is_neutralised_in_csv_and_xlsx(client, org):
    make_account(org.west_rep, name='=HYPERLINK("http://evil.example","click")',
                 industry="+cmd", city="@SUM(A1)", street="-2+3")
    client.force_login(org.west_rep)
    rows = read_csv_text(streamed_text(client.get("/exports/accounts.csv")))
    header, row = rows[0], rows[1]
    cell = dict(zip(header, row, strict=True))
    assert cell["Name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert (cell["Industry"], cell["City"], cell["Street"]) == ("'+cmd", "'@SUM(A1)", "'-2+3")

    response = client.get("/exports/accounts.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.iter_rows(min_row=2, values_only=True))[0]
    assert values[1].startswith("'=HYPERLINK")
    assert sheet.cell(row=2, column=2).data_type == "s"  # text, not a formula


def test_large_xlsx_export_runs_as_a_job_with_a_download(client, org, monkeypatch,
                                                         django_capture_on_commit_callbacks):
    from salesplan.imports import exports

    monkeypatch.setattr(exports, "XLSX_INLINE_LIMIT", 2)
    for i in range(3):
        make_account(org.west_rep, name=f"Row {i}")
    client.force_login(org.west_rep)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/exports/accounts.xlsx")
    job = BackgroundJob.objects.get(kind="export")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert (job.status, job.result["rows"]) == ("succeeded", 3)
    page = client.get(f"/jobs/{job.pk}/")
    assert f"/jobs/{job.pk}/download/".encode() in page.content
    download = client.get(f"/jobs/{job.pk}/download/")
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert sheet.max_row == 4
    # Nobody else can fetch the file.
    client.force_login(org.west_rep2)
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 403


def test_cli_export(org, accounts, tmp_path):
    target = tmp_path / "out.csv"
    out = io.StringIO()
    call_command("export", "accounts", "--as", "westmgr", "--format", "csv", "-o", str(target),
                 "--filter", "lifecycle=customer", stdout=out)
    assert "Exported 2 rows" in out.getvalue()
    rows = read_csv_text(target.read_text(encoding="utf-8"))
    assert sorted(r[1] for r in rows[1:]) == ["Team Customer", "West Customer"]

    xlsx = tmp_path / "out.xlsx"
    call_command("export", "accounts", "--as", "westrep", "--format", "xlsx", "-o", str(xlsx),
                 stdout=io.StringIO())
    assert load_workbook(xlsx).active.max_row == 3
    with pytest.raises(CommandError, match="lifecycle"):
        call_command("export", "accounts", "--as", "westrep", "-o", str(target),
                     "--filter", "lifecycle=nope")


def test_export_refused_to_roles_that_cannot_see_the_records(client, org, accounts):
    client.force_login(org.marketer)
    assert client.get("/exports/accounts.csv").status_code == 403
    assert client.get("/exports/nonsense.csv").status_code == 404
