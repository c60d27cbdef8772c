"""Page numbers, jump to page and facet counts on the CRM lists."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ..factories import make_account
from .conftest import HTMX

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(settings):
    settings.LIST_PAGE_SIZE = 2


def test_pages_are_numbered_and_a_page_can_be_jumped_to(org, client, login, small_pages):
    login(org.west_manager)
    names = [f"Page {i:02}" for i in range(7)]
    for name in names:
        make_account(org.west_rep, name=name)
    first = client.get("/accounts/")
    html = first.content.decode()
    assert first.context["count"] == 7 and first.context["pager"]["pages"] == 4
    assert 'aria-current="page">1<' in html and 'aria-label="Page 4"' in html
    assert 'name="page"' in html and 'max="4"' in html
    third = client.get("/accounts/", {"page": "3"})
    assert [a.name for a in third.context["rows"]] == names[4:6]
    assert 'aria-current="page">3<' in third.content.decode()
    # A page past the end shows the last one; a bad number names the field.
    assert [a.name for a in client.get("/accounts/", {"page": "99"}).context["rows"]] == [
        names[6]]
    assert "page" in client.get("/accounts/", {"page": "x"}).context["errors"]


def test_numbered_pages_keep_the_filter_and_sort_and_count_once(org, client, login,
                                                                 small_pages):
    login(org.west_manager)
    for i in range(5):
        make_account(org.west_rep, name=f"Keep {i}", industry="Pharma")
    make_account(org.west_rep, name="Other", industry="Retail")
    page = client.get("/accounts/", {"industry": "pharma", "sort": "-name", "page": "2"},
                      **HTMX)
    assert [a.name for a in page.context["rows"]] == ["Keep 2", "Keep 1"]
    links = dict(page.context["pager"]["links"])
    assert "industry=pharma" in links[3] and "sort=-name" in links[3]
    with CaptureQueriesContext(connection) as queries:
        client.get("/accounts/", {"industry": "pharma"}, **HTMX)
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()
              and "GROUP BY" not in q["sql"].upper()]
    assert len(counts) == 1


def test_facets_count_visible_rows_and_link_to_the_filter(org, client, login):
    make_account(org.west_rep, industry="Pharma")
    make_account(org.west_rep, industry="Pharma")
    make_account(org.east_rep, industry="Pharma")
    make_account(org.west_rep, industry="Retail")
    login(org.west_rep)
    page = client.get("/accounts/", {"sort": "-name"}).content.decode()
    # The rows come first; the counts follow in their own request.
    assert 'hx-get="?sort=-name&amp;facets_only=1" hx-trigger="load"' in page
    answer = client.get("/accounts/", {"sort": "-name", "facets_only": "1"}, **HTMX)
    html = answer.content.decode()
    facets = {f["name"]: f for f in answer.context["facets"]}
    industry = {v["label"]: (v["count"], v["url"]) for v in facets["industry"]["values"]}
    assert industry["Pharma"][0] == 2 and industry["Retail"][0] == 1
    assert "industry=Pharma" in industry["Pharma"][1]
    assert "facets_only" not in industry["Pharma"][1]
    assert 'data-facet="industry"' in html and "<table" not in html
    chosen = client.get("/accounts/" + industry["Pharma"][1])
    assert chosen.context["count"] == 2
    again = client.get("/accounts/" + industry["Pharma"][1] + "&facets_only=1")
    values = {f["name"]: f for f in again.context["facets"]}["industry"]["values"]
    assert next(v for v in values if v["label"] == "Pharma")["selected"]
