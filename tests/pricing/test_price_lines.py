"""price_lines against the database: which book, which rule, tax, errors by line."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salesplan.pricing import services
from salesplan.pricing.services import price_lines
from salesplan.pricing.types import LineRequest

from .conftest import TODAY


def _price(catalogue, *lines, account=None, **kwargs):
    kwargs.setdefault("currency", "USD")
    kwargs.setdefault("on_date", TODAY)
    return price_lines(account=account or catalogue.account,
                       lines=[LineRequest(*line) for line in lines], **kwargs)


def test_graduated_tiers_contract_block_and_promotion_with_california_tax(catalogue):
    c = catalogue
    quote = _price(c, (c.router.pk, D(11)), (c.switch.pk, D(3)), (c.cable.pk, D(12)),
                   (c.install.pk, D(8), D(5)))
    router, switch, cable, install = quote.lines
    # 10 × 100 + 1 × 90; tax 7.25% of 1,090 = 79.025 → 79.02 (half to even).
    assert (router.line_net, router.tax_amount, router.line_total) == (
        D("1090.00"), D("79.02"), D("1169.02"))
    assert router.net_unit_price == D("99.0909") and router.discount_pct == D("17.42")
    assert router.margin == D("430.00") and router.margin_pct == D("39.45")
    assert any("10 × 100.0000 USD + 1 × 90.0000 USD" in e for e in router.explanation)
    # Acme's contract beats the hardware family's all-units tiers.
    assert switch.line_net == D("127.50") and switch.net_unit_price == D("42.5000")
    assert any("Contracted price 42.5000 USD" in e for e in switch.explanation)
    # 12 metres fall in the block from 11: 150 flat.
    assert cable.line_net == D("150.00")
    # 8 h × 150 × 0.9 (promotion) × 0.95 (manual) = 1,026.00
    assert install.line_net == D("1026.00") and install.discount_pct == D("14.50")
    assert install.explanation[1] == "Promotion “Summer services”: 10% off, until 2026-08-31."
    assert quote.subtotal == D("2393.50")
    assert quote.tax_total == sum(line.tax_amount for line in quote.lines)
    assert quote.total == quote.subtotal + quote.tax_total
    assert quote.price_book_id == c.usd.pk and quote.max_discount_pct == D("17.42")


def test_promotion_outside_its_dates_does_not_apply(catalogue):
    quote = _price(catalogue, (catalogue.install.pk, D(2)), on_date=date(2026, 9, 1))
    assert quote.lines[0].line_net == D("300.00")


def test_segment_book_wins_and_falls_back_to_the_standard_book(catalogue):
    c = catalogue
    quote = _price(c, (c.router.pk, D(1)), (c.install.pk, D(1)), account=c.other_account)
    assert quote.price_book_id == c.health_usd.pk
    assert quote.lines[0].list_unit_price == D("110.0000")
    assert "the standard price book “Standard USD”" in quote.lines[1].explanation[0]
    assert quote.lines[0].tax_amount == D("0.00")  # no New York rate recorded


def test_bundle_priced_as_the_sum_of_its_components_and_flagged_under_its_floor(catalogue):
    c = catalogue
    line = _price(c, (c.kit.pk, D(2), D(40))).lines[0]
    # 1 router (120) + 2 switches (50) = 220; 40% off → 132 < floor 220 × 0.7 = 154.
    assert line.list_unit_price == D("220.0000") and line.line_net == D("264.00")
    assert line.floor_price == D("154.0000") and line.below_floor
    assert line.unit_cost == D("100.0000")  # components' costs: 60 + 2 × 20
    assert not line.below_min_margin  # 264 − 200 = 64 → 24.24% ≥ 20%


def test_gross_prices_in_germany_need_an_exchange_rate_for_the_cost(catalogue, org):
    c = catalogue
    with pytest.raises(ValidationError) as err:
        _price(c, (c.router.pk, D(1)), currency="EUR", tax_region="DE")
    assert err.value.message_dict == {"currency": [
        "No exchange rate between USD and EUR on or before 2026-06-15: it converts the cost "
        "of RT-100 for the margin."]}
    services.create_exchange_rate(by=org.admin, base="USD", quote="EUR", rate=D("0.9"),
                                  date=date(2026, 1, 1))
    quote = _price(c, (c.router.pk, D(1)), currency="EUR", tax_region="DE")
    line = quote.lines[0]
    # 100 gross includes 100 × 19 / 119 = 15.97 tax.
    assert (line.line_total, line.tax_amount, line.line_net) == (
        D("100.00"), D("15.97"), D("84.03"))
    assert line.unit_cost == D("54.0000") and line.margin == D("30.03")
    assert quote.prices_include_tax and quote.total == D("100.00")


def test_every_bad_line_is_named_and_nothing_priced(catalogue, org):
    c = catalogue
    services.update_product(c.cable, by=org.admin, active=False)
    with pytest.raises(ValidationError) as err:
        _price(c, (c.router.pk, D(-1)), (c.router.pk, D(1), D(101)), (999999, D(1)),
               (c.cable.pk, D(1)), (c.router.pk, D(0)))
    assert err.value.message_dict == {
        "lines[0].quantity": ["Quantity must be positive."],
        "lines[1].discount_pct": ["Discount must be between 0% and 100%."],
        "lines[2].product_id": ["Unknown product 999999."],
        "lines[3].product_id": ["CB-1 is inactive and cannot be quoted."],
        "lines[4].quantity": ["Quantity must be positive."],
    }


def test_no_price_in_the_book_unknown_currency_and_expired_book(catalogue, org):
    c = catalogue
    services.create_exchange_rate(by=org.admin, base="EUR", quote="USD", rate=D("1.1"),
                                  date=date(2026, 1, 1))
    with pytest.raises(ValidationError) as err:
        _price(c, (c.router.pk, D(1)), (c.switch.pk, D(1)), currency="EUR")
    assert err.value.message_dict == {
        "lines[1].product_id": ["SW-24 has no price in the price book for EUR."]}
    with pytest.raises(ValidationError) as err:
        _price(c, (c.router.pk, D(1)), currency="XYZ")
    assert err.value.message_dict == {"currency": ["Unknown currency “XYZ”."]}
    book = services.update_price_book(c.health_usd, by=org.admin, valid_to=date(2026, 5, 31))
    with pytest.raises(ValidationError) as err:
        _price(c, (c.router.pk, D(1)), price_book=book)
    assert err.value.message_dict == {
        "price_book": ["Price book “Healthcare USD” expired on 2026-05-31."]}
    # Without an explicit book, the expired one is skipped for the standard book.
    assert _price(c, (c.router.pk, D(1)), account=c.other_account).price_book_id == c.usd.pk


def test_lines_need_an_account(catalogue):
    with pytest.raises(ValidationError) as err:
        price_lines(account=None, currency="USD", on_date=TODAY,
                    lines=[LineRequest(catalogue.router.pk, D(1))])
    assert err.value.message_dict == {"account": [
        "Lines are priced for an account: choose one."]}


def test_a_rep_cannot_price_for_an_account_they_cannot_see(catalogue, org):
    c = catalogue
    with pytest.raises(PermissionDenied):
        _price(c, (c.router.pk, D(1)), by=org.east_rep)
    assert _price(c, (c.router.pk, D(1)), by=org.west_rep).lines[0].line_net == D("100.00")
