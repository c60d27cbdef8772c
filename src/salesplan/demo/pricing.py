"""The demo company's catalogue and prices, built through the pricing services so the
catalogue, price book and price check pages open populated.

Five families (network hardware, software licences, cloud subscriptions, support plans,
professional services), 40 products including a branch-office bundle; a standard USD
book, a healthcare USD book with its own prices for licences, and a standard EUR book;
graduated tiers on licences (in the standard book), all-units tiers on access points,
block pricing on training seats; a promotion on cloud subscriptions for the current
quarter; contracted prices for the largest customers; sales tax for the US states and VAT
for three European countries; monthly exchange rates for the last year.
"""

import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from salesplan.customers.models import Account, Lifecycle
from salesplan.org.models import Role, User
from salesplan.pricing import services
from salesplan.pricing.models import PriceBook, Product, ProductFamily

from .org import DemoOrg

D = Decimal
# family: (max discount %, min margin %)
FAMILIES = {
    "Network hardware": (D(30), D(25)),
    "Software licences": (D(40), D(60)),
    "Cloud subscriptions": (D(35), D(50)),
    "Support plans": (D(20), D(55)),
    "Professional services": (D(25), D(30)),
}
# sku, name, family, kind, unit, cost, USD list price
PRODUCTS = [
    ("NET-RT-100", "Edge router 100", "Network hardware", "product", "each", "310", "690"),
    ("NET-RT-400", "Edge router 400", "Network hardware", "product", "each", "820", "1790"),
    ("NET-RT-900", "Core router 900", "Network hardware", "product", "each", "2900", "5900"),
    ("NET-SW-24", "Switch 24-port", "Network hardware", "product", "each", "160", "389"),
    ("NET-SW-48", "Switch 48-port", "Network hardware", "product", "each", "290", "689"),
    ("NET-SW-48P", "Switch 48-port PoE", "Network hardware", "product", "each", "410", "949"),
    ("NET-AP-6", "Wi-Fi 6 access point", "Network hardware", "product", "each", "85", "219"),
    ("NET-AP-6E", "Wi-Fi 6E access point", "Network hardware", "product", "each", "120", "299"),
    ("NET-FW-50", "Firewall 50", "Network hardware", "product", "each", "240", "599"),
    ("NET-FW-500", "Firewall 500", "Network hardware", "product", "each", "1450", "3490"),
    ("NET-SFP-10", "SFP+ 10G transceiver", "Network hardware", "product", "each", "9", "39"),
    ("NET-CAB-5", "Patch cable 5 m", "Network hardware", "product", "each", "1.2", "6.5"),
    ("SW-MGR-STD", "Network manager Standard", "Software licences", "product", "user/year",
     "6", "120"),
    ("SW-MGR-PRO", "Network manager Pro", "Software licences", "product", "user/year",
     "10", "240"),
    ("SW-SEC-STD", "Threat defence Standard", "Software licences", "product", "device/year",
     "8", "150"),
    ("SW-SEC-ADV", "Threat defence Advanced", "Software licences", "product", "device/year",
     "14", "290"),
    ("SW-ANL", "Traffic analytics", "Software licences", "product", "site/year", "40", "900"),
    ("SW-API", "Automation API access", "Software licences", "product", "year", "100", "2400"),
    ("SW-VPN", "Remote access VPN", "Software licences", "product", "user/year", "3", "60"),
    ("SW-MDM", "Device management", "Software licences", "product", "device/year", "4",
     "72"),
    ("CL-BKP-1T", "Cloud backup 1 TB", "Cloud subscriptions", "product", "TB/month", "9",
     "29"),
    ("CL-LOG-STD", "Log retention 90 days", "Cloud subscriptions", "product", "site/month",
     "12", "45"),
    ("CL-MON", "Cloud monitoring", "Cloud subscriptions", "product", "device/month", "0.6",
     "3"),
    ("CL-DNS", "Secure DNS", "Cloud subscriptions", "product", "user/month", "0.3", "2"),
    ("CL-SDWAN", "SD-WAN orchestration", "Cloud subscriptions", "product", "site/month", "18",
     "79"),
    ("CL-DR", "Disaster recovery site", "Cloud subscriptions", "product", "month", "420",
     "1200"),
    ("SUP-BAS", "Support Basic", "Support plans", "service", "device/year", "8", "25"),
    ("SUP-PLUS", "Support Plus (next business day)", "Support plans", "service", "device/year",
     "22", "60"),
    ("SUP-PREM", "Support Premium (4 hours)", "Support plans", "service", "device/year", "55",
     "140"),
    ("SUP-TAM", "Technical account manager", "Support plans", "service", "month", "3800",
     "8500"),
    ("PS-INST", "Installation", "Professional services", "service", "hour", "65", "165"),
    ("PS-SURV", "Site survey", "Professional services", "service", "site", "380", "950"),
    ("PS-DESIGN", "Network design", "Professional services", "service", "day", "720", "1800"),
    ("PS-MIGR", "Migration", "Professional services", "service", "day", "680", "1600"),
    ("PS-TRAIN", "Training seat (2 days)", "Professional services", "service", "seat", "180",
     "650"),
    ("PS-HEALTH", "Network health check", "Professional services", "service", "site", "600",
     "1500"),
    ("PS-PM", "Project management", "Professional services", "service", "day", "640", "1450"),
    ("PS-ONSITE", "On-site engineer", "Professional services", "service", "day", "760",
     "1900"),
    ("PS-REMOTE", "Remote engineer", "Professional services", "service", "hour", "58", "140"),
]
BUNDLE = ("KIT-BRANCH", "Branch office kit", "Network hardware",
          [("NET-RT-100", 1), ("NET-SW-24", 2), ("NET-AP-6", 4), ("PS-INST", 8)], "3490")
