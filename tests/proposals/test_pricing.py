"""Quotes priced by the engine: each line keeps what it was priced at and why, totals add
up, bad lines are refused by line and field with nothing saved, and the matrix reads the
rep's extra discount and the floors."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesplan.core.clock import company_today
from salesplan.pricing import services as pricing
from salesplan.proposals import services
from salesplan.proposals.models import QuoteLine, QuoteVersion

from ..api.conftest import assert_problem
from ..factories import make_account, make_opportunity
from .conftest import qv, qv_query

Q = "/quotes"


@pytest.fixture
def shop(org):
    """Routers (list 120, graduated tiers 1→100, 11→90, cost 60), installation hours
    (list 150, cost 40, 50% minimum margin) and cable (list 2, floor 1.50); California tax
    7.25%; a West rep's deal with a Californian account."""
    by = org.admin
    hardware = pricing.create_family(by=by, name="Hardware", min_margin_pct=D(20))
    services_family = pricing.create_family(by=by, name="Services", min_margin_pct=D(50))
    router = pricing.create_product(by=by, sku="RT-100", name="Router", family=hardware,
                                    cost=D("60.00"))
    install = pricing.create_product(by=by, sku="SV-INST", name="Installation",
                                     family=services_family, kind="service", unit="hour",
                                     cost=D("40.00"))
    cable = pricing.create_product(by=by, sku="CB-1", name="Cable", family=hardware,
                                   cost=D("0.50"), unit="metre")
    book = pricing.create_price_book(by=by, name="Standard USD", currency="USD",
                                     is_standard=True)
    pricing.set_entry(book, router, by=by, list_price=D(120))
    pricing.set_entry(book, install, by=by, list_price=D(150))
    pricing.set_entry(book, cable, by=by, list_price=D(2), floor_price=D("1.50"))
    pricing.create_rule(by=by, name="Router volume", kind="graduated", product=router,
                        currency="USD", tiers=[(D(1), D(100)), (D(11), D(90))])
    pricing.create_tax_rate(by=by, name="California", country="US", state="CA",
                            rate=D("7.25"))
    account = make_account(org.west_rep, name="Acme Clinics", state="CA", country="US")
    opportunity = make_opportunity(org.west_rep, account=account, name="Acme network")
    return {"router": router, "install": install, "cable": cable, "book": book,
            "opportunity": opportunity}


def test_a_quote_is_priced_line_by_line_with_explanations_and_tax(org, api_as, shop):
    rep = api_as(org.west_rep)
    created = rep.post(Q, {"opportunity_id": shop["opportunity"].pk, "title": "Acme network",
                           "payment_terms": "Net 30", "lines": [
                               {"product_id": shop["router"].pk, "quantity": "11"},
                               {"product_id": shop["install"].pk, "quantity": "8",
                                "discount_pct": "5"}]})
    assert created.status_code == 201, created.data
    current = created.data["current"]
    router, install = current["lines"]
    # 10 × 100 + 1 × 90 = 1,090.00; tax 7.25% = 79.025 → 79.02 (half to even).
    assert (router["line_net"], router["tax_amount"], router["line_total"]) == (
        "1090.00", "79.02", "1169.02")
    assert router["margin"] == "430.00" and router["list_unit_price"] == "120.0000"
    assert any("Router volume" in part or "10 × 100" in part for part in router["explanation"])
    # 8 h × 150 less the rep's 5% = 1,140.00; tax 82.65.
    assert (install["line_net"], install["tax_amount"]) == ("1140.00", "82.65")
    assert install["requested_discount_pct"] == "5.0000"
    assert (current["subtotal"], current["tax_total"], current["total"]) == (
        "2230.00", "161.67", "2391.67")
    assert created.data["total"] == "2391.67"
    # Tiers are the company's prices: within the rep's limit, it is approved at once.
    quote_id = created.data["id"]
    assert rep.post(f"{Q}/{quote_id}/submit", qv(quote_id)).data["status"] == "approved"


def test_bad_lines_are_refused_by_line_and_field_and_nothing_is_saved(org, api_as, shop):
    rep = api_as(org.west_rep)
    body = {"opportunity_id": shop["opportunity"].pk, "lines": [
        {"product_id": shop["router"].pk, "quantity": "1"},
        {"product_id": 999999, "quantity": "1"}]}
    refused = rep.post(Q, body)
    assert_problem(refused, 422, "lines[1].product_id")
    negative = rep.post(Q, {**body, "lines": [{"product_id": shop["router"].pk,
                                               "quantity": "-1"}]})
    assert_problem(negative, 422, "lines.0.quantity")
    too_deep = rep.post(Q, {**body, "lines": [{"product_id": shop["router"].pk,
                                               "quantity": "1", "discount_pct": "101"}]})
    assert_problem(too_deep, 422, "lines.0.discount_pct")
    assert not QuoteVersion.objects.exists()
    quote = rep.post(Q, {"opportunity_id": shop["opportunity"].pk}).data
    added = rep.post(f"{Q}/{quote['id']}/lines", qv(quote, product_id=shop["router"].pk,
                                                      quantity="2"))
    assert added.status_code == 201 and added.data["line_net"] == "200.00"
    unknown = rep.post(f"{Q}/{quote['id']}/lines", qv(quote, product_id=999999, quantity="2"))
    assert_problem(unknown, 422, "lines[1].product_id")
    assert QuoteLine.objects.filter(quote_version__quote_id=quote["id"]).count() == 1
    assert rep.get(f"{Q}/{quote['id']}").data["total"] == "214.50"


