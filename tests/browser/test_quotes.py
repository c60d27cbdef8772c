"""A quote through the real UI: a rep builds it with a discount over their limit and
submits it, their manager approves it from the inbox, the rep downloads the PDF."""

import re
import subprocess
from decimal import Decimal as D
from importlib import import_module

import pytest
from django.apps import apps
from playwright.sync_api import expect

from salesplan.pricing import services as pricing
from salesplan.proposals.models import Approval, Quote
from tests.factories import make_account, make_opportunity

from .conftest import log_in

# The live server answers from another thread, so the test's data must be committed.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.fixture
def deal(org):
    """A router (list 100, cost 60) in the standard USD book, the default approval matrix
    (which a transactional test's flush removed) and a West rep's open deal."""
    import_module("salesplan.proposals.migrations.0002_default_approval_matrix").create_rules(
        apps, None)
    family = pricing.create_family(by=org.admin, name="Hardware")
    router = pricing.create_product(by=org.admin, sku="RT-100", name="Edge router",
                                    family=family, cost=D("60.00"))
    book = pricing.create_price_book(by=org.admin, name="Standard USD", currency="USD",
                                     is_standard=True)
    pricing.set_entry(book, router, by=org.admin, list_price=D(100))
    account = make_account(org.west_rep, name="Initech Systems", country="US", state="OR")
    return make_opportunity(org.west_rep, account=account, name="Initech routers")


def test_a_discounted_quote_is_approved_and_downloaded(page, org, deal, tmp_path):
    page.set_default_timeout(60_000)  # PDF rendering and a busy CI machine
    log_in(page, org.west_rep, org.password)
    page.goto(f"/opportunities/{deal.pk}/")
    panel = page.locator("#opportunity-quotes")
    panel.get_by_label("Quote title").fill("Initech edge refresh")
    panel.get_by_role("button", name="New quote").click()
    expect(page.get_by_role("heading", name=re.compile("Initech edge refresh"))).to_be_visible()

    # 10 routers at 100 less 15%: over the rep's 10%, so it needs the manager.
    lines = page.locator("#quote-lines")
    lines.get_by_label("Product").select_option(label="RT-100 Edge router")
    lines.get_by_label("Quantity").fill("10")
    lines.get_by_label("Extra discount (%)").fill("15")
    lines.get_by_role("button", name="Add line").click()
    expect(page.locator("#quote-totals")).to_contain_text("850.00")
    expect(page.locator("#approval-needed")).to_contain_text("Discount above 10%")
    expect(page.get_by_role("button", name="Mark as sent")).to_be_visible()
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator("#quote-status")).to_have_text("In approval")
    quote = Quote.objects.get(opportunity=deal)

    page.context.clear_cookies()
    log_in(page, org.west_manager, org.password)
    page.goto("/quotes/approvals/")
    card = page.locator("section.card", has_text=quote.number)
    expect(card).to_contain_text("Discount above 10%")
    expect(card).to_contain_text("RT-100")
    card.get_by_label("Comment").fill("Strategic account, approved.")
    card.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Nothing is waiting for your approval.")).to_be_visible()
    approval = Approval.objects.get(quote_version__quote=quote)
    assert (approval.status, approval.decided_by, approval.comment) == (
        "approved", org.west_manager, "Strategic account, approved.")

    page.context.clear_cookies()
    log_in(page, org.west_rep, org.password)
    page.goto(f"/quotes/{quote.pk}/")
    expect(page.locator("#quote-status")).to_have_text("Approved")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    target = tmp_path / "proposal.pdf"
    download_info.value.save_as(target)
    text = " ".join(subprocess.run(["/usr/bin/pdftotext", "-layout", str(target), "-"],  # noqa: S603
                                   capture_output=True, check=True, text=True).stdout.split())
    assert "Initech edge refresh" in text and "Initech Systems" in text
    assert "Subtotal (excluding tax) USD 850.00" in text and "Total USD 850.00" in text
    assert "250.00" not in text  # the margin (850 − 600) is never printed