HEALTHCARE_PRICES = {"SW-MGR-STD": "105", "SW-MGR-PRO": "210", "SW-SEC-STD": "130",
                     "SW-SEC-ADV": "255", "SW-MDM": "62"}
EUR_PER_USD = D("0.92")
US_SALES_TAX = {"CA": "7.25", "NY": "4", "TX": "6.25", "FL": "6", "WA": "6.5", "IL": "6.25",
                "PA": "6", "MA": "6.25", "GA": "4", "NC": "4.75", "OH": "5.75", "MI": "6",
                "NJ": "6.625", "VA": "5.3", "AZ": "5.6", "CO": "2.9", "TN": "7", "IN": "7",
                "MN": "6.875", "WI": "5"}
VAT = {"DE": ("Germany VAT", "19"), "FR": ("France VAT", "20"), "GB": ("UK VAT", "20")}
# 1 unit of the base currency in USD, a year ago; the rates then drift a little each month.
RATES = {"EUR": D("1.085"), "GBP": D("1.27"), "CAD": D("0.735"), "JPY": D("0.00665")}
# Classes are sold in blocks well below the seat price: their floor is lower.
OVERRIDES = {"PS-TRAIN": {"max_discount_pct": D(50)}}
LIST_PRICES = {sku: D(price) for sku, *_, price in PRODUCTS}
MAX_ACCOUNTS = 200_000
CONTRACTS = 5


def build(org: DemoOrg, *, accounts: int, today: date, rng: random.Random,
          log: Callable[[str], None]) -> None:
    """Create the catalogue and its prices (skipped above MAX_ACCOUNTS: the benchmark
    databases do not need them)."""
    if accounts > MAX_ACCOUNTS:
        log("Pricing: skipped at this scale.")
        return
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
    if admin is None:
        log("Pricing: no admin to build the catalogue with.")
        return
    families = {name: services.create_family(by=admin, name=name, max_discount_pct=floor,
                                             min_margin_pct=margin)
                for name, (floor, margin) in FAMILIES.items()}
    usd = services.create_price_book(by=admin, name="Standard USD", currency="USD",
                                     is_standard=True)
    eur = services.create_price_book(by=admin, name="Standard EUR", currency="EUR",
                                     is_standard=True)
    health = services.create_price_book(
        by=admin, name="Healthcare USD", currency="USD", segment="Healthcare",
        description="Licence prices agreed for the healthcare vertical.")
    products = _products(admin, families, usd, eur, health)
    _rules(admin, products, families, usd, today)
    _contracts(admin, products, today)
    _taxes(admin)
    _exchange_rates(admin, today, rng)
    log(f"Pricing: {len(products)} products, 3 price books, rules, taxes, exchange rates.")


def _eur(usd_price: Decimal) -> Decimal:
    """EUR list prices: converted and rounded to a whole euro (x.00), as a catalogue prints."""
    return (usd_price * EUR_PER_USD).quantize(D(1)) if usd_price >= 10 else \
        (usd_price * EUR_PER_USD).quantize(D("0.01"))


