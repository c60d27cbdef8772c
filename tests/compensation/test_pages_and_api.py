"""The pay pages and API as each role uses them: a rep accepts their plan, reads and
disputes their own statement only; a manager answers for their team; an admin
calculates (a job), closes and exports."""

from datetime import date
from decimal import Decimal as D

from django.core.management import call_command
from openpyxl import load_workbook

from salesplan.compensation import services
from salesplan.compensation.models import CompDispute, CompPlanAcceptance, CompStatement
from salesplan.core.audit import history_for

from .conftest import won


def _calculated(org, comp):
    won(org.west_rep, "120000", date(2026, 1, 5))
    services.calculate_period(comp.january)
    return CompStatement.objects.get(rep=org.west_rep, period=comp.january)


def test_a_rep_accepts_their_plan_and_reads_their_pay(org, comp, client):
    client.force_login(org.west_rep)
    page = client.get("/comp/").content.decode()
    assert "You are paid 2 % to quota" in page and "I have read and accept" in page
    assert client.post(f"/comp/plans/{comp.plan.pk}/accept/").status_code == 302
    acceptance = CompPlanAcceptance.objects.get(plan=comp.plan, rep=org.west_rep)
    assert len(acceptance.document_digest) == 64
    assert "You accepted this plan" in client.get("/comp/").content.decode()


def test_a_manager_cannot_accept_a_reps_plan(org, comp, client):
    client.force_login(org.west_manager)
    response = client.post(f"/api/v1/comp/plans/{comp.plan.pk}/accept")
    assert response.status_code == 403
    assert not CompPlanAcceptance.objects.exists()


