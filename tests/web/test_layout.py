"""The page frame: the user menu, and the content security policy on every page."""

import re

import pytest

from tests.factories import make_account, make_activity, make_contact, make_lead, make_opportunity

# Inline style or event-handler attributes, and scripts without a src: the CSP blocks them.
INLINE = re.compile(r"<[^>]*\s(style|on[a-z]+|hx-on[\w:-]*)\s*="
                    r"|<script(?![^>]*\ssrc=)[^>]*>|<style", re.I)


def test_user_menu_links_to_my_background_jobs(login, org):
    client = login(org.west_rep)
    page = client.get("/").content.decode()
    assert '<a href="/jobs/">Jobs</a>' in page
    jobs = client.get("/jobs/").content.decode()
    assert '<a href="/jobs/" aria-current="page">Jobs</a>' in jobs


@pytest.fixture
def pages(org):
    account = make_account(org.west_rep)
    deal = make_opportunity(org.west_rep, account)
    records = {"accounts": account, "contacts": make_contact(org.west_rep, account),
               "leads": make_lead(org.west_rep), "opportunities": deal,
               "activities": make_activity(org.west_rep, account)}
    urls = ["/", "/pipeline/", "/search/?q=acc", "/settings/", "/profile/", "/jobs/",
            "/imports/"]
    for plural, record in records.items():
        urls += [f"/{plural}/", f"/{plural}/new/", f"/{plural}/{record.pk}/",
                 f"/{plural}/{record.pk}/edit/", f"/{plural}/{record.pk}/delete/"]
    return urls + [f"/leads/{records['leads'].pk}/convert/"]


def test_no_page_needs_inline_script_or_style(client, org, pages):
    client.force_login(org.admin)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "script-src 'self'" in response["Content-Security-Policy"], url
        match = INLINE.search(response.content.decode())
        assert match is None, f"{url}: {match and match.group(0)}"
