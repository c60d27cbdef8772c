"""My day, one-click done, and logging activities on a record's page."""

from datetime import timedelta

from django.utils import timezone

from salesplan.activities.models import Activity
from tests.factories import make_account, make_activity, make_opportunity

HX = {"HTTP_HX_REQUEST": "true"}


def test_my_day_lists_today_overdue_and_deals_without_next_step(login, org):
    account = make_account(org.west_rep)
    make_activity(org.west_rep, account, subject="Call today")
    make_activity(org.west_rep, account, subject="Late task", kind="task",
                  due_at=timezone.now() - timedelta(days=3))
    make_activity(org.west_rep2, account, subject="Not mine")
    make_opportunity(org.west_rep, account, name="Stalled deal")
    response = login(org.west_rep).get("/")
    page = response.content.decode()
    assert "Call today" in page and "Late task" in page and "Stalled deal" in page
    assert "Not mine" not in page
    assert response.context["counts"] == {"today": 1, "overdue": 1, "no_next_step": 1}


def test_done_button_marks_done_and_returns_the_row(login, org):
    activity = make_activity(org.west_rep, make_account(org.west_rep), subject="Call Ann")
    response = login(org.west_rep).post(f"/activities/{activity.pk}/done/", **HX)
    assert response.status_code == 200 and "is done" in response.content.decode()
    assert "<html" not in response.content.decode()
    activity.refresh_from_db()
    assert activity.done and activity.done_at


def test_cannot_mark_another_teams_activity_done(login, org):
    activity = make_activity(org.east_rep, make_account(org.east_rep))
    assert login(org.west_rep).post(f"/activities/{activity.pk}/done/").status_code == 404
    activity.refresh_from_db()
    assert not activity.done


def test_log_a_call_on_an_account_page(login, org):
    account = make_account(org.west_rep, name="Acme")
    client = login(org.west_rep)
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "Log a call" in page and "Save activity" in page and ">Subject" in page
    response = client.post(f"/log/account/{account.pk}/", {
        "kind": "call", "subject": "Spoke to Ann", "done": "on"}, **HX)
    body = response.content.decode()
    assert response.status_code == 200 and "Spoke to Ann" in body and "<html" not in body
    activity = Activity.objects.get(subject="Spoke to Ann")
    assert activity.account == account and activity.owner == org.west_rep and activity.done


def test_log_form_errors_stay_next_to_the_field(login, org):
    account = make_account(org.west_rep)
    response = login(org.west_rep).post(f"/log/account/{account.pk}/", {"kind": "call"}, **HX)
    assert 'id="log_subject_account_error"' in response.content.decode()
    assert not Activity.objects.exists()


def test_log_on_a_deal_also_links_its_account(login, org):
    deal = make_opportunity(org.west_rep)
    response = login(org.west_rep).post(f"/log/opportunity/{deal.pk}/", {
        "kind": "meeting", "subject": "Demo", "duration_minutes": "45"})
    assert response.status_code == 302
    activity = Activity.objects.get(subject="Demo")
    assert activity.opportunity == deal and activity.account_id == deal.account_id


def test_executive_cannot_log(login, org):
    account = make_account(org.west_rep)
    response = login(org.executive).post(f"/log/account/{account.pk}/",
                                         {"kind": "call", "subject": "x"})
    assert response.status_code == 403
    assert not Activity.objects.exists()
