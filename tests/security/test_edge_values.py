"""Values the schemas must refuse with 422 naming the field, writing nothing: null for a
field that can never be empty, numbers that are not finite or out of range, and
true/false where a number is expected."""

from decimal import Decimal

import pytest
from django.test import Client

from salesplan.marketing.models import CaptureForm
from salesplan.org.services import create_api_token
from salesplan.pipeline.models import Opportunity
from salesplan.planning import services as planning
from salesplan.pricing.models import PriceBook, Product, ProductFamily
from salesplan.proposals.models import Quote
from tests.api.conftest import ApiCaller, assert_problem
from tests.factories import make_account, make_opportunity
from tests.marketing.conftest import campaign, capture_form, policy, territory_map  # noqa: F401
from tests.pricing.conftest import catalogue  # noqa: F401


def api_as(user) -> ApiCaller:
    _, key = create_api_token(user, "tests")
    return ApiCaller(Client(), {"Authorization": f"Bearer {key}"})


def with_version(record, body: dict) -> dict:
    """The body, with the record's version where the record has one."""
    version = getattr(record, "version", None)
    return body if version is None else body | {"version": version}


def unchanged(record):
    before = {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}
    record.refresh_from_db()
    return before == {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}


def test_a_rep_sending_null_for_the_quote_currency_gets_422(org):
    deal = make_opportunity(org.west_rep)
    response = api_as(org.west_rep).post("/quotes", {"opportunity_id": deal.pk,
                                                     "currency": None})
    assert_problem(response, 422, "currency")
    assert not Quote.objects.exists()


@pytest.mark.parametrize("field", ["region", "segment", "tier", "description", "name",
                                   "currency", "active", "is_standard"])
def test_null_for_a_price_book_field_is_refused(org, catalogue, field):  # noqa: F811
    book = catalogue.usd
    response = api_as(org.admin).patch(f"/pricing/price-books/{book.pk}",
                                       with_version(book, {field: None}))
    body = assert_problem(response, 422, field)
    assert "null" in " ".join(body["errors"][field])
    assert unchanged(book) and PriceBook.objects.count() == 3


@pytest.mark.parametrize(("path", "model"), [("products", Product),
                                             ("families", ProductFamily)])
def test_null_for_a_catalogue_description_is_refused(org, catalogue, path, model):  # noqa: F811
    record = model.objects.order_by("pk").first()
    response = api_as(org.admin).patch(f"/pricing/{path}/{record.pk}",
                                       with_version(record, {"description": None}))
    assert_problem(response, 422, "description")
    assert unchanged(record)


@pytest.mark.parametrize("field", ["fields", "required_fields", "name", "is_active"])
def test_null_for_a_capture_form_field_is_refused(org, capture_form, field):  # noqa: F811
    response = api_as(org.marketer).patch(f"/marketing/forms/{capture_form.pk}",
                                          with_version(capture_form, {field: None}))
    assert_problem(response, 422, field)
    assert unchanged(capture_form) and CaptureForm.objects.count() == 1


def test_null_stays_allowed_where_it_clears_a_value(org, catalogue):  # noqa: F811
    family = catalogue.equipment
    response = api_as(org.admin).patch(f"/pricing/families/{family.pk}",
                                       with_version(family, {"max_discount_pct": None}))
    assert response.status_code == 200, response.content
    family.refresh_from_db()
    assert family.max_discount_pct is None


@pytest.mark.parametrize("value", [True, False])
def test_true_or_false_is_not_a_version(org, value):
    account = make_account(org.west_rep, name="Kept")
    response = api_as(org.west_rep).patch(f"/accounts/{account.pk}",
                                          {"name": "Changed", "version": value})
    assert_problem(response, 422, "version")
    assert unchanged(account)


def test_true_is_not_an_id(org):
    response = api_as(org.west_rep).post("/opportunities", {
        "name": "Deal", "account_id": True, "amount": "10"})
    assert_problem(response, 422, "account_id")
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize("value", ["1e300", "-1e300", "inf", "NaN", "Infinity"])
@pytest.mark.parametrize("rate", ["deal_size", "win_rate", "meetings_per_opportunity",
                                  "calls_per_meeting", "calls_per_day"])
def test_activity_plan_rates_must_be_finite_and_in_range(org, rate, value):
    plan = planning.create_plan(by=org.west_manager, name="West", fiscal_year=2026,
                                team=org.west)
    planning.set_plan_target(plan, by=org.west_manager, measure="bookings",
                             total=Decimal("10000"))
    response = api_as(org.west_manager).get(f"/plans/{plan.pk}/activity-plan",
                                            **{rate: value})
    assert_problem(response, 422, rate)


@pytest.mark.parametrize("raw", ['{"name": "A", "amount": 1e400}',
                                 '{"name": "A", "amount": 1e300}'])
def test_numbers_out_of_range_in_a_body_are_refused(org, raw):
    account = make_account(org.west_rep)
    raw = raw.replace('"name": "A"', f'"name": "A", "account_id": {account.pk}')
    response = api_as(org.west_rep).post("/opportunities", raw=raw)
    assert_problem(response, 422, "amount")
    assert not Opportunity.objects.exists()
