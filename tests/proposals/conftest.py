"""Quotes for the proposals tests: the API caller, and quotes whose lines are written as
priced snapshots (for the tests of transitions, approvals and the PDF, which read the
stored figures) or priced by the engine against a small catalogue."""

from datetime import timedelta
from decimal import Decimal as D

import pytest

from salesplan.core.clock import company_today
from salesplan.proposals.models import Quote, QuoteLine, QuoteVersion

from ..api.conftest import api_as  # noqa: F401 - the API caller fixture, shared
from ..factories import make_contact, make_opportunity


def stored_quote(owner, lines, *, opportunity=None, currency="USD", tax_rate=D(0),
                 title="Network refresh") -> Quote:
    """A draft quote whose lines are stored as priced: each line is
    (sku, quantity, list unit price, discount %, unit cost); amounts are computed here
    the way the engine rounds them (half to even, to cents)."""
    opportunity = opportunity or make_opportunity(owner, amount=D("1000.00"))
    quote = Quote.objects.create(number=f"T{Quote.objects.count() + 1:05d}", title=title,
                                 opportunity=opportunity, owner=owner, currency=currency)
    contact = make_contact(owner, opportunity.account, first_name="Dana", last_name="Reyes")
    version = QuoteVersion.objects.create(
        quote=quote, number=1, currency=currency, contact=contact,
        valid_until=company_today() + timedelta(days=30), payment_terms="Net 30",
        delivery_terms="Within 4 weeks of order", priced_on=company_today())
    cent = D("0.01")
    subtotal = tax_total = discount_total = D(0)
    for position, (sku, quantity, price, discount, cost) in enumerate(lines, start=1):
        quantity, price, discount, cost = D(quantity), D(price), D(discount), D(cost)
        list_amount = (quantity * price).quantize(cent)
        net = (quantity * price * (1 - discount / 100)).quantize(cent)
        tax = (net * tax_rate / 100).quantize(cent)
        margin = (net - quantity * cost).quantize(cent)
        QuoteLine.objects.create(
            quote_version=version, position=position, quantity=quantity,
            requested_discount_pct=discount, sku=sku, name=f"Product {sku}", unit="each",
            list_unit_price=price, net_unit_price=(net / quantity).quantize(D("0.0001")),
            discount_pct=discount, line_net=net, tax_rate=tax_rate, tax_amount=tax,
            line_total=net + tax, unit_cost=cost, margin=margin,
            margin_pct=(margin / net * 100).quantize(cent) if net else None,
            explanation="List price\nManual discount")
        subtotal += net
        tax_total += tax
        discount_total += list_amount - net
    version.subtotal, version.tax_total, version.total = subtotal, tax_total, subtotal + tax_total
    version.discount_total = discount_total
    version.max_discount_pct = max(D(line[3]) for line in lines) if lines else D(0)
    version.save()
    quote.total = version.total
    quote.save()
    return quote


@pytest.fixture
def west_quote(org):
    """A West rep's draft: 10 routers at 100 less 15% (over the rep's 10%) and 5 hours of
    installation at 150 with no discount."""
    return stored_quote(org.west_rep, [("RT-100", "10", "100", "15", "60"),
                                       ("SV-INST", "5", "150", "0", "40")])


def qv(quote, **body) -> dict:
    """The body of a change to a quote carrying the quote's current version, as sent by a
    client that has just read it (a quote, a quote's id or its API answer)."""
    pk = quote if isinstance(quote, int) else quote["id"] if isinstance(quote, dict) else quote.pk
    return {**body, "version": Quote.objects.get(pk=pk).version}


def qv_query(quote) -> str:
    """`?version=n` for a DELETE of (or on) a quote."""
    return f"?version={qv(quote)['version']}"
