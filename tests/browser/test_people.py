"""In the browser: an admin invites a person, who sets a password from the emailed link
(read from a real SMTP server on loopback) and logs in; an admin deactivates a rep with
the hand-over to a successor, and every record moves."""

import pytest
from playwright.sync_api import expect

from salesplan.activities.models import Activity
from salesplan.customers.models import Account, Contact, Lead
from salesplan.org.models import User
from salesplan.pipeline.models import Opportunity
from salesplan.planning.models import Objective
from salesplan.reports.models import SavedReport
from salesplan.territories.models import TerritoryMember
from tests.browser.conftest import log_in
from tests.org.test_handover import holdings_of
from tests.smtp_server import smtp_server  # noqa: F401 (fixture)

WAIT = 30_000  # ms: a busy machine serves pages slowly
PASSWORD = "a-long-enough-new-passphrase-7"

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, databases="__all__")]


def test_an_invited_person_sets_a_password_and_logs_in(page, org, smtp_server):  # noqa: F811
    page.set_default_timeout(WAIT)
    log_in(page, org.admin, org.password)
    page.goto("/settings/people/")
    page.get_by_role("link", name="Invite a person").click()
    page.get_by_label("Email").fill("ivy.new@example.com")
    page.get_by_label("First name").fill("Ivy")
    page.get_by_label("Last name").fill("Newcomer")
    page.get_by_label("Role").select_option("rep")
    page.get_by_label("Team").select_option(label="West")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text("Invitation sent to ivy.new@example.com")).to_be_visible()
    page.context.clear_cookies()

    link = smtp_server.link_in(smtp_server.wait_for("ivy.new@example.com"))
    page.goto(link)
    expect(page.get_by_role("heading", name="Welcome, Ivy Newcomer")).to_be_visible()
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password_again").fill(PASSWORD)
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_text("Your password is set")).to_be_visible()

    page.get_by_label("Username or email").fill("ivy.new@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    expect(page.get_by_role("heading", name="My day")).to_be_visible()
    ivy = User.objects.get(email="ivy.new@example.com")
    assert ivy.team == org.west and ivy.manager == org.west_manager


def test_a_rep_is_deactivated_and_everything_goes_to_the_successor(page, org):
    rep, heir = org.west_rep, org.west_rep2
    held = holdings_of(rep, org.west_manager)
    page.set_default_timeout(WAIT)
    log_in(page, org.admin, org.password)
    page.goto(f"/settings/people/{rep.pk}/")
    page.get_by_role("link", name="Deactivate with a hand-over").click()
    page.get_by_label("Successor").select_option(str(heir.pk))
    page.get_by_role("button", name="Show the hand-over").click()
    table = page.locator("#handover")
    for label in ("Accounts owned", "Open opportunities", "Open leads", "Open activities",
                  "Territory memberships", "Plan targets", "Scheduled reports"):
        expect(table.get_by_text(label)).to_be_visible()
    page.get_by_role("button", name="Hand over and deactivate").click()
    expect(page.get_by_text("is deactivated")).to_be_visible()

    assert not User.objects.get(pk=rep.pk).is_active
    for model, key, field in (
            (Account, "account", "owner_id"), (Contact, "contact", "owner_id"),
            (Lead, "lead", "owner_id"), (Opportunity, "opportunity", "owner_id"),
            (Activity, "activity", "owner_id"), (TerritoryMember, "membership", "user_id"),
            (Objective, "target", "rep_id"), (SavedReport, "saved", "owner_id")):
        moved_to = model.objects.filter(pk=held[key].pk).values_list(field, flat=True).get()
        assert moved_to == heir.pk, key
