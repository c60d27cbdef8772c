"""A small catalogue built through the services: two families (hardware inside
equipment, and services), four products, a bundle, a standard USD book, a scoped USD
book for healthcare accounts and a EUR book, tiers, a contract, a promotion, taxes."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D

import pytest

from salesplan.customers.models import Account
from salesplan.pricing import services
from salesplan.pricing.models import PriceBook, PricingRule, Product, ProductFamily
from tests.factories import make_account

from ..api.conftest import api_as  # noqa: F401 - the API caller fixture, shared

TODAY = date(2026, 6, 15)


@dataclass
class Catalogue:
    equipment: ProductFamily
    hardware: ProductFamily
    services_family: ProductFamily
    router: Product        # graduated tiers 1→100, 11→90 (list 120)
    switch: Product        # all-units tiers on the hardware family… (list 50)
    cable: Product         # block pricing (list 2)
    install: Product       # service, cost 40/hour, list 150
    kit: Product           # bundle: 1 router + 2 switches
    usd: PriceBook
    health_usd: PriceBook
    eur: PriceBook
    account: Account
    other_account: Account
    contract: PricingRule
    promotion: PricingRule


@pytest.fixture
def catalogue(org) -> Catalogue:
    by = org.admin
    equipment = services.create_family(by=by, name="Equipment", max_discount_pct=D(30))
    hardware = services.create_family(by=by, name="Hardware", parent=equipment,
                                      min_margin_pct=D(20))
    svc = services.create_family(by=by, name="Services", min_margin_pct=D(50))
    router = services.create_product(by=by, sku="RT-100", name="Router", family=hardware,
                                     cost=D("60.00"))
    switch = services.create_product(by=by, sku="SW-24", name="Switch", family=hardware,
                                     cost=D("20.00"))
    cable = services.create_product(by=by, sku="CB-1", name="Cable", family=equipment,
                                    cost=D("0.50"), unit="metre")
    install = services.create_product(by=by, sku="SV-INST", name="Installation",
                                      family=svc, kind="service", unit="hour",
                                      cost=D("40.00"))
    kit = services.create_product(by=by, sku="KIT-1", name="Starter kit", family=hardware,
                                  kind="bundle")
    services.set_bundle_components(kit, [(router, D(1)), (switch, D(2))], by=by)
    usd = services.create_price_book(by=by, name="Standard USD", currency="USD",
                                     is_standard=True)
    health = services.create_price_book(by=by, name="Healthcare USD", currency="USD",
                                        segment="Healthcare")
    eur = services.create_price_book(by=by, name="Standard EUR", currency="EUR",
                                     is_standard=True)
    for product, price in ((router, "120"), (switch, "50"), (cable, "2"), (install, "150")):
        services.set_entry(usd, product, by=by, list_price=D(price))
    services.set_entry(usd, cable, by=by, list_price=D(2), floor_price=D("1.50"))
    services.set_entry(health, router, by=by, list_price=D(110))
    services.set_entry(eur, router, by=by, list_price=D(100))
    services.create_rule(by=by, name="Router volume", kind="graduated", product=router,
                         currency="USD", tiers=[(D(1), D(100)), (D(11), D(90))])
    services.create_rule(by=by, name="Hardware all-units", kind="all_units", family=hardware,
                         currency="USD", tiers=[(D(1), D(50)), (D(10), D(45))])
    services.create_rule(by=by, name="Cable blocks", kind="block", product=cable,
                         currency="USD", tiers=[(D(1), D(20)), (D(11), D(150))])
    account = make_account(org.west_rep, name="Acme Clinics", industry="Retail",
                           state="CA", country="US")
    other = make_account(org.east_rep, name="Beta Corp", industry="Healthcare",
                         state="NY", country="US")
    contract = services.create_rule(by=by, name="Acme 2026 contract", kind="contract",
                                    product=switch, account=account, currency="USD",
                                    unit_price=D("42.50"), valid_to=date(2026, 12, 31))
    promotion = services.create_rule(by=by, name="Summer services", kind="promotion",
                                     family=svc, discount_pct=D(10),
                                     valid_from=date(2026, 6, 1), valid_to=date(2026, 8, 31))
    services.create_tax_rate(by=by, name="California", country="US", state="CA",
                             rate=D("7.25"))
    services.create_tax_rate(by=by, name="Germany VAT", country="DE", rate=D(19),
                             prices_include_tax=True)
    return Catalogue(equipment, hardware, svc, router, switch, cable, install, kit, usd,
                     health, eur, account, other, contract, promotion)
