"""Lists: the app's filters, search and sorts; cursor pages without gaps or repeats;
a number of queries that does not grow with the number of rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesplan.core.clock import company_today
from tests.factories import (
    make_account,
    make_activity,
    make_contact,
    make_lead,
    make_opportunity,
)


def _walk(api, path, **params):
    """Every page forwards, then back again from the last page with previous_cursor."""
    pages, cursor = [], None
    while True:
        response = api.get(path, **params, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.data
        pages.append([row["id"] for row in response.data["items"]])
        cursor = response.data["next_cursor"]
        if not cursor:
            break
    backwards, cursor = [], response.data["previous_cursor"]
    while cursor:
        response = api.get(path, **params, cursor=cursor)
        backwards.append([row["id"] for row in response.data["items"]])
        cursor = response.data["previous_cursor"]
    return pages, backwards


@pytest.mark.parametrize("sort", ["name", "-name", "created", "-created"])
def test_walking_all_pages_sees_every_row_once_in_order(org, api_as, sort):
    # Duplicate names make the sort value tie; the id breaks the tie.
    for i in range(11):
        make_account(org.west_rep, name=f"Acme {i % 4}")
    make_account(org.east_rep, name="Acme hidden")
    api = api_as(org.west_rep)
    pages, backwards = _walk(api, "/accounts", sort=sort, limit=3)
    seen = [pk for page in pages for pk in page]
    everything = api.get("/accounts", sort=sort, limit=500).data["items"]
    assert seen == [row["id"] for row in everything] and len(seen) == 11
    assert [len(p) for p in pages] == [3, 3, 3, 2]
    assert backwards == pages[-2::-1]


def test_opportunities_page_by_amount_and_close_date(org, api_as):
    account = make_account(org.west_rep)
    today = company_today()
    for i in range(7):
        make_opportunity(org.west_rep, account, amount=Decimal(1000 * (i % 3)),
                         close_date=today + timedelta(days=i % 2))
    api = api_as(org.west_rep)
    for sort in ("amount", "-amount", "close_date", "-close_date"):
        pages, _ = _walk(api, "/opportunities", sort=sort, limit=2)
        seen = [pk for page in pages for pk in page]
        assert sorted(seen) == sorted(set(seen)) and len(seen) == 7
        rows = api.get("/opportunities", sort=sort).data["items"]
        key = sort.lstrip("-")
        values = [Decimal(r[key]) if key == "amount" else r[key] for r in rows]
        assert values == sorted(values, reverse=sort.startswith("-"))


def test_account_filters_and_search(org, api_as):
    make_account(org.west_rep, name="Northwind", lifecycle="customer", industry="Retail")
    make_account(org.west_rep, name="Northbound", lifecycle="prospect")
    make_account(org.west_rep2, name="Southwind", lifecycle="customer")
    api = api_as(org.west_manager)

    def names(**params):
        return sorted(r["name"] for r in api.get("/accounts", **params).data["items"])

    assert names(lifecycle="customer") == ["Northwind", "Southwind"]
    assert names(q="north") == ["Northbound", "Northwind"]
    assert names(q="north", lifecycle="customer") == ["Northwind"]
    assert names(owner=str(org.west_rep2.pk)) == ["Southwind"]
    assert names(owner=f"{org.west_rep.pk},{org.west_rep2.pk}") == [
        "Northbound", "Northwind", "Southwind"]
    assert names(industry="Retail") == ["Northwind"]


def test_other_list_filters(org, api_as):
    account = make_account(org.west_rep)
    other = make_account(org.west_rep)
    make_contact(org.west_rep, account, last_name="Inside")
    make_contact(org.west_rep, other, last_name="Outside")
    make_lead(org.west_rep, last_name="Fresh")
    make_lead(org.west_rep, last_name="Busy", status="working")
    make_opportunity(org.west_rep, account, name="Small", amount=Decimal("500"))
    make_opportunity(org.west_rep, account, name="Large", amount=Decimal("90000"))
    make_activity(org.west_rep, account, subject="Open call")
    make_activity(org.west_rep, account, subject="Done call", done=True, kind="email")
    api = api_as(org.west_rep)

    def values(path, key, **params):
        response = api.get(path, **params)
        assert response.status_code == 200, response.data
        return sorted(r[key] for r in response.data["items"])

    assert values("/contacts", "last_name", account=str(account.pk)) == ["Inside"]
    assert values("/leads", "last_name", status="working") == ["Busy"]
    assert values("/leads", "last_name", status="new,working") == ["Busy", "Fresh"]
    assert values("/opportunities", "name", min_amount="1000") == ["Large"]
    assert values("/opportunities", "name", status="open") == ["Large", "Small"]
    assert values("/activities", "subject", done="true") == ["Done call"]
    assert values("/activities", "subject", kind="call") == ["Open call"]


def _rows(owner, n):
    """n rows of every record type, each linked so serialising could touch relations."""
    for _ in range(n):
        account = make_account(owner)
        contact = make_contact(owner, account)
        lead = make_lead(owner)
        opp = make_opportunity(owner, account, contact=contact)
        make_activity(owner, account, contact=contact, opportunity=opp, lead=lead)


@pytest.mark.parametrize("path", ["/accounts", "/contacts", "/leads", "/opportunities",
                                  "/activities", "/pipelines"])
def test_list_queries_do_not_grow_with_rows(org, api_as, path):
    api = api_as(org.west_manager)
    # First use records the token and warms the visibility cache: measure the steady state.
    api.get(path)

    def count(n):
        _rows(org.west_rep, n)
        with CaptureQueriesContext(connection) as queries:
            response = api.get(path, limit=500)
        assert response.status_code == 200
        data = response.data
        return len(queries), len(data["items"] if isinstance(data, dict) else data)

    few, rows_few = count(5)
    many, rows_many = count(45)
    assert path == "/pipelines" or (rows_few, rows_many) == (5, 50)
    assert many == few, f"{path}: {few} queries for 5 rows, {many} for 50"


def test_deals_without_a_next_step_filter_by_a_blank_next_step(org, api_as):
    """`no_next_step=true` lists the deals with no next step written (as My day counts
    them); `false` the others; a value that is neither is refused by name."""
    account = make_account(org.west_rep)
    bare = make_opportunity(org.west_rep, account, name="Bare")
    planned = make_opportunity(org.west_rep, account, name="Planned", next_step="Demo")
    api = api_as(org.west_rep)
    ids = {value: {row["id"] for row in api.get("/opportunities", no_next_step=value).data[
        "items"]} for value in ("true", "false")}
    assert ids == {"true": {bare.pk}, "false": {planned.pk}}
    refused = api.get("/opportunities", no_next_step="maybe")
    assert refused.status_code in (400, 422) and "no_next_step" in str(refused.data)


@pytest.mark.parametrize("sort", ["due", "-due"])
def test_a_reps_pages_over_own_and_territory_records_see_every_row_once(org, api_as, sort):
    """A rep sees their own activities and those on their territory's accounts. On
    PostgreSQL their pages are sorted from the owner and account indexes rather than
    walked along the company-wide sort index (which read 114,000 activities for a page
    of 50): the same rows, in the same order, page after page, both ways."""
    from django.utils import timezone

    from tests.factories import give_territory_account

    theirs = make_account(org.east_rep)
    give_territory_account(org.west_rep, theirs)
    start = timezone.now()
    for i in range(7):  # due times tie in pairs: the id breaks the tie
        make_activity(org.west_rep, make_account(org.west_rep), due_at=start + timedelta(
            hours=i // 2))
        make_activity(org.east_rep, theirs, due_at=start + timedelta(hours=i // 2))
    make_activity(org.east_rep, make_account(org.east_rep))  # not seen
    api = api_as(org.west_rep)
    with CaptureQueriesContext(connection) as queries:
        pages, backwards = _walk(api, "/activities", sort=sort, limit=3)
    # Read before the next request, which empties the connection's query log.
    page_queries = [q["sql"] for q in queries
                    if q["sql"].startswith("SELECT \"activities_activity\".\"id\"")]
    seen = [pk for page in pages for pk in page]
    everything = api.get("/activities", sort=sort, limit=500).data["items"]
    assert seen == [row["id"] for row in everything] and len(seen) == 14
    assert [pk for page in reversed(backwards) for pk in page] == seen[:-len(pages[-1])]
    assert len(page_queries) == len(pages) + len(backwards)
    if connection.vendor == "postgresql":
        assert all("ORDER BY COALESCE" in sql for sql in page_queries)