def _products(admin: User, families: dict[str, ProductFamily], usd: PriceBook,
              eur: PriceBook, health: PriceBook) -> dict[str, Product]:
    products: dict[str, Product] = {}
    for sku, name, family, kind, unit, cost, price in PRODUCTS:
        product = services.create_product(by=admin, sku=sku, name=name,
                                          family=families[family], kind=kind, unit=unit,
                                          cost=D(cost), **OVERRIDES.get(sku, {}))
        products[sku] = product
        services.set_entry(usd, product, by=admin, list_price=D(price))
        services.set_entry(eur, product, by=admin, list_price=_eur(D(price)))
        if sku in HEALTHCARE_PRICES:
            services.set_entry(health, product, by=admin, list_price=D(HEALTHCARE_PRICES[sku]))
    sku, name, family, parts, price = BUNDLE
    kit = services.create_product(by=admin, sku=sku, name=name, family=families[family],
                                  kind="bundle", description="Everything a branch office "
                                  "needs, installed: router, two switches, four access points.")
    services.set_bundle_components(kit, [(products[s], D(q)) for s, q in parts], by=admin)
    services.set_entry(usd, kit, by=admin, list_price=D(price),
                       floor_price=D(price) * D("0.8"))
    services.set_entry(eur, kit, by=admin, list_price=_eur(D(price)))
    products[sku] = kit
    return products


def _rules(admin: User, products: dict[str, Product], families: dict[str, ProductFamily],
           usd: PriceBook, today: date) -> None:
    # Tiers in the standard book only: the healthcare book's licence prices are already net.
    for sku, tiers in (("SW-MGR-STD", [(1, 120), (50, 105), (250, 90), (1000, 75)]),
                       ("SW-MGR-PRO", [(1, 240), (50, 210), (250, 180), (1000, 150)]),
                       ("SW-SEC-STD", [(1, 150), (100, 130), (500, 110)]),
                       ("SW-SEC-ADV", [(1, 290), (100, 250), (500, 215)]),
                       ("SW-VPN", [(1, 60), (100, 48), (1000, 36)])):
        services.create_rule(by=admin, name=f"{sku} volume tiers", kind="graduated",
                             product=products[sku], price_book=usd,
                             description="Each seat priced by its tier.",
                             tiers=[(D(q), D(p)) for q, p in tiers])
    services.create_rule(by=admin, name="Access points: all-units pricing", kind="all_units",
                         product=products["NET-AP-6"], currency="USD",
                         tiers=[(D(1), D(219)), (D(20), D(199)), (D(100), D(179))])
    services.create_rule(by=admin, name="Training seats in blocks", kind="block",
                         product=products["PS-TRAIN"], currency="USD",
                         tiers=[(D(6), D(3900)), (D(13), D(6200))],
                         description="Up to five seats at the seat price; 6–12 seats and "
                                     "13 or more are flat-priced classes.")
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    quarter_end = _month_start(quarter_start, -3) - timedelta(days=1)
    services.create_rule(by=admin, name="Cloud quarter promotion", kind="promotion",
                         family=families["Cloud subscriptions"], discount_pct=D(15),
                         valid_from=quarter_start, valid_to=quarter_end)
    services.create_rule(by=admin, name="Support Premium launch", kind="promotion",
                         product=products["SUP-PREM"], discount_pct=D(10),
                         min_quantity=D(50), valid_from=quarter_start, valid_to=quarter_end)


def _contracts(admin: User, products: dict[str, Product], today: date) -> None:
    biggest = (Account.objects.filter(lifecycle=Lifecycle.CUSTOMER)
               .exclude(annual_revenue__isnull=True).order_by("-annual_revenue", "id")
               [:CONTRACTS])
    for i, account in enumerate(biggest):
        for sku, share in (("SW-MGR-PRO", D("0.72")), ("NET-SW-48P", D("0.8")),
                           ("SUP-PLUS", D("0.85"))):
            services.create_rule(
                by=admin, name=f"{account.name}: {sku} contract", kind="contract",
                product=products[sku], account=account, currency="USD",
                unit_price=(LIST_PRICES[sku] * share).quantize(D("0.01")),
                valid_from=today.replace(day=1) - timedelta(days=30 * (i + 2)),
                valid_to=date(today.year + 1, 12, 31))


def _taxes(admin: User) -> None:
    for state, rate in US_SALES_TAX.items():
        services.create_tax_rate(by=admin, name=f"{state} sales tax", country="US", state=state,
                                 rate=D(rate))
    for country, (name, rate) in VAT.items():
        services.create_tax_rate(by=admin, name=name, country=country, rate=D(rate),
                                 prices_include_tax=True)


def _exchange_rates(admin: User, today: date, rng: random.Random) -> None:
    """Monthly rates for the last twelve months (USD is the quote currency)."""
    for currency, start in RATES.items():
        rate = start
        for months_ago in range(12, -1, -1):
            first = _month_start(today, months_ago)
            rate = (rate * D(str(1 + rng.uniform(-0.015, 0.015)))).quantize(D("0.000001"))
            services.create_exchange_rate(by=admin, base=currency, quote="USD", rate=rate,
                                          date=first)


def _month_start(today: date, months_ago: int) -> date:
    index = today.year * 12 + today.month - 1 - months_ago
    return date(index // 12, index % 12 + 1, 1)
