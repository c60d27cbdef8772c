"""Lists and pricing cost a fixed number of queries, whatever the number of rows."""

from decimal import Decimal as D

from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesplan.pricing import services
from salesplan.pricing.services import price_lines
from salesplan.pricing.types import LineRequest

from .conftest import TODAY

P = "/pricing"


def _more_catalogue(org, catalogue, count: int) -> None:
    for i in range(count):
        product = services.create_product(by=org.admin, sku=f"X-{i}", name=f"Extra {i}",
                                          family=catalogue.hardware, cost=D(1))
        services.set_entry(catalogue.usd, product, by=org.admin, list_price=D(10 + i))
        services.create_rule(by=org.admin, name=f"Tiers {i}", kind="graduated",
                             product=product, currency="USD",
                             tiers=[(D(1), D(10 + i)), (D(5), D(9 + i))])


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


def test_list_endpoints_do_not_grow_with_rows(org, api_as, catalogue):
    rep = api_as(org.west_rep)
    urls = [f"{P}/products", f"{P}/rules", f"{P}/price-books", f"{P}/families",
            f"{P}/price-books/{catalogue.usd.pk}/entries", f"{P}/tax-rates"]
    for url in urls:  # the first calls fill caches (company, token use, visibility)
        assert rep.get(url).status_code == 200
    before = {url: _queries(lambda url=url: rep.get(url)) for url in urls}
    _more_catalogue(org, catalogue, 6)
    after = {url: _queries(lambda url=url: rep.get(url)) for url in urls}
    assert after == before
    assert len(rep.get(f"{P}/rules").data["items"]) == 11  # his account's contract included


def test_pricing_queries_do_not_grow_with_lines(org, catalogue):
    def price(count: int):
        ids = [catalogue.router.pk, catalogue.switch.pk, catalogue.cable.pk,
               catalogue.install.pk, catalogue.kit.pk]
        lines = [LineRequest(ids[i % len(ids)], D(i % 20 + 1)) for i in range(count)]
        return lambda: price_lines(account=catalogue.account, currency="USD", on_date=TODAY,
                                   lines=lines)

    assert _queries(price(5)) == _queries(price(200)) <= 10
