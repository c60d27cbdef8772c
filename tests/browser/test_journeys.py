"""The main journeys of a sales rep's day, driven through the real UI in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from salesplan.activities.models import Activity
from salesplan.customers.models import Account
from salesplan.pipeline.models import Opportunity, OpportunityChange
from tests.factories import make_account, make_opportunity

from .conftest import log_in

# The live server answers from another thread, so the test's data must be committed.
# All databases: on PostgreSQL an import's progress is written through its own alias.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_log_in_with_email_and_see_my_day(page, org):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Username or email").fill(org.west_rep.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("do not match")).to_be_visible()

    page.get_by_label("Username or email").fill(org.west_rep.email)
    page.get_by_label("Password").fill(org.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))
    expect(page.get_by_text(org.west_rep.first_name).first).to_be_visible()


def test_create_an_account(page, org):
    log_in(page, org.west_rep, org.password)
    page.goto("/accounts/")
    page.get_by_role("link", name="New account").click()
    page.get_by_label(re.compile(r"^Name:?$")).fill("Initech Systems")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", name="Initech Systems")).to_be_visible()
    account = Account.objects.get(name="Initech Systems")
    assert account.owner == org.west_rep
    expect(page).to_have_url(re.compile(rf"/accounts/{account.pk}/"))


def test_log_a_call_on_an_account(page, org):
    account = make_account(org.west_rep, name="Globex Corporation")
    log_in(page, org.west_rep, org.password)
    page.goto(f"/accounts/{account.pk}/")
    log_form = page.locator("form", has=page.get_by_role("button", name="Save activity"))
    log_form.get_by_label("Subject").fill("Discussed the renewal")
    log_form.get_by_role("button", name="Save activity").click()

    expect(page.get_by_text("Discussed the renewal").first).to_be_visible()
    activity = Activity.objects.get(subject="Discussed the renewal")
    assert (activity.account, activity.owner, activity.kind) == (account, org.west_rep, "call")


def test_move_a_deal_on_the_pipeline_board(page, org):
    deal = make_opportunity(org.west_rep, name="Umbrella upgrade")
    target = deal.pipeline.stages.get(position=1)
    log_in(page, org.west_rep, org.password)
    page.goto("/pipeline/")
    card = page.locator(f"[data-opportunity-id='{deal.pk}']")
    column = page.locator(f"[data-stage-id='{target.pk}']")
    expect(card).to_be_visible()
    # Drag only once the board's script has made the columns sortable.
    page.wait_for_function(
        "selector => window.Sortable && window.Sortable.get(document.querySelector(selector))",
        arg=f"[data-stage-id='{target.pk}']")
    card.drag_to(column)

    expect(column.locator(f"[data-opportunity-id='{deal.pk}']")).to_be_visible()
    _wait_for(lambda: OpportunityChange.objects.filter(opportunity=deal, to_stage=target,
                                                       changed_by=org.west_rep).exists())
    assert Opportunity.objects.get(pk=deal.pk).stage_id == target.pk
    page.reload()
    expect(column.locator(f"[data-opportunity-id='{deal.pk}']")).to_be_visible()


def _wait_for(condition, timeout: float = 10.0) -> None:
    """The board saves in the background; poll the database until it has."""
    import time

    from django.db import OperationalError

    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except OperationalError:
            # The in-memory test database is shared with the live server's thread; while
            # it writes, SQLite reports the table as locked instead of waiting.
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the change never reached the database")
        time.sleep(0.1)


def test_import_with_a_bad_row_shows_the_row_and_writes_nothing(page, org, tmp_path):
    csv_file = tmp_path / "accounts.csv"
    csv_file.write_text("Name,Employees,City\n"
                        "Vandelay Industries,120,New York\n"
                        "Kramerica,lots,New York\n"
                        "Pendant Publishing,45,New York\n")
    before = Account.objects.count()
    log_in(page, org.west_rep, org.password)
    page.goto("/imports/")
    page.get_by_label("What are you importing?").select_option("account")
    page.get_by_label("CSV or Excel (.xlsx) file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload and map columns").click()
    page.get_by_role("button", name="Check every row (dry run)").click()

    problems = page.locator("table", has=page.get_by_role("columnheader", name="Problem"))
    expect(problems).to_be_visible()
    rows = problems.locator("tbody tr")
    expect(rows).to_have_count(1)
    # The file's third line (second data row) is the bad one.
    expect(rows.first.locator("td").first).to_have_text("3")
    expect(rows.first).to_contain_text("Employees")
    expect(rows.first).to_contain_text("'lots' is not a whole number")
    expect(page.get_by_role("button", name="Import now")).to_have_count(0)
    assert Account.objects.count() == before
    assert not Account.objects.filter(name__in=["Vandelay Industries", "Pendant Publishing"]
                                      ).exists()
