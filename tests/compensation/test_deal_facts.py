"""Deals take their product family, products and margin from their quote: a component
limited to a family counts the deals mostly of that family; a margin component is paid on
the accepted quote's margin rate applied to the deal's amount."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from salesplan.compensation import services
from salesplan.compensation.deal_facts import deal_facts
from salesplan.compensation.models import CompStatement
from salesplan.pricing.models import Product, ProductFamily
from salesplan.proposals.models import Quote, QuoteLine, QuoteStatus, QuoteVersion

from .conftest import won

BY_FAMILY = {"commissions": [
    {"key": "software", "label": "Software", "quota": "100000", "families": ["Software"],
     "tiers": [{"from": "0", "rate": "0.1"}]},
    {"key": "margin", "label": "Margin", "quota": "100000", "on_margin": True,
     "tiers": [{"from": "0", "rate": "0.05"}]}]}


@pytest.fixture
def catalogue(db):
    software, hardware = (ProductFamily.objects.create(name=name)
                          for name in ("Software", "Hardware"))
    return {"LIC": Product.objects.create(sku="LIC", name="Licence", family=software),
            "SRV": Product.objects.create(sku="SRV", name="Server", family=hardware)}


def quote(opportunity, lines, *, status=QuoteStatus.DRAFT, number=1):
    """A quote with its current version's lines: (product, net, margin) each."""
    made = Quote.objects.create(number=f"C{Quote.objects.count() + 1:05d}", title="Offer",
                                opportunity=opportunity, owner=opportunity.owner,
                                status=status, current_number=number)
    for n in range(1, number + 1):
        version = QuoteVersion.objects.create(quote=made, number=n,
                                              valid_until=date(2026, 1, 1) + timedelta(30))
        for position, (product, net, margin) in enumerate(lines, start=1):
            QuoteLine.objects.create(
                quote_version=version, position=position, product=product, quantity=D(1),
                sku=product.sku, name=product.name, list_unit_price=D(net),
                net_unit_price=D(net), discount_pct=D(0), line_net=D(net), line_total=D(net),
                margin=None if margin is None else D(margin))
    return made


def test_family_products_and_margin_from_the_quote(org, catalogue):
    deal = won(org.west_rep, "100000", date(2026, 1, 5))
    quote(deal, [(catalogue["SRV"], "90000", "9000")])  # an older draft, mostly hardware
    quote(deal, [(catalogue["LIC"], "70000", "56000"), (catalogue["SRV"], "30000", "6000")],
          status=QuoteStatus.ACCEPTED)
    other = won(org.west_rep, "20000", date(2026, 1, 6))
    quote(other, [(catalogue["SRV"], "20000", "10000")])
    facts = deal_facts([deal.pk, other.pk])
    # the accepted quote: 70,000 of 100,000 in Software; margin 62,000 ÷ 100,000
    assert facts[deal.pk].family == "Software" and facts[deal.pk].margin_rate == D("0.62")
    assert facts[deal.pk].products == {"LIC", "SRV"}
    # a draft tells the family but not the margin
    assert facts[other.pk].family == "Hardware" and facts[other.pk].margin_rate is None


def test_only_the_current_version_counts(org, catalogue):
    deal = won(org.west_rep, "1000", date(2026, 1, 5))
    quote(deal, [(catalogue["LIC"], "1000", None)], number=2)
    QuoteLine.objects.filter(quote_version__number=1).update(product=catalogue["SRV"])
    assert deal_facts([deal.pk])[deal.pk].family == "Software"


def test_a_family_component_and_a_margin_component_on_real_deals(org, comp, catalogue):
    plan = services.create_plan(by=org.admin, data={
        "name": "Family plan", "person": org.west_rep, "starts": date(2026, 1, 1),
        "ends": date(2026, 12, 31), "effective_from": date(2026, 1, 1), "currency": "USD",
        "definition": BY_FAMILY})
    services.activate_plan(plan, by=org.admin, expected_version=plan.version)
    software = won(org.west_rep, "100000", date(2026, 1, 5))
    quote(software, [(catalogue["LIC"], "70000", "56000"), (catalogue["SRV"], "30000", "6000")],
          status=QuoteStatus.ACCEPTED)
    hardware = won(org.west_rep, "20000", date(2026, 1, 6))
    quote(hardware, [(catalogue["SRV"], "20000", "10000")])
    services.calculate_period(comp.january)
    lines = {line.component: line for line in CompStatement.objects.get(
        rep=org.west_rep, period=comp.january).lines.all()}
    # Software: only the first deal, 100,000 × 10 % = 10,000
    assert lines["software"].amount == D("10000.00")
    assert {t["deal_id"] for t in lines["software"].trace} == {software.pk}
    # Margin: 100,000 × 62 % = 62,000 × 5 % = 3,100; the draft-only deal has no margin
    assert lines["margin"].amount == D("3100.00")


def test_a_plan_names_only_families_of_the_catalogue(org, catalogue):
    with pytest.raises(ValidationError) as refused:
        services.create_plan(by=org.admin, data={
            "name": "Typo plan", "role": "rep", "starts": date(2026, 1, 1),
            "ends": date(2026, 12, 31), "effective_from": date(2026, 1, 1),
            "currency": "USD", "definition": {"commissions": [
                {**BY_FAMILY["commissions"][0], "families": ["Sofware"]}]}})
    message = refused.value.message_dict["definition"][0]
    assert message.startswith("commissions[0].families: no product family named 'Sofware'")
    assert "Hardware, Software" in message
