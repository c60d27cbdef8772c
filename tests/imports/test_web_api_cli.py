"""The import journey in the browser, through the API and on the command line."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from salesplan.core.models import BackgroundJob
from salesplan.customers.models import Contact
from salesplan.org.services import create_api_token

GOOD = b"Surname,E-mail,Employer\nDoe,jane@acme.example,\nRoe,rick@acme.example,\n"
BAD = b"Surname,E-mail\nDoe,jane@acme.example\n,nobody@acme.example\nRoe,not-an-email\n"


def upload(client, content: bytes, resource: str = "contact"):
    return client.post("/imports/", {"resource": resource,
                                     "file": SimpleUploadedFile("people.csv", content)})


def test_browser_upload_map_dry_run_then_commit(client, org,
                                                django_capture_on_commit_callbacks):
    client.force_login(org.west_rep)
    response = upload(client, GOOD)
    assert response.status_code == 302
    mapping_page = client.get(response["Location"])
    assert b"Surname" in mapping_page.content
    # The guess is preselected: Surname -> last name, E-mail -> email, Employer -> nothing.
    form = mapping_page.context["form"]
    assert [f.initial for f in form.column_fields()] == [
        "last_name", "email", ""]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(response["Location"], {
            "col_0": "last_name", "col_1": "email", "col_2": "", "on_duplicate": "skip"})
    dry_run = BackgroundJob.objects.get()
    assert response["Location"] == f"/jobs/{dry_run.pk}/"
    assert not Contact.objects.exists()
    page = client.get(f"/jobs/{dry_run.pk}/")
    assert b"Import now" in page.content and b"<progress" in page.content
    assert dry_run.result["created"] == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/dry-runs/{dry_run.pk}/commit/")
    commit = BackgroundJob.objects.exclude(pk=dry_run.pk).get()
    assert response["Location"] == f"/jobs/{commit.pk}/"
    assert (commit.status, commit.result["created"]) == ("succeeded", 2)
    assert sorted(Contact.objects.values_list("last_name", flat=True)) == ["Doe", "Roe"]


def test_bad_rows_are_listed_and_commit_refused(client, org,
                                                django_capture_on_commit_callbacks):
    client.force_login(org.west_rep)
    location = upload(client, BAD)["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(location, {"col_0": "last_name", "col_1": "email", "on_duplicate": "skip"})
    dry_run = BackgroundJob.objects.get()
    page = client.get(f"/jobs/{dry_run.pk}/").content.decode()
    assert "Import now" not in page
    assert "a value is required" in page and "not-an-email" in page
    errors_csv = client.get(f"/jobs/{dry_run.pk}/errors.csv").content.decode()
    assert "3,Surname,a value is required" in errors_csv
    response = client.post(f"/imports/dry-runs/{dry_run.pk}/commit/", follow=True)
    assert b"Run a dry run with these settings first" in response.content
    assert BackgroundJob.objects.count() == 1 and not Contact.objects.exists()


def test_job_status_partial_for_htmx_polling(client, org):
    job = BackgroundJob.objects.create(kind="import", created_by=org.west_rep,
                                       status="running", progress_done=30, progress_total=120,
                                       message="Checked 30 rows")
    client.force_login(org.west_rep)
    response = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html  # only the status part
    assert 'hx-trigger="every 1s"' in html and 'value="25"' in html
    assert "Checked 30 rows" in html
    job.status = "succeeded"
    job.save()
    html = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in html  # finished: polling stops
    client.force_login(org.east_rep)
    assert client.get(f"/jobs/{job.pk}/").status_code == 403


def test_upload_refused_for_executive(client, org):
    client.force_login(org.executive)
    response = upload(client, GOOD, resource="account")
    assert response.status_code == 403


@pytest.fixture
def token_client(client, org):
    _, key = create_api_token(org.west_rep, "tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_api_upload_dry_run_commit_and_status(client, org, token_client,
                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports/contacts", {
            "file": SimpleUploadedFile("p.csv", BAD),
            "mapping": json.dumps({"Surname": "last_name"}), "on_duplicate": "skip"},
            **token_client)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["kind"] == "import" and body["result"]["dry_run"] is True
    assert response["Location"] == f"/api/v1/jobs/{body['id']}"
    body = client.get(response["Location"], **token_client).json()
    assert body["status"] == "succeeded"
    assert body["result"]["errors"] == [
        {"row": 3, "column": "Surname", "message": "a value is required"},
        {"row": 4, "column": "E-mail", "message": "'not-an-email' is not a valid email address"}]
    refused = client.post(f"/api/v1/imports/jobs/{body['id']}/commit", **token_client)
    assert refused.status_code == 422

    with django_capture_on_commit_callbacks(execute=True):
        good = client.post("/api/v1/imports/contacts", {
            "file": SimpleUploadedFile("p.csv", GOOD)}, **token_client).json()
    with django_capture_on_commit_callbacks(execute=True):
        commit = client.post(f"/api/v1/imports/jobs/{good['id']}/commit", **token_client)
    assert commit.status_code == 202
    status = client.get(commit["Location"], **token_client).json()
    assert (status["status"], status["result"]["created"], status["result"]["dry_run"]) == (
        "succeeded", 2, False)
    old = client.get(f"/api/v1/imports/jobs/{commit.json()['id']}", **token_client).json()
    assert old == status, "the deprecated alias answers the same JobOut"
    assert Contact.objects.count() == 2


def test_api_csv_export(client, org, token_client):
    from tests.factories import make_account

    make_account(org.west_rep, name="Mine")
    make_account(org.east_rep, name="Theirs")
    response = client.get("/api/v1/imports/exports/accounts.csv", **token_client)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    assert "Mine" in text and "Theirs" not in text


def test_cli_import_prints_bad_rows_and_exits_non_zero(org, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(BAD)
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import", "contacts", str(path), "--as", "westrep", stderr=err,
                     stdout=io.StringIO())
    assert caught.value.returncode == 1
    assert err.getvalue().splitlines() == [
        "Row 3, column 'Surname': a value is required",
        "Row 4, column 'E-mail': 'not-an-email' is not a valid email address"]
    assert not Contact.objects.exists()


def test_cli_import_with_mapping_and_policy(org, tmp_path):
    from tests.factories import make_contact

    make_contact(org.west_rep, last_name="Doe", email="jane@acme.example", title="Old")
    path = tmp_path / "people.csv"
    path.write_bytes(b"Surname,E-mail,Role here\n"
                     b"Doe,jane@acme.example,CFO\nRoe,r@acme.example,CTO\n")
    out = io.StringIO()
    call_command("import", "contacts", str(path), "--as", "westrep", "--map", "Role here=title",
                 "--on-duplicate", "update", stdout=out)
    assert "created=1 updated=1 skipped=0 errors=0" in out.getvalue()
    assert Contact.objects.get(email="jane@acme.example").title == "CFO"
    out = io.StringIO()
    call_command("import", "contacts", str(path), "--as", "westrep", "--dry-run", stdout=out)
    assert "created=0 updated=0 skipped=2 errors=0" in out.getvalue()


def test_pages_render_and_opportunity_mapping_offers_pipelines(client, org):
    client.force_login(org.west_rep)
    assert b"CSV or Excel" in client.get("/imports/").content
    response = upload(client, b"Deal,Account,Stage\nBig,Acme,Proposal\n", "opportunity")
    page = client.get(response["Location"]).content.decode()
    assert 'name="pipeline"' in page and "New business" in page
    assert client.get("/jobs/").status_code == 200


def test_upload_of_something_else_is_refused(client, org):
    client.force_login(org.west_rep)
    response = client.post("/imports/", {"resource": "contact",
                                         "file": SimpleUploadedFile("old.xls", b"\xd0\xcf")})
    assert response.status_code == 200
    assert b"Upload a CSV file or an Excel workbook" in response.content


def test_good_rows_imported_and_bad_rows_downloaded_when_chosen(
        client, org, django_capture_on_commit_callbacks):
    client.force_login(org.west_rep)
    location = upload(client, BAD)["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(location, {"col_0": "last_name", "col_1": "email", "on_duplicate": "skip",
                               "skip_bad_rows": "on"})
    dry_run = BackgroundJob.objects.get()
    assert dry_run.message == ("Dry run: 1 to create, 0 to update, 0 to skip; 2 rows with "
                               "problems will be left out. Nothing has been written yet.")
    page = client.get(f"/jobs/{dry_run.pk}/").content.decode()
    assert "Import the good rows" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/dry-runs/{dry_run.pk}/commit/")
    commit = BackgroundJob.objects.exclude(pk=dry_run.pk).get()
    assert (commit.status, commit.result["created"], commit.result["bad_rows"]) == (
        "succeeded", 1, 2)
    assert list(Contact.objects.values_list("email", flat=True)) == ["jane@acme.example"]
    bad = b"".join(client.get(f"/jobs/{commit.pk}/download/").streaming_content)
    assert bad.decode("utf-8-sig").splitlines() == [
        "Row,Problems,Surname,E-mail",
        "3,Surname: a value is required,,nobody@acme.example",
        "4,E-mail: 'not-an-email' is not a valid email address,Roe,not-an-email"]


def test_cli_import_can_skip_bad_rows(org, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(BAD)
    out = io.StringIO()
    call_command("import", "contacts", str(path), "--as", org.west_rep.username,
                 "--skip-bad-rows", stdout=out, stderr=io.StringIO())
    assert "2 rows with problems left out" in out.getvalue()
    assert Contact.objects.count() == 1
