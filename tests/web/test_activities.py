"""My day, one-click done, and logging activities on a record's page."""

import re
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


def test_my_day_shows_the_first_rows_counts_all_and_links_to_the_whole_list(login, org):
    """A rep with more overdue tasks or bare deals than the page lists sees how many there
    are and a link to a list holding exactly those, oldest first."""
    from html import unescape

    from salesplan.activities.selectors import MY_DAY_SHOWN

    account = make_account(org.west_rep)
    late = timezone.now() - timedelta(days=3)
    for i in range(MY_DAY_SHOWN + 2):
        make_activity(org.west_rep, account, subject=f"Late {i:02d}", kind="task",
                      due_at=late + timedelta(minutes=i))
    make_activity(org.west_rep, account, subject="Late but done", due_at=late, done=True)
    make_activity(org.west_rep2, account, subject="Late, not mine", due_at=late)
    make_activity(org.west_rep, account, subject="Call today")
    for i in range(MY_DAY_SHOWN + 1):
        make_opportunity(org.west_rep, account, name=f"Bare {i:02d}")
    make_opportunity(org.west_rep, account, name="Planned", next_step="Demo on Friday")
    client = login(org.west_rep)
    response = client.get("/")
    page = unescape(response.content.decode())
    assert response.context["counts"] == {"today": 1, "overdue": MY_DAY_SHOWN + 2,
                                          "no_next_step": MY_DAY_SHOWN + 1}
    assert "Late 00" in page and f"Late {MY_DAY_SHOWN - 1:02d}" in page
    assert f"Late {MY_DAY_SHOWN:02d}" not in page  # the 26th oldest waits for the list
    overdue = re.search(r'href="(/activities/\?[^"]+)">All 27 overdue', page).group(1)
    deals = re.search(r'href="(/opportunities/\?[^"]+)">All 26 open deals', page).group(1)
    assert "All 1 due today" not in page  # everything due today is on the page already
    listed = client.get(overdue).context
    assert listed["count"] == MY_DAY_SHOWN + 2
    assert [a.subject for a in listed["rows"]][:2] == ["Late 00", "Late 01"]
    listed = client.get(deals).context
    assert listed["count"] == MY_DAY_SHOWN + 1
    assert {o.name for o in listed["rows"]} == {f"Bare {i:02d}" for i in range(MY_DAY_SHOWN + 1)}


def test_my_day_names_each_activitys_record_in_the_same_queries_whatever_the_rows(
        login, org):
    """My day reads only what it shows; what it shows of each row is read with the row,
    never one row at a time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import make_contact, make_lead

    client = login(org.west_rep)
    late = timezone.now() - timedelta(days=2)

    def add_rows(n: int) -> None:
        for i in range(n):
            account = make_account(org.west_rep, name=f"Account {n}-{i}")
            deal = make_opportunity(org.west_rep, account, name=f"Deal {n}-{i}")
            contact = make_contact(org.west_rep, account, first_name="Ann", last_name=f"C{n}{i}")
            lead = make_lead(org.west_rep, first_name="Lee", last_name=f"L{n}{i}",
                             company=f"Leadco {n}{i}")
            make_activity(org.west_rep, account, opportunity=deal, subject=f"On deal {n}{i}")
            make_activity(org.west_rep, account, subject=f"On account {n}{i}", due_at=late)
            make_activity(org.west_rep, contact=contact, subject=f"With contact {n}{i}")
            make_activity(org.west_rep, lead=lead, subject=f"On lead {n}{i}", due_at=late)

    def count() -> tuple[int, str]:
        client.get("/")  # settings the first page of a process reads once
        with CaptureQueriesContext(connection) as queries:
            body = client.get("/").content.decode()
        return len(queries), body

    add_rows(1)
    one, _ = count()
    add_rows(4)
    many, body = count()
    assert many == one
    for shown in (">On deal 40</a>", " · Deal 4-0</span>", " · Account 4-1</span>",
                  " · Ann C42</span>", " · Lee L43 (Leadco 43)</span>", ">Deal 4-3</a>",
                  ">Account 4-3</a>"):
        assert shown in body


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


def test_a_deals_page_and_its_log_panel_read_the_same_whatever_its_stage_moves(login, org):
    """A deal moved many times is drawn with its stage changes (each named with its
    pipeline) in as many queries as one moved once: the load test's reps move deals all
    day, and two queries per move made a busy deal's page and log panel ever slower."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from salesplan.pipeline.services import move_opportunity

    deal = make_opportunity(org.west_rep)
    stages = list(deal.pipeline.stages.filter(kind="open").order_by("position"))
    client = login(org.west_rep)

    def move_and_count(times: int) -> tuple[int, int, str]:
        for i in range(times):
            deal.refresh_from_db()
            move_opportunity(deal, stages[(i + 1) % len(stages)], by=org.west_rep)
        with CaptureQueriesContext(connection) as page:
            body = client.get(f"/opportunities/{deal.pk}/").content.decode()
        with CaptureQueriesContext(connection) as panel:
            logged = client.post(f"/log/opportunity/{deal.pk}/", {
                "kind": "call", "subject": f"Call {times}", "done": "on"}, **HX)
        assert logged.status_code == 200 and f"Call {times}" in logged.content.decode()
        return len(page), len(panel), body

    move_and_count(1)  # the first page of a process reads settings it then keeps
    once = move_and_count(1)
    many = move_and_count(6)
    assert many[:2] == once[:2]
    assert f"{deal.pipeline.name}: {stages[1].name}" in many[2]


def test_the_log_panel_shows_the_form_and_the_timeline_only(login, org):
    account = make_account(org.west_rep, name="Acme")
    make_activity(org.west_rep, account, subject="Earlier call")
    body = login(org.west_rep).post(f"/log/account/{account.pk}/", {
        "kind": "call", "subject": "Spoke to Ann", "done": "on"}, **HX).content.decode()
    assert 'id="activity-panel"' in body and "Saved “Spoke to Ann”" in body
    assert "Earlier call" in body and "Save activity" in body
    assert "Change history" not in body and "<html" not in body
