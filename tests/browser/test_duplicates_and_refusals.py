"""In the browser: the duplicate prompt when creating an account with a domain already
known (then opening the existing one), and the executive seeing no write controls."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_account, make_contact

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.fixture(autouse=True)
def patient(page):
    # The first page of a session on a busy machine can take a while to load.
    page.set_default_timeout(30_000)
    page.set_default_navigation_timeout(30_000)


def test_creating_an_account_with_a_known_domain_offers_the_existing_one(page, org):
    existing = make_account(org.west_rep, name="Acme Corporation", domain="acme.com")
    log_in(page, org.west_rep, org.password)

    page.goto("/accounts/new/")
    page.locator("#id_name").fill("Acme West")
    page.locator("#id_domain").fill("https://www.acme.com")
    page.get_by_role("button", name="Save").click()

    prompt = page.get_by_role("alert").filter(has_text="Likely duplicate")
    expect(prompt).to_contain_text("same web domain acme.com")
    expect(page.get_by_label("Why is it not a duplicate?")).to_be_visible()
    prompt.get_by_role("link", name="Acme Corporation").click()

    page.wait_for_url(f"**/accounts/{existing.pk}/")
    expect(page.get_by_role("heading", name="Acme Corporation", level=1)).to_be_visible()


def test_the_executive_sees_no_write_controls(page, org):
    account = make_account(org.west_rep, name="Acme Corporation")
    contact = make_contact(org.west_rep, account=account, first_name="Pat", last_name="Doe")
    log_in(page, org.executive, org.password)

    page.goto(f"/accounts/{account.pk}/")
    expect(page.get_by_role("heading", name="Acme Corporation", level=1)).to_be_visible()
    for name in ("New contact", "New opportunity", "Edit", "Delete"):
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Import", exact=True)).to_have_count(0)

    page.goto("/my-day/")
    expect(page.get_by_role("heading", name="My day")).to_be_visible()
    expect(page.get_by_role("link", name="Plan an activity")).to_have_count(0)

    for url, new in (("/accounts/", "New account"), ("/contacts/", "New contact"),
                     ("/activities/", "New activity"), ("/opportunities/", "New opportunity")):
        page.goto(url)
        expect(page.get_by_role("link", name=new)).to_have_count(0)

    page.goto(f"/contacts/{contact.pk}/")
    expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)

    # A write page reached anyway says why, with a way back.
    page.goto(f"/accounts/{account.pk}/edit/")
    expect(page.get_by_text("read-only access")).to_be_visible()
    expect(page.get_by_role("link", name="Go to My day")).to_be_visible()
