"""Money is a Decimal amount with an ISO 4217 currency; never a float."""

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import models

# Minor units of the currencies a sales team is likely to quote in; others default to 2.
MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}
CURRENCY_CHOICES = [
    (c, c)
    for c in ("USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "SEK", "NOK", "DKK", "PLN",
              "INR", "BRL", "MXN", "SGD", "NZD", "ZAR", "CNY", "HKD", "KRW")
]
MAX_AMOUNT = Decimal("1e15")


def minor_units(currency: str) -> int:
    return MINOR_UNITS.get(currency, 2)


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half to even (banker's rounding)."""
    exponent = Decimal(1).scaleb(-minor_units(currency))
    return amount.quantize(exponent, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.currency} {self.amount:,.{minor_units(self.currency)}f}"


def AmountField(**kwargs) -> models.DecimalField:  # noqa: N802 - reads like a field class
    """A money amount column: 18 digits, 2 decimals (3-decimal currencies round on entry)."""
    kwargs.setdefault("max_digits", 18)
    kwargs.setdefault("decimal_places", 2)
    return models.DecimalField(**kwargs)


def CurrencyField(**kwargs) -> models.CharField:  # noqa: N802
    kwargs.setdefault("max_length", 3)
    kwargs.setdefault("choices", CURRENCY_CHOICES)
    kwargs.setdefault("default", "USD")
    return models.CharField(**kwargs)


def format_money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return ""
    return str(Money(amount, currency))
