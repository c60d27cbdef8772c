"""The pricing pages: admins edit the catalogue in them, reps read and price, nobody
else's contract shows."""

from decimal import Decimal as D

from django.test import Client

from salesplan.pricing.models import PriceBookEntry, PricingRule, Product


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_page_renders_for_a_rep(org, catalogue):
    web = login(org.west_rep)
    for url in ("/pricing/", "/pricing/families/", "/pricing/books/",
                f"/pricing/books/{catalogue.usd.pk}/", "/pricing/rules/",
                f"/pricing/products/{catalogue.kit.pk}/", "/pricing/tax-rates/",
                "/pricing/exchange-rates/", "/pricing/price-check/"):
        page = web.get(url)
        assert page.status_code == 200, url
        assert b"New product" not in page.content and b"Add a rule" not in page.content
    kit = web.get(f"/pricing/products/{catalogue.kit.pk}/").content.decode()
    assert "RT-100" in kit and "Save components" not in kit


def test_admin_adds_a_product_prices_it_and_adds_tiers_in_the_pages(org, catalogue):
    web = login(org.admin)
    created = web.post("/pricing/products/new/", {
        "sku": "AP-7", "name": "Access point", "family": catalogue.hardware.pk,
        "kind": "product", "unit": "each", "cost": "30", "cost_currency": "USD",
        "active": "on"})
    product = Product.objects.get(sku="AP-7")
    assert created.status_code == 302 and created.url == f"/pricing/products/{product.pk}/"
    web.post(f"/pricing/books/{catalogue.usd.pk}/", {"sku": "AP-7", "list_price": "80",
                                                     "floor_price": "55"})
    assert PriceBookEntry.objects.get(product=product, price_book=catalogue.usd).list_price \
        == D(80)
    answer = web.post("/pricing/rules/", {"name": "AP tiers", "kind": "all_units",
                                          "product": product.pk, "currency": "USD",
                                          "tiers": "1 75\n6 60", "active": "on"})
    assert answer.status_code == 302
    rule = PricingRule.objects.get(name="AP tiers")
    assert [(t.min_quantity, t.price) for t in rule.tiers.all()] == [(D(1), D(75)),
                                                                    (D(6), D(60))]
    bad = web.post("/pricing/rules/", {"name": "Broken", "kind": "contract",
                                       "product": product.pk, "currency": "USD",
                                       "unit_price": "10"})
    assert bad.status_code == 422 and b"A contracted price is for one account." in bad.content
    page = web.get("/pricing/price-check/", {"account_id": catalogue.account.pk,
                                             "currency": "USD", "on_date": "2026-06-15",
                                             "lines": "AP-7 6"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "every unit is 60.0000 USD" in text and "360.00" in text


def test_a_rep_cannot_write_or_price_for_an_account_they_cannot_see(org, catalogue):
    web = login(org.east_rep)
    assert web.post("/pricing/products/new/", {"sku": "X-1"}).status_code == 403
    assert web.post(f"/pricing/books/{catalogue.usd.pk}/",
                    {"sku": "RT-100", "list_price": "1"}).status_code == 403
    assert web.post(f"/pricing/rules/{catalogue.promotion.pk}/",
                    {"delete": "1"}).status_code == 403
    assert PricingRule.objects.filter(pk=catalogue.promotion.pk).exists()
    assert PriceBookEntry.objects.get(product=catalogue.router,
                                      price_book=catalogue.usd).list_price == D(120)
    assert web.get(f"/pricing/rules/{catalogue.contract.pk}/").status_code == 404
    assert b"Acme 2026 contract" not in web.get("/pricing/rules/").content
    page = web.get("/pricing/price-check/", {"account_id": catalogue.account.pk,
                                             "lines": "RT-100 1"})
    assert page.status_code == 422 and b"No account with this id" in page.content
    assert b"Acme 2026 contract" in login(org.west_manager).get("/pricing/rules/").content


def test_price_check_names_the_bad_line(org, catalogue):
    page = login(org.west_rep).get("/pricing/price-check/", {
        "account_id": catalogue.account.pk, "on_date": "2026-06-15",
        "lines": "RT-100 11\nSW-24 -3"})
    assert page.status_code == 422
    assert "Line 2 (SW-24), quantity: Quantity must be positive." in page.content.decode()
