"""List pages: search, filters, sorting, keyset paging, htmx rows, constant queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    make_account,
    make_activity,
    make_contact,
    make_lead,
    make_opportunity,
)

from .conftest import HTMX


def test_account_list_searches_filters_and_hides_other_teams(login, org):
    make_account(org.west_rep, name="Acme Robotics", lifecycle="customer")
    make_account(org.west_rep, name="Acme Foods", lifecycle="prospect")
    make_account(org.west_rep, name="Zenith")
    make_account(org.east_rep, name="Acme East")
    client = login(org.west_rep)
    page = client.get("/accounts/", {"q": "acme"}).content.decode()
    assert "Acme Robotics" in page and "Acme Foods" in page
    assert "Zenith" not in page and "Acme East" not in page
    page = client.get("/accounts/", {"q": "acme", "lifecycle": "customer"}).content.decode()
    assert "Acme Robotics" in page and "Acme Foods" not in page
    assert 'href="/accounts/new/"' in page and "New account" in page
    assert "/exports/accounts.csv?q=acme&amp;lifecycle=customer" in page
    assert "/exports/accounts.xlsx?q=acme&amp;lifecycle=customer" in page


def test_bad_filter_value_is_named_not_a_crash(login, org):
    client = login(org.west_rep)
    response = client.get("/accounts/", {"lifecycle": "bogus"})
    assert response.status_code == 200
    assert "Choose one of" in response.content.decode()


def test_htmx_request_gets_only_the_rows(login, org):
    make_account(org.west_rep, name="Acme Robotics")
    client = login(org.west_rep)
    response = client.get("/accounts/", {"q": "acme"}, **HTMX)
    body = response.content.decode()
    assert "Acme Robotics" in body and "<table" in body
    assert "<html" not in body and "list-filters\"" not in body.split("form=")[0]
    assert "site-nav" not in body


def test_keyset_paging_walks_forward_and_back(login, org, settings):
    settings.LIST_PAGE_SIZE = 3
    for i in range(7):
        make_account(org.west_rep, name=f"Firm {i:02d}")
    client = login(org.west_rep)
    first = client.get("/accounts/")
    names = [a.name for a in first.context["rows"]]
    assert names == ["Firm 00", "Firm 01", "Firm 02"]
    cursor = first.context["page"].next_cursor
    second = client.get("/accounts/", {"cursor": cursor})
    assert [a.name for a in second.context["rows"]] == ["Firm 03", "Firm 04", "Firm 05"]
    assert "Next" in second.content.decode() and "Previous" in second.content.decode()
    back = client.get("/accounts/", {"cursor": second.context["page"].previous_cursor})
    assert [a.name for a in back.context["rows"]] == names
    assert second.context["count"] == 7


def test_count_is_capped(login, org, settings):
    settings.LIST_COUNT_LIMIT = 3
    for _ in range(5):
        make_account(org.west_rep)
    page = login(org.west_rep).get("/accounts/").content.decode()
    assert "3+ accounts" in page


def test_sort_links_reverse_the_order(login, org):
    make_account(org.west_rep, name="Alpha")
    make_account(org.west_rep, name="Beta")
    client = login(org.west_rep)
    rows = client.get("/accounts/", {"sort": "-name"}).context["rows"]
    assert [a.name for a in rows] == ["Beta", "Alpha"]
    assert 'href="?sort=name"' in client.get("/accounts/", {"sort": "-name"}).content.decode()


def test_other_lists_render_with_filters(login, org):
    account = make_account(org.west_rep, name="Acme")
    make_contact(org.west_rep, account, last_name="Jones", buying_role="champion")
    make_lead(org.west_rep, last_name="Leadly", status="working")
    make_opportunity(org.west_rep, account, name="Acme renewal")
    make_activity(org.west_rep, account, subject="Intro call", kind="call")
    client = login(org.west_rep)
    assert "Jones" in client.get("/contacts/", {"buying_role": "champion"}).content.decode()
    assert "Jones" not in client.get("/contacts/", {"buying_role": "user"}).content.decode()
    assert "Leadly" in client.get("/leads/", {"status": "working", "q": "lead"}).content.decode()
    assert "Acme renewal" in client.get("/opportunities/", {"status": "open"}).content.decode()
    assert "Acme renewal" not in client.get("/opportunities/", {"status": "won"}).content.decode()
    assert "Intro call" in client.get("/activities/", {"kind": "call"}).content.decode()
    assert "Intro call" not in client.get("/activities/", {"kind": "meeting"}).content.decode()
    page = client.get("/contacts/", {"account": account.pk}).content.decode()
    assert "Jones" in page and "Clear" in page


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/accounts/", "/contacts/", "/leads/", "/opportunities/",
                                 "/activities/"])
def test_list_queries_do_not_grow_with_rows(login, org, url):
    client = login(org.west_manager)

    def add_rows(n):
        for _ in range(n):
            account = make_account(org.west_rep)
            make_contact(org.west_rep, account)
            make_lead(org.west_rep)
            make_opportunity(org.west_rep, account)
            make_activity(org.west_rep, account)

    add_rows(2)
    _queries(client, url)  # warm the session and the per-user caches
    few = _queries(client, url)
    add_rows(8)
    assert _queries(client, url) == few


@pytest.mark.parametrize("overlapping", [False, True])
@pytest.mark.parametrize("sort_field", ["name_key", "-name_key"])
def test_a_list_read_in_parts_pages_like_the_whole(org, sort_field, overlapping):
    from salesplan.core.listing import keyset_page, merged_keyset_page
    from salesplan.customers.models import Account

    for i, name in enumerate(["Delta", "alpha", "Echo", "Bravo", "Charlie", "Bravo", "Foxtrot"]):
        make_account(org.west_rep if i % 3 else org.east_rep, name=name)
    whole = Account.objects.filter(owner__in=[org.west_rep, org.east_rep])
    parts = [whole.filter(owner=org.west_rep), whole.filter(owner=org.east_rep)]
    if overlapping:  # a part may hold rows of another: each row is listed once
        parts[1] = whole.exclude(name="Echo")

    def walk(read) -> list[tuple[list[int], str | None, str | None]]:
        pages, cursor = [], None
        while True:
            page = read(cursor)
            pages.append(([a.pk for a in page.items], page.next_cursor, page.previous_cursor))
            if page.next_cursor is None:
                return pages
            cursor = page.next_cursor

    def merged(cursor):
        return merged_keyset_page(parts, sort_field=sort_field, sort_key="name",
                                  cursor=cursor, limit=2)

    def single(cursor):
        return keyset_page(whole, sort_field=sort_field, sort_key="name", cursor=cursor,
                           limit=2)

    forwards = walk(merged)
    assert forwards == walk(single)
    assert len(forwards) == 4 and sum(len(ids) for ids, _, _ in forwards) == 7
    # Back from the last page, page by page, the same rows as the whole list gives.
    cursor = forwards[-1][2]
    while cursor:
        assert [a.pk for a in merged(cursor).items] == [a.pk for a in single(cursor).items]
        assert merged(cursor).previous_cursor == single(cursor).previous_cursor
        cursor = merged(cursor).previous_cursor
