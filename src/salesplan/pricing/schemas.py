"""The pricing API's request and response bodies (see api.py for the routes)."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema

from salesplan.core.api_support import (
    Currency,
    InputSchema,
    MoneyOut,
    RecordId,
    Version,
    choice_of,
)
from salesplan.customers.models import Tier

from . import selectors
from .models import PricingRule, Product, ProductKind, RuleKind

UnitPrice = Annotated[Decimal, Field(ge=0, le=Decimal("1e14"), max_digits=18, decimal_places=4)]


Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


Quantity = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]


class FamilyOut(Schema):
    id: int
    name: str
    parent_id: int | None
    description: str
    max_discount_pct: Decimal | None
    min_margin_pct: Decimal | None
    version: int


class FamilyIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    parent_id: RecordId | None = None
    description: str = Field("", max_length=5000)
    max_discount_pct: Percent | None = Field(
        None, description="The floor: list price less this discount.")
    min_margin_pct: Percent | None = None


class FamilyPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    parent_id: RecordId | None = None
    description: str | None = Field(None, max_length=5000)
    max_discount_pct: Percent | None = None
    min_margin_pct: Percent | None = None
    version: Version


class BundleComponentOut(Schema):
    product_id: int
    sku: str
    quantity: Decimal


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    family_id: int
    family_name: str
    kind: str
    unit: str
    cost: Decimal
    cost_currency: str
    active: bool
    description: str
    max_discount_pct: Decimal | None
    min_margin_pct: Decimal | None
    version: int

    @staticmethod
    def resolve_family_name(obj: Product) -> str:
        return obj.family.name


class ProductPriceOut(Schema):
    price_book_id: int
    price_book: str
    currency: str
    list_price: Decimal
    floor_price: Decimal | None


class ProductDetailOut(ProductOut):
    components: list[BundleComponentOut] = Field(description="A bundle's components.")
    prices: list[ProductPriceOut] = Field(description="Its list price in each price book.")

    @staticmethod
    def resolve_components(obj: Product) -> list[dict[str, Any]]:
        return [{"product_id": c.component_id, "sku": c.component.sku, "quantity": c.quantity}
                for c in selectors.bundle_components(obj)]

    @staticmethod
    def resolve_prices(obj: Product) -> list[dict[str, Any]]:
        return [{"price_book_id": e.price_book_id, "price_book": e.price_book.name,
                 "currency": e.price_book.currency, "list_price": e.list_price,
                 "floor_price": e.floor_price}
                for e in obj.entries.select_related("price_book").order_by(
                    "price_book__currency", "price_book__name")]


class ProductIn(InputSchema):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    family_id: RecordId
    kind: choice_of(ProductKind) = ProductKind.PRODUCT
    unit: str = Field("each", min_length=1, max_length=20)
    cost: UnitPrice = Decimal(0)
    cost_currency: Currency = "USD"
    active: bool = True
    description: str = Field("", max_length=5000)
    max_discount_pct: Percent | None = None
    min_margin_pct: Percent | None = None


class ProductPatch(InputSchema):
    sku: str | None = Field(None, min_length=1, max_length=64)
    name: str | None = Field(None, min_length=1, max_length=200)
    family_id: RecordId | None = None
    kind: choice_of(ProductKind) | None = None
    unit: str | None = Field(None, min_length=1, max_length=20)
    cost: UnitPrice | None = None
    cost_currency: Currency | None = None
    active: bool | None = None
    description: str | None = Field(None, max_length=5000)
    max_discount_pct: Percent | None = None
    min_margin_pct: Percent | None = None
    version: Version


class ComponentIn(InputSchema):
    product_id: RecordId
    quantity: Quantity


class PriceBookOut(Schema):
    id: int
    name: str
    currency: str
    is_standard: bool
    segment: str
    region: str
    tier: str
    valid_from: date | None
    valid_to: date | None
    active: bool
    description: str
    version: int


class PriceBookIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    currency: Currency
    is_standard: bool = False
    segment: str = Field("", max_length=80, description="An account industry.")
    region: str = Field("", max_length=20, description="US or US-CA; blank for all.")
    tier: choice_of(Tier, blank=True) = ""
    valid_from: date | None = None
    valid_to: date | None = None
    active: bool = True
    description: str = Field("", max_length=5000)


class PriceBookPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    currency: Currency | None = None
    is_standard: bool | None = None
    segment: str | None = Field(None, max_length=80)
    region: str | None = Field(None, max_length=20)
    tier: choice_of(Tier, blank=True) | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    active: bool | None = None
    description: str | None = Field(None, max_length=5000)
    version: Version


class EntryOut(Schema):
    id: int
    price_book_id: int
    product_id: int
    sku: str
    name: str
    list_price: Decimal
    floor_price: Decimal | None
    version: int

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.product.sku

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.product.name


class EntryIn(InputSchema):
    list_price: UnitPrice
    floor_price: UnitPrice | None = None
    version: Version | None = Field(None, description="Required when the product already has "
                                                      "a price in the book: the entry's "
                                                      "version you read (409 if it changed).")


class TierIO(Schema):
    min_quantity: Quantity = Field(description="From this unit on (1, 11, …).")
    price: UnitPrice = Field(description="Unit price, or the block's flat price.")


class TierOut(TierIO):
    """A tier as read back: its own schema name, since amounts are written as strings."""


class PriceRuleOut(Schema):
    id: int
    name: str
    kind: str
    product_id: int | None
    family_id: int | None
    account_id: int | None
    price_book_id: int | None
    currency: str
    unit_price: Decimal | None
    discount_pct: Decimal | None
    min_quantity: Decimal | None
    valid_from: date | None
    valid_to: date | None
    active: bool
    description: str
    tiers: list[TierOut]
    version: int

    @staticmethod
    def resolve_tiers(obj: PricingRule) -> list[dict[str, Decimal]]:
        return [{"min_quantity": t.min_quantity, "price": t.price} for t in obj.tiers.all()]


class PriceRuleIn(InputSchema):
    name: str = Field(min_length=1, max_length=200)
    kind: choice_of(RuleKind)
    product_id: RecordId | None = None
    family_id: RecordId | None = None
    account_id: RecordId | None = Field(None, description="Contracted prices only.")
    price_book_id: RecordId | None = None
    currency: Currency | None = None
    unit_price: UnitPrice | None = None
    discount_pct: Percent | None = None
    min_quantity: Quantity | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    active: bool = True
    description: str = Field("", max_length=5000)
    tiers: list[TierIO] | None = None


class PriceRulePatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=200)
    product_id: RecordId | None = None
    family_id: RecordId | None = None
    account_id: RecordId | None = None
    price_book_id: RecordId | None = None
    currency: Currency | None = None
    unit_price: UnitPrice | None = None
    discount_pct: Percent | None = None
    min_quantity: Quantity | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    active: bool | None = None
    description: str | None = Field(None, max_length=5000)
    tiers: list[TierIO] | None = Field(None, description="Replaces every tier.")
    version: Version


class TaxRateOut(Schema):
    id: int
    name: str
    country: str
    state: str
    region: str
    rate: Decimal
    prices_include_tax: bool
    version: int


class TaxRateIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    country: str = Field(min_length=2, max_length=2)
    state: str = Field("", max_length=10)
    rate: Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)]
    prices_include_tax: bool = False


class TaxRatePatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    rate: Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)] | None = None
    prices_include_tax: bool | None = None
    version: Version


class ExchangeRateOut(Schema):
    id: int
    base: str
    quote: str
    rate: Decimal
    date: date
    version: int


class ExchangeRateIn(InputSchema):
    base: Currency
    quote: Currency
    rate: Annotated[Decimal, Field(gt=0, max_digits=20, decimal_places=10)]
    date: date
    version: Version | None = Field(None, description="Required when a rate of this pair "
                                                      "and date is already recorded: its "
                                                      "version you read.")


class CurrencyConversionOut(Schema):
    amount: MoneyOut
    currency: str
    converted: MoneyOut
    to: str
    date: date


class ConvertParams(Schema):
    amount: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
    source: Currency = Field(alias="from")
    to: Currency
    on: date | None = Field(None, description="Default: today.")


class PriceLineIn(InputSchema):
    product_id: int = Field(description="Or give the sku.", default=0)
    sku: str | None = Field(None, max_length=64)
    quantity: Decimal
    discount_pct: Decimal = Field(Decimal(0), description="Extra manual discount, 0–100.")


class PriceIn(InputSchema):
    account_id: RecordId
    currency: Currency | None = Field(None, description="Default: the account's currency.")
    on_date: date | None = Field(None, description="Default: today.")
    price_book_id: RecordId | None = Field(None, description="Default: the account's book.")
    tax_region: str | None = Field(None, max_length=20, description=(
        "US-CA, DE…; blank for no tax; default: the account's country and state."))
    lines: list[PriceLineIn] = Field(max_length=2000)


class PricedLineOut(Schema):
    index: int
    product_id: int
    sku: str
    name: str
    unit: str
    quantity: Decimal
    list_unit_price: MoneyOut
    net_unit_price: MoneyOut
    discount_pct: Decimal
    list_amount: MoneyOut
    line_net: MoneyOut
    tax_rate: Decimal
    tax_amount: MoneyOut
    line_total: MoneyOut
    unit_cost: MoneyOut
    margin: MoneyOut
    margin_pct: Decimal | None
    min_margin_pct: Decimal | None
    floor_price: MoneyOut | None
    below_floor: bool
    below_min_margin: bool
    rule_ids: list[int]
    explanation: list[str]


class PricedQuoteOut(Schema):
    currency: str
    price_book_id: int | None
    lines: list[PricedLineOut]
    subtotal: MoneyOut
    discount_total: MoneyOut
    tax_total: MoneyOut
    total: MoneyOut
    prices_include_tax: bool
    tax_label: str
    max_discount_pct: Decimal
    min_margin_pct: Decimal | None
