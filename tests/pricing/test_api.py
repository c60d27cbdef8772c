"""The pricing API: admins edit the catalogue, everyone reads it, lines are priced with
the reason for each price, and errors name the line and field."""

from decimal import Decimal as D

from salesplan.core.models import AuditEntry
from salesplan.pricing.models import PriceBookEntry, PricingRule, Product

from ..api.conftest import assert_problem

P = "/pricing"


def test_admin_builds_a_product_with_tiers_and_prices_it(org, api_as, catalogue):
    admin = api_as(org.admin)
    created = admin.post(f"{P}/products", {"sku": "AP-7", "name": "Access point",
                                           "family_id": catalogue.hardware.pk, "cost": "30"})
    assert created.status_code == 201, created.data
    pid = created.data["id"]
    entry = admin.call("put", f"{P}/price-books/{catalogue.usd.pk}/entries/{pid}",
                       {"list_price": "80", "floor_price": "55"})
    assert entry.status_code == 200, entry.data
    rule = admin.post(f"{P}/rules", {"name": "AP tiers", "kind": "graduated",
                                     "product_id": pid, "currency": "USD",
                                     "tiers": [{"min_quantity": "1", "price": "75"},
                                               {"min_quantity": "6", "price": "60"}]})
    assert rule.status_code == 201, rule.data
    assert [t["price"] for t in rule.data["tiers"]] == ["75.0000", "60.0000"]
    priced = api_as(org.west_rep).post(f"{P}/price", {
        "account_id": catalogue.account.pk, "currency": "USD", "on_date": "2026-06-15",
        "lines": [{"sku": "AP-7", "quantity": "8", "discount_pct": "10"}]})
    assert priced.status_code == 200, priced.data
    line = priced.data["lines"][0]
    # 5 × 75 + 3 × 60 = 555, less 10% = 499.50 → 62.4375 a unit, above the 55 floor.
    assert line["line_net"] == "499.50" and line["net_unit_price"] == "62.4375"
    assert line["below_floor"] is False
    assert "5 × 75.0000 USD + 3 × 60.0000 USD" in line["explanation"][1]
    # California 7.25%: 36.21375 → 36.21
    assert priced.data["tax_total"] == "36.21" and priced.data["total"] == "535.71"
    assert AuditEntry.objects.filter(record_type="product", record_id=pid).exists()


def test_price_errors_name_the_line_and_field(org, api_as, catalogue):
    rep = api_as(org.west_rep)
    body = {"account_id": catalogue.account.pk, "currency": "USD",
            "lines": [{"product_id": catalogue.router.pk, "quantity": "1"},
                      {"product_id": catalogue.router.pk, "quantity": "-2"},
                      {"sku": "NOPE", "quantity": "1"}]}
    problem = assert_problem(rep.post(f"{P}/price", body), 422, "lines[2].sku")
    body["lines"].pop()
    problem = assert_problem(rep.post(f"{P}/price", body), 422, "lines[1].quantity")
    assert problem["errors"]["lines[1].quantity"] == ["Quantity must be positive."]


def test_a_rep_cannot_price_for_an_invisible_account_or_see_its_contract(org, api_as,
                                                                          catalogue):
    east = api_as(org.east_rep)
    answer = east.post(f"{P}/price", {"account_id": catalogue.account.pk,
                                      "lines": [{"product_id": catalogue.router.pk,
                                                 "quantity": "1"}]})
    assert_problem(answer, 404)
    assert_problem(east.get(f"{P}/rules/{catalogue.contract.pk}"), 404)
    listed = east.get(f"{P}/rules").data["items"]
    assert catalogue.contract.pk not in [r["id"] for r in listed]
    assert catalogue.promotion.pk in [r["id"] for r in listed]
    west = api_as(org.west_manager)
    assert west.get(f"{P}/rules/{catalogue.contract.pk}").status_code == 200


def test_reps_and_managers_read_but_only_admins_write(org, api_as, catalogue):
    router = catalogue.router
    for user in (org.west_rep, org.west_manager, org.executive):
        caller = api_as(user)
        assert caller.get(f"{P}/products", q="RT-").data["items"][0]["sku"] == "RT-100"
        assert caller.get(f"{P}/price-books/{catalogue.usd.pk}/entries").status_code == 200
        assert_problem(caller.patch(f"{P}/products/{router.pk}",
                                    {"name": "Cheap router", "version": router.version}), 403)
        assert_problem(caller.call("put", f"{P}/price-books/{catalogue.usd.pk}/entries/"
                                          f"{router.pk}", {"list_price": "1"}), 403)
        assert_problem(caller.post(f"{P}/rules", {"name": "Mine", "kind": "promotion",
                                                  "discount_pct": "90"}), 403)
        assert_problem(caller.delete(f"{P}/rules/{catalogue.promotion.pk}"
                                     f"?version={catalogue.promotion.version}"), 403)
    router.refresh_from_db()
    assert router.name == "Router"
    assert PriceBookEntry.objects.get(price_book=catalogue.usd, product=router).list_price \
        == D(120)
    assert PricingRule.objects.filter(pk=catalogue.promotion.pk).exists()


def test_stale_version_and_bad_rules_are_refused(org, api_as, catalogue):
    admin = api_as(org.admin)
    router = catalogue.router
    ok = admin.patch(f"{P}/products/{router.pk}", {"name": "Router X", "version": router.version})
    assert ok.status_code == 200 and ok.data["version"] == router.version + 1
    assert_problem(admin.patch(f"{P}/products/{router.pk}",
                               {"name": "Router Y", "version": router.version}), 409)
    bad = admin.post(f"{P}/rules", {"name": "Tiers", "kind": "graduated", "currency": "USD",
                                    "product_id": router.pk,
                                    "tiers": [{"min_quantity": "0.5", "price": "1"}]})
    assert_problem(bad, 422, "tiers[0].min_quantity")
    contract = admin.post(f"{P}/rules", {"name": "No account", "kind": "contract",
                                         "product_id": router.pk, "unit_price": "10",
                                         "currency": "USD"})
    assert_problem(contract, 422, "account")
    assert Product.objects.get(pk=router.pk).name == "Router X"


def test_standard_book_switch_and_conversion(org, api_as, catalogue):
    admin = api_as(org.admin)
    book = admin.post(f"{P}/price-books", {"name": "New standard", "currency": "USD",
                                           "is_standard": True})
    assert book.status_code == 201, book.data
    books = {b["name"]: b["is_standard"] for b in admin.get(f"{P}/price-books").data}
    assert books["Standard USD"] is False and books["New standard"] is True
    assert_problem(admin.delete(f"{P}/price-books/{book.data['id']}"
                                f"?version={book.data['version']}"), 422, "is_standard")
    rate = admin.post(f"{P}/exchange-rates", {"base": "EUR", "quote": "USD", "rate": "1.08",
                                              "date": "2026-01-01"})
    assert rate.status_code == 201, rate.data
    reverse = admin.post(f"{P}/exchange-rates", {"base": "USD", "quote": "EUR",
                                                 "rate": "0.9", "date": "2026-01-02"})
    assert_problem(reverse, 422, "base")
    converted = admin.get(f"{P}/convert", amount="100", **{"from": "USD"}, to="EUR",
                          on="2026-03-01")
    assert converted.status_code == 200, converted.data
    assert converted.data["converted"] == "92.59"  # 100 / 1.08 = 92.592…