def test_editing_lines_reprices_and_the_snapshot_stays_when_prices_change(org, api_as, shop):
    rep = api_as(org.west_rep)
    quote = rep.post(Q, {"opportunity_id": shop["opportunity"].pk, "lines": [
        {"product_id": shop["router"].pk, "quantity": "5"}]}).data
    line_id = quote["current"]["lines"][0]["id"]
    added = rep.post(f"{Q}/{quote['id']}/lines", qv(quote, product_id=shop["install"].pk,
                                                      quantity="2")).data
    changed = rep.patch(f"{Q}/{quote['id']}/lines/{line_id}", qv(quote, quantity="12"))
    assert changed.data["line_net"] == "1180.00"  # 10 × 100 + 2 × 90
    assert changed.data["id"] == line_id
    assert rep.delete(f"{Q}/{quote['id']}/lines/{line_id}{qv_query(quote)}").status_code == 204
    [left] = rep.get(f"{Q}/{quote['id']}/lines").data
    assert (left["id"], left["position"], left["line_net"]) == (added["id"], 1, "300.00")
    rep.delete(f"{Q}/{quote['id']}/lines/{left['id']}{qv_query(quote)}")
    rep.post(f"{Q}/{quote['id']}/lines", qv(quote, product_id=shop["router"].pk, quantity="12"))
    pricing.set_entry(shop["book"], shop["install"], by=org.admin, list_price=D(200))
    line = QuoteLine.objects.get(quote_version__quote_id=quote["id"])
    assert line.line_net == D("1180.00")
    assert rep.delete(f"{Q}/{quote['id']}/lines/{line.pk}{qv_query(quote)}").status_code == 204
    assert rep.get(f"{Q}/{quote['id']}").data["total"] == "0.00"


def test_a_line_under_its_floor_cannot_be_sent_without_approval(org, api_as, shop):
    rep = api_as(org.west_rep)
    # 2.00 less 8% = 1.84 a metre: above the 1.50 floor, within the rep's 10%.
    fine = rep.post(Q, {"opportunity_id": shop["opportunity"].pk, "lines": [
        {"product_id": shop["cable"].pk, "quantity": "100", "discount_pct": "8"}]}).data
    assert fine["current"]["lines"][0]["below_floor"] is False
    # The Hardware family's 20% minimum margin: 100 m at 0.60 is 16.7% over cost 0.50.
    low = rep.post(Q, {"opportunity_id": shop["opportunity"].pk, "lines": [
        {"product_id": shop["cable"].pk, "quantity": "100", "discount_pct": "70"}]}).data
    line = low["current"]["lines"][0]
    assert line["below_floor"] is True and line["below_min_margin"] is True
    assert_problem(rep.post(f"{Q}/{low['id']}/send", qv(low)), 422, "status")
    rep.post(f"{Q}/{low['id']}/submit", qv(low))
    reasons = {r["rule"] for a in rep.get(f"{Q}/{low['id']}/approvals").data
               for r in a["reasons"]}
    assert reasons == {"Below floor or minimum margin", "Discount above 10%",
                       "Discount above 20%"}


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(st.sampled_from(["router", "install", "cable"]),
                                st.integers(min_value=1, max_value=40),
                                st.decimals(min_value=0, max_value=60, places=1)),
                      min_size=1, max_size=6))
def test_totals_add_up_and_no_line_under_its_floor_is_sent_unapproved(org, shop, lines):
    quote = services.create_quote(by=org.west_rep, opportunity=shop["opportunity"],
                                  lines=[{"product_id": shop[name].pk, "quantity": D(qty),
                                          "discount_pct": discount}
                                         for name, qty, discount in lines])
    version = services.current_version(quote)
    stored = list(version.lines.all())
    assert version.subtotal == sum(line.line_net for line in stored)
    assert version.tax_total == sum(line.tax_amount for line in stored)
    assert version.total == version.subtotal + version.tax_total == sum(
        line.line_total for line in stored)
    over = any(line.below_floor or line.below_min_margin or line.requested_discount_pct > 10
               for line in stored)
    if over:
        with pytest.raises(ValidationError):
            services.send_quote(quote, by=org.west_rep)
        assert services.submit_quote(quote, by=org.west_rep).status == "in_approval"
    else:
        assert services.send_quote(quote, by=org.west_rep).status == "sent"


def test_old_validity_dates_are_refused(org, api_as, shop):
    rep = api_as(org.west_rep)
    past = (company_today() - timedelta(days=1)).isoformat()
    refused = rep.post(Q, {"opportunity_id": shop["opportunity"].pk, "valid_until": past})
    assert_problem(refused, 422, "valid_until")
