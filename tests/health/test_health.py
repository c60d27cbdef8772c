"""Health scores computed from real records, stored, explained and shown only to those
who may see the account."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from salesplan.core.clock import company_today
from salesplan.core.models import BackgroundJob
from salesplan.health import services
from salesplan.health.models import AccountHealth
from salesplan.pipeline.models import Pipeline

from ..api.conftest import assert_problem
from ..factories import make_account, make_activity, make_opportunity

pytestmark = pytest.mark.django_db


def _closed(owner, account, kind: str, amount: str, days_ago: int):
    pipeline = Pipeline.objects.get(is_default=True)
    position = pipeline.stages.get(kind=kind).position
    return make_opportunity(owner, account, stage_position=position, amount=Decimal(amount),
                            close_date=company_today() - timedelta(days=days_ago))


@pytest.fixture
def accounts(org):
    now = timezone.now()
    rep = org.west_rep
    busy = make_account(rep, name="Busy Ltd")
    for kind, days in (("call", 20), ("email", 60), ("meeting", 100)):
        make_activity(rep, busy, kind=kind, done=True, due_at=now - timedelta(days=days))
    make_activity(rep, busy, kind="note", done=True, due_at=now - timedelta(days=1))
    make_activity(rep, busy, kind="call", done=False, due_at=now - timedelta(days=3))
    make_activity(rep, busy, kind="task", done=False, due_at=now - timedelta(days=2))
    make_activity(rep, busy, kind="task", done=True, due_at=now - timedelta(days=2))
    make_activity(rep, busy, kind="task", done=False, due_at=now + timedelta(days=2))
    make_opportunity(rep, busy)  # open
    _closed(rep, busy, "won", "60000", 100)
    _closed(rep, busy, "won", "100000", 500)
    _closed(rep, busy, "lost", "30000", 50)
    quiet = make_account(rep, name="Quiet Inc")
    east = make_account(org.east_rep, name="Eastern Co")
    return busy, quiet, east


def test_compute_stores_hand_computed_components(org, accounts):
    busy, quiet, east = accounts
    result = services.compute_health()
    assert result["accounts"] == 3 and result["at_risk"] == 2
    row = AccountHealth.objects.get(pk=busy.pk)
    # last contact 20 days ago: 25 × 160/166 = 24.1 → 24; 2 contacts in 90 days → 8;
    # 1 open deal → 10; 60,000 vs 100,000 → 25 × 0.6 = 15; one overdue task → 5
    assert (row.recency_points, row.frequency_points, row.opportunity_points,
            row.trend_points, row.follow_up_points, row.score) == (24, 8, 10, 15, 5, 62)
    assert (row.days_since_contact, row.contacts_90d, row.open_opportunities,
            row.overdue_tasks) == (20, 2, 1, 1)
    assert row.bookings_12m == Decimal("60000.00") and row.bookings_prev_12m == Decimal(
        "100000.00")
    assert row.previous_score is None and row.change == 0
    assert AccountHealth.objects.get(pk=quiet.pk).score == 20


def test_recompute_keeps_the_previous_score_and_flags_a_fall(org, accounts):
    busy, _, _ = accounts
    services.compute_health()
    busy.opportunities.filter(status="open").update(status="lost")  # no open deal: −10
    for _ in range(3):  # three more overdue follow-ups: −5
        make_activity(org.west_rep, busy, kind="task", done=False,
                      due_at=timezone.now() - timedelta(days=1))
    row = services.recompute_account(busy, by=org.west_rep)
    assert (row.previous_score, row.score, row.change) == (62, 47, -15)
    assert AccountHealth.objects.filter(services.at_risk_rule(), pk=busy.pk).exists()


def test_api_shows_reasons_to_those_who_see_the_account(org, accounts, api_as):
    busy, _, east = accounts
    services.compute_health()
    body = api_as(org.west_manager).get(f"/health/accounts/{busy.pk}").data
    assert body["score"] == 62 and body["at_risk"] is False
    assert [c["points"] for c in body["components"]] == [24, 8, 10, 15, 5]
    assert body["components"][1]["reason"] == "2 contacts in the last 90 days."
    assert_problem(api_as(org.east_rep).get(f"/health/accounts/{busy.pk}"), 404)
    assert_problem(api_as(org.east_rep).post(f"/health/accounts/{busy.pk}/recompute"), 404)
    assert api_as(org.executive).get(f"/health/accounts/{east.pk}").data["score"] == 20


def test_at_risk_list_holds_only_visible_accounts(org, accounts, api_as):
    busy, quiet, east = accounts
    services.compute_health()
    names = {r["account_name"] for r in api_as(org.west_rep).get("/health/at-risk").data["items"]}
    assert names == {"Quiet Inc"}
    assert {r["account_name"] for r in api_as(org.east_manager).get(
        "/health/at-risk").data["items"]} == {"Eastern Co"}
    items = api_as(org.executive).get("/health/at-risk", sort="name").data["items"]
    assert [r["account_name"] for r in items] == ["Eastern Co", "Quiet Inc"]


def test_compute_job_for_managers_only(org, accounts, api_as,
                                      django_capture_on_commit_callbacks):
    assert_problem(api_as(org.west_rep).post("/health/compute"), 403)
    assert not AccountHealth.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_as(org.admin).post("/health/compute")
    assert answer.status_code == 202
    job = BackgroundJob.objects.get(pk=answer.data["id"])
    assert job.status == "succeeded" and job.message == "Scored 3 accounts; 2 at risk."
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert AccountHealth.objects.count() == 3


def test_renewals_window(org, api_as):
    today = company_today()
    rep = org.west_rep
    account = make_account(rep, name="Renewing Co")
    year_ago = today.replace(year=today.year - 1) if (today.month, today.day) != (2, 29) \
        else today.replace(year=today.year - 1, day=28)
    due = _closed(rep, account, "won", "5000", 0)
    due.close_date = year_ago + timedelta(days=10)
    due.save()
    later = _closed(rep, account, "won", "7000", 0)
    later.close_date = year_ago + timedelta(days=40)
    later.save()
    renewal = Pipeline.objects.get(kind="renewal")
    make_opportunity(rep, account, pipeline=renewal, name="Renewal 2027",
                     close_date=today + timedelta(days=5))
    body = api_as(rep).get("/health/renewals", days=30).data
    assert body["total"] == 2
    assert [(r["kind"], r["due"]) for r in body["items"]] == [
        ("open_renewal", (today + timedelta(days=5)).isoformat()),
        ("anniversary", (today + timedelta(days=10)).isoformat())]
    assert api_as(org.east_rep).get("/health/renewals", days=30).data["total"] == 0
    assert_problem(api_as(rep).get("/health/renewals", days=0), 422)


def test_pages_panel_and_export(org, accounts, client):
    busy, quiet, east = accounts
    services.compute_health()
    client.force_login(org.west_rep)
    panel = client.get(f"/health/accounts/{busy.pk}/panel/")
    assert panel.status_code == 200
    html = panel.content.decode()
    assert "62 / 100" in html and "1 follow-up past due." in html
    assert client.get(f"/health/accounts/{east.pk}/panel/").status_code == 404
    page = client.get("/health/").content.decode()
    assert "Quiet Inc" in page and "Eastern Co" not in page
    csv = client.get("/health/?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    body = csv.content.decode()
    assert "Quiet Inc" in body and "Eastern Co" not in body
    assert client.get("/health/renewals/?days=30").status_code == 200
    assert client.post(f"/health/accounts/{east.pk}/recompute/").status_code == 404
    assert client.post("/health/compute/").status_code == 302
    assert AccountHealth.objects.get(pk=busy.pk).previous_score is None  # not recomputed


def test_command_computes_and_explains(org, accounts):
    from io import StringIO

    from django.core.management import call_command

    busy, _, east = accounts
    out = StringIO()
    call_command("health", "compute", stdout=out)
    assert "Scored 3 accounts" in out.getvalue() and "2 at risk." in out.getvalue()
    out = StringIO()
    call_command("health", "show", str(busy.pk), "--as", "westrep", stdout=out)
    text = out.getvalue()
    assert "Busy Ltd: 62 / 100" in text and "2 contacts in the last 90 days." in text
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=f"No account with id {east.pk}"):
        call_command("health", "show", str(east.pk), "--as", "westrep")


def test_dashboard_card_counts_visible_accounts_at_risk(org, accounts):
    from django.template.loader import render_to_string

    from salesplan.health import selectors

    services.compute_health()
    card = selectors.dashboard_card(org.west_rep)
    assert card["at_risk"] == 1 and [w["account"] for w in card["worst"]] == ["Quiet Inc"]
    assert selectors.dashboard_card(org.executive)["at_risk"] == 2
    assert selectors.dashboard_card(org.marketer) is None
    html = render_to_string("health/_dashboard_card.html", {"card": card})
    assert "Quiet Inc" in html and "1</strong> account at risk" in html