def test_statement_explain_and_dispute_journey(org, comp, client):
    mine = _calculated(org, comp)
    client.force_login(org.west_rep)
    page = client.get(f"/comp/statements/{mine.pk}/").content.decode()
    # 100,000 × 2 % + 20,000 × 5 %
    assert "USD 3000.00" in page
    explained = client.get(f"/comp/statements/{mine.pk}/lines/1/",
                           HTTP_HX_REQUEST="true").content.decode()
    assert "data-explain" in explained and "<html" not in explained
    api = client.get(f"/api/v1/comp/statements/{mine.pk}/lines/1").json()
    assert api["amount"] == "3000.00" and api["trace"][0]["rate"] == "0.025"
    client.post(f"/comp/statements/{mine.pk}/lines/1/dispute/", {"text": "Deal 9 is missing"})
    dispute = CompDispute.objects.get()
    assert (dispute.status, dispute.line_amount) == ("open", D("3000.00"))

    client.force_login(org.west_rep2)
    assert client.get(f"/comp/statements/{mine.pk}/").status_code == 404
    assert client.get("/api/v1/comp/statements").json() == []
    client.force_login(org.east_manager)
    assert client.get(f"/api/v1/comp/statements/{mine.pk}").status_code == 404

    client.force_login(org.west_manager)
    assert "Deal 9 is missing" in client.get("/comp/team/").content.decode()
    client.post(f"/comp/disputes/{dispute.pk}/answer/",
                {"text": "Deal 9 closed in February", "version": dispute.version})
    dispute.refresh_from_db()
    response = client.post(f"/api/v1/comp/disputes/{dispute.pk}/resolve",
                           {"resolution": "Explained", "version": dispute.version},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    trail = [(e.action, e.field, e.new_value) for e in history_for(dispute).order_by("id")]
    assert trail[0][0] == "create"
    assert ("update", "status", "answered") in trail and ("update", "status", "resolved") in trail
    assert client.post(f"/api/v1/comp/disputes/{dispute.pk}/resolve",
                       {"resolution": "Again", "version": dispute.version},
                       content_type="application/json").status_code == 409


def test_the_admin_calculates_as_a_job_closes_and_exports(
    org, comp, client, django_capture_on_commit_callbacks
):
    won(org.west_rep, "10000", date(2026, 1, 5))
    client.force_login(org.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/comp/periods/{comp.january.pk}/calculate")
    assert response.status_code == 202 and response["Location"].startswith("/api/v1/jobs/")
    job = client.get(response["Location"]).json()
    assert job["status"] == "succeeded" and job["result"]["statements"] == 1
    assert client.get(f"/api/v1/comp/periods/{comp.january.pk}/payroll.csv").status_code == 422
    closed = client.post(f"/api/v1/comp/periods/{comp.january.pk}/close",
                         {"version": comp.january.version}, content_type="application/json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    csv = client.get(f"/api/v1/comp/periods/{comp.january.pk}/payroll.csv").content.decode()
    assert "200.00" in csv.splitlines()[1]
    client.force_login(org.west_rep)
    assert client.get(f"/api/v1/comp/periods/{comp.january.pk}/payroll.csv").status_code == 403


def test_the_console_command(org, comp, capsys, django_capture_on_commit_callbacks, tmp_path):
    won(org.west_rep, "10000", date(2026, 1, 5))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("comp", "calculate", "--period", "2026-01-01")
    call_command("comp", "statement", "--period", "2026-01-01", "--rep", org.west_rep.username)
    out = capsys.readouterr().out
    assert "Bookings commission" in out and "200.00" in out
    call_command("comp", "close", "--period", "2026-01-01")
    call_command("comp", "export", "--period", "2026-01-01")
    assert "Employee email" in capsys.readouterr().out
    call_command("comp", "export", "--period", "2026-01-01", "--output", tmp_path / "pay.xlsx")
    sheet = load_workbook(tmp_path / "pay.xlsx").active
    assert sheet["A1"].value == "Employee email" and sheet["E2"].value == 200


def test_plan_and_statement_as_pdf_only_for_who_may_see_them(org, comp, client):
    mine = _calculated(org, comp)
    client.force_login(org.west_rep)
    assert client.get(f"/comp/plans/{comp.plan.pk}/document.pdf").content.startswith(b"%PDF")
    assert client.get(f"/comp/statements/{mine.pk}/statement.pdf").content.startswith(b"%PDF")
    client.force_login(org.west_rep2)
    assert client.get(f"/comp/statements/{mine.pk}/statement.pdf").status_code == 404


def test_my_pay_shows_what_an_open_deal_would_pay(org, comp):
    from salesplan.compensation import selectors
    from tests.factories import make_opportunity

    won(org.west_rep, "90000", date(2026, 1, 5))
    services.calculate_period(comp.january)
    open_deal = make_opportunity(org.west_rep, amount=D("20000"), close_date=date(2026, 1, 30))
    mine = selectors.my_plan(org.west_rep, date(2026, 1, 20))
    # 10,000 to quota at 2 % + 10,000 above at 5 %
    assert mine.pipeline == [(open_deal, D("700.00"))]
    assert mine.current.next_tiers[0]["bookings_needed"] == "10000.00"


def test_only_admins_and_executives_see_what_a_draft_plan_costs(org, comp, client):
    client.force_login(org.west_manager)
    url = f"/api/v1/comp/what-if?plan_id={comp.plan.pk}&period_id={comp.january.pk}"
    assert client.get(url).status_code == 403
    client.force_login(org.executive)
    assert client.get(url).status_code == 200


def test_the_team_page_ranks_only_the_managers_people(org, comp, client):
    won(org.west_rep, "30000", date(2026, 1, 5))
    won(org.west_rep2, "50000", date(2026, 1, 5))
    won(org.east_rep, "90000", date(2026, 1, 5))
    services.calculate_period(comp.january)
    client.force_login(org.west_manager)
    page = client.get(f"/comp/team/?period={comp.january.pk}").content.decode()
    assert page.index("50000.00") < page.index("30000.00") and "90000.00" not in page
    client.force_login(org.west_rep)
    assert client.get("/comp/team/").status_code == 403
