"""The catalogue and what it costs: products and their families, bundles, price books and
their entries, pricing rules (volume tiers, block prices, contracts, promotions, bundle
prices), tax rates by region and dated exchange rates.

Unit prices are kept with four decimals (a unit may cost a fraction of a cent); amounts on
a quote are rounded to the currency's minor units by the pricing engine
(`salesplan.engines.pricing` documents the rule).
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from salesplan.core.models import TimeStampedModel, VersionedModel
from salesplan.core.money import CurrencyField
from salesplan.customers.models import Tier

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]
NON_NEGATIVE = [MinValueValidator(Decimal(0))]


def UnitPriceField(**kwargs) -> models.DecimalField:  # noqa: N802 - reads like a field class
    """A price per unit: 18 digits, 4 decimals (rounded to minor units only on a line)."""
    kwargs.setdefault("max_digits", 18)
    kwargs.setdefault("decimal_places", 4)
    kwargs.setdefault("validators", NON_NEGATIVE)
    return models.DecimalField(**kwargs)


def PercentField(**kwargs) -> models.DecimalField:  # noqa: N802
    kwargs.setdefault("max_digits", 5)
    kwargs.setdefault("decimal_places", 2)
    kwargs.setdefault("validators", PERCENT)
    return models.DecimalField(**kwargs)


def QuantityField(**kwargs) -> models.DecimalField:  # noqa: N802
    kwargs.setdefault("max_digits", 14)
    kwargs.setdefault("decimal_places", 4)
    return models.DecimalField(**kwargs)


class ProductKind(models.TextChoices):
    PRODUCT = "product", "Product"
    SERVICE = "service", "Service"
    BUNDLE = "bundle", "Bundle"


class ProductFamily(VersionedModel):
    """A group of products (hardware, licences, services…), possibly inside a larger one.
    Its pricing guard rails — the deepest discount off list and the minimum margin — apply
    to every product below it unless a product or a nearer family sets its own; pricing
    rules set on a family apply to the products of its child families too."""

    name = models.CharField(max_length=120, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    description = models.TextField(blank=True)
    max_discount_pct = PercentField(
        null=True, blank=True, verbose_name="floor (max. discount off list, %)",
        help_text="The floor price is the list price less this discount.")
    min_margin_pct = PercentField(null=True, blank=True, verbose_name="minimum margin (%)")

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "product families"

    def __str__(self) -> str:
        return self.name


class Product(VersionedModel):
    """Something the company sells: a product, a service or a bundle of other products.
    The cost (per unit, in its own currency) gives the margin on every quote line."""

    sku = models.CharField("SKU", max_length=64, unique=True, validators=[RegexValidator(
        r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        "Use letters, digits, dots, dashes, slashes and underscores.")])
    name = models.CharField(max_length=200)
    family = models.ForeignKey(ProductFamily, on_delete=models.PROTECT, related_name="products")
    kind = models.CharField(max_length=10, choices=ProductKind.choices,
                            default=ProductKind.PRODUCT)
    unit = models.CharField(max_length=20, default="each",
                            help_text="What one unit is: each, hour, user/year…")
    cost = UnitPriceField(default=Decimal(0))
    cost_currency = CurrencyField()
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    max_discount_pct = PercentField(
        null=True, blank=True, verbose_name="floor (max. discount off list, %)",
        help_text="Overrides the family's floor.")
    min_margin_pct = PercentField(null=True, blank=True, verbose_name="minimum margin (%)",
                                  help_text="Overrides the family's minimum margin.")

    class Meta:
        ordering = ["sku"]
        indexes = [models.Index(fields=["family", "sku"]), models.Index(fields=["active", "sku"])]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Bundle(TimeStampedModel):
    """A product sold as a set of component products. Its list price is its own price book
    entry when it has one (the bundle price), else the sum of its components' list prices."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="bundle")

    class Meta:
        ordering = ["product__sku"]

    def __str__(self) -> str:
        return str(self.product)


