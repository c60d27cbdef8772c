"""A visitor fills in the public capture form; the lead arrives routed to the rep of the
territory that covers it, who finds it on the lead page with its handoff panel."""

import re

import pytest
from playwright.sync_api import expect

from salesplan.customers.models import Lead
from salesplan.marketing import services
from salesplan.marketing.models import LeadHandoff, MarketingPolicy
from salesplan.territories.models import Alignment
from tests.marketing.conftest import intake_settled, territory

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_a_form_submission_arrives_as_a_routed_lead(page, browser, live_server, org):
    alignment = Alignment.objects.create(name="FY", status=Alignment.Status.ACTIVE)
    territory(alignment, "East", "NY", org.east_rep)
    territory(alignment, "West", "CA", org.west_rep)
    MarketingPolicy.current()
    campaign = services.create_campaign(by=org.marketer, data={"name": "Launch webinar"})
    form = services.create_form(by=org.marketer, data={
        "name": "Launch webinar sign-up", "campaign": campaign,
        "fields": ["company", "state"], "required_fields": ["state"]})

    # The visitor: no login, a plain form.
    visitor = browser.new_context(base_url=live_server.url)
    public = visitor.new_page()
    public.goto(f"/marketing/f/{form.key}/")
    public.get_by_label("First name").fill("Grace")
    public.get_by_label("Last name").fill("Hopper")
    public.get_by_label("Email").fill("not-an-email")
    public.get_by_label("Company").fill("Navy Labs")
    public.get_by_label("State / region").fill("NY")
    public.get_by_role("button", name="Send").click()
    expect(public.get_by_text("Enter a valid email address.")).to_be_visible()
    assert not Lead.objects.exists()
    public.get_by_label("Email").fill("grace@navylabs.example")
    public.get_by_role("button", name="Send").click()
    expect(public.get_by_text(form.thank_you)).to_be_visible()
    visitor.close()

    # Stored at once, it becomes a lead moments later (the server's intake thread).
    assert intake_settled()
    lead = Lead.objects.get(email="grace@navylabs.example")
    assert lead.owner == org.east_rep
    assert LeadHandoff.objects.get(lead=lead).territory.name == "East"

    # The rep of the East territory finds it and accepts it from the lead page.
    log_in(page, org.east_rep, org.password)
    page.goto("/leads/")
    page.get_by_role("link", name=re.compile("Hopper")).first.click()
    panel = page.locator("#marketing-handoff")
    expect(panel.get_by_text("Marketing-qualified", exact=True)).to_be_visible()
    expect(panel.get_by_text("East", exact=True)).to_be_visible()
    panel.get_by_role("button", name="Accept").click()
    expect(panel.get_by_text("Sales-accepted", exact=True)).to_be_visible()
    assert LeadHandoff.objects.get(lead=lead).stage == "sal"

    # Another team's rep does not see it.
    page.context.clear_cookies()
    log_in(page, org.west_rep, org.password)
    response = page.goto(f"/leads/{lead.pk}/")
    assert response is not None and response.status == 404
