"""Bad input gets a 4xx problem-details answer naming the field, never a 500, and
changes nothing."""

import pytest

from tests.factories import make_account, make_opportunity

from .conftest import assert_problem


@pytest.fixture
def deal(org):
    return make_opportunity(org.west_rep)


@pytest.mark.parametrize(("body", "field"), [
    ({"nmae": "Typo"}, "nmae"),
    ({"amount": "-1"}, "amount"),
    ({"amount": "100000000000000000000"}, "amount"),
    ({"amount": 1e20}, "amount"),
    ({"amount": "12.345"}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"amount": "lots"}, "amount"),
    ({"close_date": "2027-02-30"}, "close_date"),
    ({"close_date": "next week"}, "close_date"),
    ({"probability": 101}, "probability"),
    ({"probability": "high"}, "probability"),
    ({"currency": "XXX"}, "currency"),
    ({"name": None}, "name"),
    ({"name": ""}, "name"),
    ({"owner_id": "me"}, "owner_id"),
    ({"owner_id": 10**30}, "owner_id"),
    ({"stage_id": 1}, "stage_id"),
])
def test_bad_field_is_refused_and_named(org, api_as, deal, body, field):
    response = api_as(org.west_rep).patch(f"/opportunities/{deal.pk}", body | {"version": 1})
    problem = assert_problem(response, 422, field)
    assert problem["type"].endswith("validation")
    before = deal.amount, deal.close_date, deal.name
    deal.refresh_from_db()
    assert (deal.amount, deal.close_date, deal.name, deal.version) == (*before, 1)


def test_malformed_json_is_a_bad_request(org, api_as, deal):
    response = api_as(org.west_rep).patch(f"/opportunities/{deal.pk}", raw='{"name": "x",')
    assert_problem(response, 400, "body")


@pytest.mark.parametrize("raw", ["[]", '"text"', "null"])
def test_body_that_is_not_an_object_is_refused(org, api_as, raw):
    response = api_as(org.west_rep).post("/accounts", raw=raw)
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/problem+json"


def test_patch_without_version_is_refused(org, api_as, deal):
    assert_problem(api_as(org.west_rep).patch(f"/opportunities/{deal.pk}", {"name": "x"}),
                   428, "version")


def test_stale_version_is_a_conflict_and_changes_nothing(org, api_as):
    account = make_account(org.west_rep, name="Original")
    api = api_as(org.west_rep)
    assert api.patch(f"/accounts/{account.pk}", {"name": "First", "version": 1}).status_code == 200
    response = api.patch(f"/accounts/{account.pk}", {"name": "Second", "version": 1})
    problem = assert_problem(response, 409)
    assert problem["current_version"] == 2
    account.refresh_from_db()
    assert (account.name, account.version) == ("First", 2)


def test_model_rules_are_reported_by_field(org, api_as):
    api = api_as(org.west_rep)
    response = api.post("/accounts", {"name": "Bad site", "website": "not a url"})
    assert_problem(response, 422, "website")
    response = api.post("/leads", {"last_name": "Lee", "status": "converted"})
    assert_problem(response, 422, "status")


@pytest.mark.parametrize("params", [
    {"cursor": "not-a-cursor"},
    {"cursor": "eyJ0IjoiZCIsInYiOiJ4In0"},  # well-formed base64 JSON, not a cursor
    {"owner": "abc"},
    {"owner": "99999999999999999999999"},
    {"lifecycle": "zombie"},
    {"sort": "colour"},
    {"limit": "0"},
    {"limit": "100000"},
    {"min_employees": "many"},
])
def test_bad_list_parameters_are_refused(org, api_as, params):
    make_account(org.west_rep)
    response = api_as(org.west_rep).get("/accounts", **params)
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(("params", "field"), [
    ({"cursor": "not-a-cursor"}, "cursor"), ({"owner": "abc"}, "owner"),
    ({"lifecycle": "zombie"}, "lifecycle"), ({"sort": "colour"}, "sort"),
    ({"limit": "0"}, "limit"), ({"min_employees": "many"}, "min_employees"),
])
def test_bad_list_parameter_is_named(org, api_as, params, field):
    assert_problem(api_as(org.west_rep).get("/accounts", **params), 422, field)


@pytest.mark.parametrize("path", ["/opportunities/abc", "/opportunities/0",
                                  "/opportunities/99999999999999999999999"])
def test_odd_ids_are_client_errors(org, api_as, path):
    response = api_as(org.west_rep).get(path)
    assert response.status_code in (404, 422)
    assert response["Content-Type"] == "application/problem+json"


def test_unknown_address_answers_in_the_api_shape(org, api_as):
    assert_problem(api_as(org.west_rep).get("/no-such-thing"), 404)
