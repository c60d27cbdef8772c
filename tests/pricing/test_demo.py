"""The demo catalogue: built through the services, priced end to end."""

import random
from datetime import date
from decimal import Decimal as D

from salesplan.customers.models import Lifecycle
from salesplan.demo import pricing as demo
from salesplan.demo.org import DemoOrg
from salesplan.org.models import Company
from salesplan.pricing.models import (
    ExchangeRate,
    PriceBook,
    PricingRule,
    Product,
    ProductFamily,
    TaxRate,
)
from salesplan.pricing.services import convert_amount, price_lines
from salesplan.pricing.types import LineRequest
from tests.factories import make_account

TODAY = date(2026, 5, 20)


def test_demo_catalogue_prices_a_realistic_quote(org):
    big = make_account(org.west_rep, name="Big Health", industry="Healthcare", state="CA",
                       lifecycle=Lifecycle.CUSTOMER, annual_revenue=D("9000000"))
    small = make_account(org.west_rep, name="Small Shop", industry="Retail", state="TX",
                         lifecycle=Lifecycle.CUSTOMER, annual_revenue=D("100000"))
    logs: list[str] = []
    demo.build(DemoOrg(company=Company.current()), accounts=200, today=TODAY,
               rng=random.Random(3), log=logs.append)
    assert Product.objects.count() == 40 and ProductFamily.objects.count() == 5
    assert PriceBook.objects.filter(is_standard=True).count() == 2
    assert TaxRate.objects.filter(country="US").count() == 20
    assert ExchangeRate.objects.filter(base="EUR").count() == 13
    assert PricingRule.objects.filter(kind="contract", account=small).count() == 3
    ids = dict(Product.objects.values_list("sku", "id"))
    quote = price_lines(account=small, currency="USD", on_date=TODAY, lines=[
        LineRequest(ids["SW-MGR-STD"], D(60)), LineRequest(ids["NET-AP-6"], D(20)),
        LineRequest(ids["PS-TRAIN"], D(8)), LineRequest(ids["CL-MON"], D(100)),
        LineRequest(ids["KIT-BRANCH"], D(2)), LineRequest(ids["SW-MGR-PRO"], D(10))])
    nets = [line.line_net for line in quote.lines]
    assert nets == [
        D("7035.00"),   # 49 × 120 + 11 × 105
        D("3980.00"),   # all 20 at 199
        D("3900.00"),   # the 6–12 seat class (487.50 a seat, above its 325 floor)
        D("255.00"),    # 100 × 3 less the 15% cloud promotion
        D("6980.00"),   # the bundle's own price
        D("1728.00"),   # contract: 240 × 0.72
    ]
    assert quote.lines[2].below_floor is False
    # Texas 6.25% on each line, rounded per line.
    assert quote.tax_total == sum(line.tax_amount for line in quote.lines)
    assert quote.lines[3].tax_amount == D("15.94")   # 255 × 6.25% = 15.9375
    healthcare = price_lines(account=big, currency="USD", on_date=TODAY,
                             lines=[LineRequest(ids["SW-MGR-STD"], D(60))])
    assert healthcare.lines[0].line_net == D("6300.00")  # 60 × 105, no standard-book tiers
    euros = convert_amount(D("1000.00"), "USD", "EUR", TODAY)
    assert convert_amount(euros, "EUR", "USD", TODAY) - D("1000.00") in (D("-0.01"), D(0),
                                                                       D("0.01"))
    assert logs == ["Pricing: 40 products, 3 price books, rules, taxes, exchange rates."]


def test_demo_pricing_is_skipped_at_benchmark_scale(org):
    logs: list[str] = []
    demo.build(DemoOrg(company=Company.current()), accounts=1_000_000, today=TODAY,
               rng=random.Random(1), log=logs.append)
    assert not Product.objects.exists() and logs == ["Pricing: skipped at this scale."]