class BundleComponent(models.Model):
    """One component of a bundle and how many of it one bundle contains."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="components")
    component = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField(validators=[MinValueValidator(Decimal("0.0001"))])

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["bundle", "component"],
                                               name="bundle_component_once")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.component}"


class PriceBook(VersionedModel):
    """The list prices in one currency. Exactly one book per currency is the standard
    book; others apply to a segment (industry), a region (country or country-state) or an
    account tier, during their validity dates, and fall back to the standard book for
    products they do not list."""

    name = models.CharField(max_length=120, unique=True)
    currency = CurrencyField()
    is_standard = models.BooleanField("standard", default=False)
    segment = models.CharField(max_length=80, blank=True,
                               help_text="An account industry, or blank for all.")
    region = models.CharField(max_length=20, blank=True,
                              help_text="A country (US) or state (US-CA), or blank for all.")
    tier = models.CharField(max_length=20, choices=Tier.choices, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["currency", "-is_standard", "name"]
        constraints = [
            models.UniqueConstraint(fields=["currency"], condition=Q(is_standard=True),
                                    name="one_standard_price_book_per_currency"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": ["The book cannot end before it starts."]})
        if self.is_standard and (self.segment or self.region or self.tier):
            raise ValidationError({"is_standard": [
                "The standard book applies to everyone: leave segment, region and tier blank."]})

    def is_valid_on(self, day) -> bool:
        return (self.active and (self.valid_from is None or self.valid_from <= day)
                and (self.valid_to is None or day <= self.valid_to))


class PriceBookEntry(VersionedModel):
    """A product's list price in a price book, with an optional floor price below which a
    line needs an approval."""

    price_book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="entries")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="entries")
    list_price = UnitPriceField()
    floor_price = UnitPriceField(null=True, blank=True)

    class Meta:
        ordering = ["price_book", "product__sku"]
        verbose_name_plural = "price book entries"
        constraints = [models.UniqueConstraint(fields=["price_book", "product"],
                                               name="price_book_entry_once")]

    def __str__(self) -> str:
        return f"{self.price_book}: {self.product.sku} {self.list_price}"


class RuleKind(models.TextChoices):
    GRADUATED = "graduated", "Volume tiers (each unit priced by its tier)"
    ALL_UNITS = "all_units", "All-units volume pricing"
    BLOCK = "block", "Block pricing"
    CONTRACT = "contract", "Contracted price for an account"
    PROMOTION = "promotion", "Promotional discount"
    BUNDLE = "bundle", "Bundle price"


# Kinds whose prices are amounts (so they need a currency) and those carried by tiers.
PRICED_KINDS = {RuleKind.GRADUATED, RuleKind.ALL_UNITS, RuleKind.BLOCK, RuleKind.CONTRACT,
                RuleKind.BUNDLE}
TIERED_KINDS = {RuleKind.GRADUATED, RuleKind.ALL_UNITS, RuleKind.BLOCK}


class PricingRule(VersionedModel):
    """A rule that changes a product's price from its list price.

    - graduated / all-units / block: tiers by quantity (see PriceTier) in one currency,
      for a product or a whole family (and the families below it);
    - contract: a unit price agreed with one account (and its subsidiaries) for a product;
    - promotion: a percent off for a product, a family or everything, between two dates,
      optionally from a minimum quantity;
    - bundle: a unit price for a bundle product.
    A rule may be limited to one price book and to validity dates."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=RuleKind.choices)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="pricing_rules")
    family = models.ForeignKey(ProductFamily, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="pricing_rules")
    account = models.ForeignKey("customers.Account", null=True, blank=True,
                                on_delete=models.CASCADE, related_name="contracted_prices")
    price_book = models.ForeignKey(PriceBook, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="rules")
    currency = CurrencyField(blank=True, default="")
    unit_price = UnitPriceField(null=True, blank=True)
    discount_pct = PercentField(null=True, blank=True)
    min_quantity = QuantityField(null=True, blank=True, validators=NON_NEGATIVE)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["kind", "name", "id"]
        indexes = [
            models.Index(fields=["kind", "product"]),
            models.Index(fields=["account", "product"]),
        ]

    def __str__(self) -> str:
        return self.name


class PriceTier(models.Model):
    """One step of a tiered rule: from this quantity on, the unit price (graduated and
    all-units) or the flat price of the block (block pricing)."""

    rule = models.ForeignKey(PricingRule, on_delete=models.CASCADE, related_name="tiers")
    min_quantity = QuantityField(validators=NON_NEGATIVE)
    price = UnitPriceField()

    class Meta:
        ordering = ["rule", "min_quantity"]
        constraints = [models.UniqueConstraint(fields=["rule", "min_quantity"],
                                               name="price_tier_once")]

    def __str__(self) -> str:
        return f"from {self.min_quantity}: {self.price}"


class TaxRate(VersionedModel):
    """The sales tax of a country or of one of its states, and whether the prices quoted
    there include it (gross) or not (net)."""

    name = models.CharField(max_length=120)
    country = models.CharField(max_length=2, validators=[RegexValidator(
        r"^[A-Z]{2}$", "Use the two-letter ISO country code, e.g. US.")])
    state = models.CharField(max_length=10, blank=True,
                             help_text="A state or province code, blank for the whole country.")
    rate = models.DecimalField(max_digits=7, decimal_places=4, validators=PERCENT,
                               help_text="Percent, e.g. 7.2500.")
    prices_include_tax = models.BooleanField(default=False)

    class Meta:
        ordering = ["country", "state"]
        constraints = [models.UniqueConstraint(fields=["country", "state"],
                                               name="tax_rate_once_per_region")]

    def __str__(self) -> str:
        return f"{self.region} {self.rate}%"

    @property
    def region(self) -> str:
        return f"{self.country}-{self.state}" if self.state else self.country


class ExchangeRate(VersionedModel):
    """How many units of the quote currency one unit of the base currency buys, from a
    date on (until the next rate of the same pair). A pair is stored in one direction
    only; the other direction divides by the same rate, so a round trip stays exact to
    the rounding."""

    base = CurrencyField()
    quote = CurrencyField()
    rate = models.DecimalField(max_digits=20, decimal_places=10,
                               validators=[MinValueValidator(Decimal("0.0000000001"))])
    date = models.DateField()

    class Meta:
        ordering = ["base", "quote", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["base", "quote", "date"],
                                    name="exchange_rate_once_a_day"),
            models.CheckConstraint(condition=~Q(base=models.F("quote")),
                                   name="exchange_rate_two_currencies"),
        ]

    def __str__(self) -> str:
        return f"1 {self.base} = {self.rate} {self.quote} ({self.date})"
