"""Facet counts beside the lists: over what the user may see and the current filter."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesplan.core import listing
from salesplan.customers.selectors import account_list

from ..factories import make_account, make_lead, make_opportunity

pytestmark = pytest.mark.django_db


def _facet(body, name):
    return next(f for f in body["facets"] if f["name"] == name)


def test_counts_cover_only_what_the_user_may_see(org, api_as):
    make_account(org.west_rep, industry="Pharma", state="CA")
    make_account(org.west_rep, industry="Pharma", state="NY")
    make_account(org.west_rep2, industry="Retail", state="CA")
    make_account(org.east_rep, industry="Pharma", state="CA")
    body = api_as(org.west_manager).get("/accounts/facets").data
    assert body["total"] == 3 and body["total_capped"] is False
    assert {v["label"]: v["count"] for v in _facet(body, "industry")["values"]} == {
        "Pharma": 2, "Retail": 1}
    owners = {v["value"]: v["count"] for v in _facet(body, "owner")["values"]}
    assert owners == {str(org.west_rep.pk): 2, str(org.west_rep2.pk): 1}
    rep = api_as(org.west_rep).get("/accounts/facets").data
    assert rep["total"] == 2
    assert {v["value"] for v in _facet(rep, "owner")["values"]} == {str(org.west_rep.pk)}
    admin = api_as(org.admin).get("/accounts/facets").data
    assert admin["total"] == 4


def test_a_facet_follows_the_other_filters_but_not_its_own(org, api_as):
    make_account(org.west_rep, industry="Pharma", state="CA")
    make_account(org.west_rep, industry="Pharma", state="NY")
    make_account(org.west_rep, industry="Retail", state="CA")
    body = api_as(org.west_manager).get("/accounts/facets", industry="pharma").data
    assert body["total"] == 2
    assert {v["value"]: v["count"] for v in _facet(body, "state")["values"]} == {
        "CA": 1, "NY": 1}
    industry = {v["value"]: (v["count"], v["selected"])
                for v in _facet(body, "industry")["values"]}
    assert industry == {"Pharma": (2, True), "Retail": (1, False)}
    lifecycle = _facet(body, "lifecycle")["values"]
    assert lifecycle[0]["label"] == "Prospect"


def test_top_values_and_the_rest_as_others(org, api_as, monkeypatch):
    monkeypatch.setattr(listing, "FACET_TOP", 2)
    for i, n in enumerate((3, 2, 1, 1)):
        for _ in range(n):
            make_account(org.west_rep, state=f"S{i}")
    facets = listing.facet_counts(
        listing.ListDefinition(filters={"state": listing.Filter("state")}, sorts={"n": "name"},
                               default_sort="n", facets=("state",)),
        account_list,
        org.admin, {}, top=2)
    state = facets[0]
    assert [(v.value, v.count) for v in state.values] == [("S0", 3), ("S1", 2)]
    assert state.others == 2 and state.others_exact


def test_opportunity_facets_name_stages_and_count_with_one_query_each(org, api_as):
    deals = [make_opportunity(org.west_rep) for _ in range(3)]
    make_opportunity(org.west_rep, stage_position=1)
    caller = api_as(org.west_manager)
    caller.get("/opportunities/facets")
    with CaptureQueriesContext(connection) as few:
        body = caller.get("/opportunities/facets").data
    for _ in range(5):
        make_opportunity(org.west_rep2, account=deals[0].account)
    with CaptureQueriesContext(connection) as more:
        caller.get("/opportunities/facets")
    assert len(more) == len(few)
    stage = _facet(body, "stage")["values"]
    assert stage[0]["count"] == 3 and stage[0]["label"].endswith(deals[0].stage.name)


def test_lead_facets_and_a_bad_filter_names_the_field(org, api_as):
    make_lead(org.west_rep, source="web")
    make_lead(org.west_rep, source="event")
    body = api_as(org.marketer).get("/leads/facets").data
    assert {v["value"] for v in _facet(body, "source")["values"]} == {"web", "event"}
    bad = api_as(org.west_rep).get("/leads/facets", status="nonsense")
    assert bad.status_code == 422 and "status" in bad.data["errors"]


def test_a_numbered_page_leads_on_by_keyset_to_the_same_rows(org):
    from salesplan.customers.models import Account

    for i in range(7):
        make_account(org.west_rep, name=f"Row {i}")
    rows = Account.objects.all()
    second = listing.numbered_page(rows, sort_field="-name_key", sort_key="-name", number=2,
                                   limit=2)
    third = listing.numbered_page(rows, sort_field="-name_key", sort_key="-name", number=3,
                                  limit=2)
    onwards = listing.keyset_page(rows, sort_field="-name_key", sort_key="-name",
                                  cursor=second.next_cursor, limit=2)
    back = listing.keyset_page(rows, sort_field="-name_key", sort_key="-name",
                               cursor=third.previous_cursor, limit=2)
    assert [a.name for a in second.items] == ["Row 4", "Row 3"]
    assert [a.pk for a in onwards.items] == [a.pk for a in third.items]
    assert [a.pk for a in back.items] == [a.pk for a in second.items]
    with pytest.raises(ValidationError):
        listing.parse_page_number("0")
