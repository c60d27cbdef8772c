"""The work inbox in the real UI: a lead routed to a rep is in their inbox and on their
My day with its first-touch countdown; a quote's approval step is only in the inbox of
the manager who must sign it; the badge counts new items without a reload."""

import re

import pytest
from playwright.sync_api import expect

from salesplan.collab import services as collab
from salesplan.marketing import routing
from salesplan.proposals import services as proposals
from tests.factories import make_lead

from ..marketing.conftest import policy, territory_map  # noqa: F401 - fixtures
from ..proposals.conftest import stored_quote
from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.fixture
def as_user(browser, live_server, journey_data):
    """as_user(user) -> a page logged in as that user, in a browser context of its own."""
    contexts = []

    def open_as(user, password):
        context = browser.new_context(base_url=live_server.url,
                                      viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        log_in(page, user, password)
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_a_routed_lead_is_in_the_reps_inbox_and_on_my_day(org, territory_map, policy,  # noqa: F811
                                                          as_user, settings):
    settings.SALESPLAN_INBOX_POLL_SECONDS = 1
    lead = make_lead(org.marketer, state="CA", country="US", first_name="Rosa",
                     last_name="Diaz", company="Nakatomi")
    routing.route_lead(lead)
    lead.refresh_from_db()
    page = as_user(lead.owner, org.password)
    page.goto("/")
    new_leads = page.locator("section", has=page.get_by_role("heading", name="New leads to touch"))
    expect(new_leads.get_by_role("link", name=re.compile("Rosa Diaz"))).to_be_visible()
    expect(new_leads.get_by_text(re.compile(r"First touch due in 3 h 5\d min"))).to_be_visible()
    badge = page.locator("#inbox-badge")
    expect(badge).to_have_text(re.compile(r"Inbox\s+1"))
    # A mention arrives while the page is open: the badge counts it without a reload.
    collab.post_comment(lead, by=org.west_manager, body=f"@{lead.owner.username} hot one")
    expect(badge).to_have_text(re.compile(r"Inbox\s+2"))
    badge.click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(page.locator("#inbox-items").get_by_role("link", name=re.compile("New lead: Rosa Diaz"))
           ).to_be_visible()
    page.get_by_role("link", name=re.compile(r"1 mentions in comments")).click()
    items = page.locator("#inbox-items li")
    expect(items).to_have_count(1)
    items.get_by_role("button", name="Dismiss").click()
    expect(items.first).to_contain_text("Done:")
    # The other rep of the territory has nothing.
    other = org.west_rep2 if lead.owner == org.west_rep else org.west_rep
    other_page = as_user(other, org.password)
    other_page.goto("/inbox/")
    expect(other_page.get_by_text("Nothing waits for you here.")).to_be_visible()


def test_a_quote_step_is_only_in_the_right_approvers_inbox(org, as_user):
    quote = stored_quote(org.west_rep, [("RT-100", "10", "100", "15", "60")],
                         title="Edge refresh")
    proposals.submit_quote(quote, by=org.west_rep)
    for wrong in (org.east_manager, org.vp):
        page = as_user(wrong, org.password)
        page.goto("/inbox/?kind=approval")
        expect(page.get_by_text("Nothing waits for you here.")).to_be_visible()
    page = as_user(org.west_manager, org.password)
    page.goto("/inbox/?kind=approval")
    step = page.locator("#inbox-items").get_by_role("link", name=re.compile("Edge refresh"))
    expect(step).to_be_visible()
    step.click()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator("body")).to_contain_text("Approved")
    page.goto("/inbox/?kind=approval")
    expect(page.get_by_text("Nothing waits for you here.")).to_be_visible()
    rep = as_user(org.west_rep, org.password)
    rep.goto("/inbox/")
    expect(rep.locator("#inbox-items")).to_contain_text("is approved")
