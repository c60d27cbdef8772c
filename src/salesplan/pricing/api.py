"""API of the pricing app (mounted at /api/v1/pricing). Everyone reads; admins write.

    GET/POST          /families, GET/PATCH/DELETE /families/{id}
    GET/POST          /products, GET/PATCH/DELETE /products/{id}
    PUT               /products/{id}/components    a bundle's components
    GET/POST          /price-books, GET/PATCH/DELETE /price-books/{id}
    GET               /price-books/{id}/entries
    PUT/DELETE        /price-books/{id}/entries/{product_id}   set or remove a list price
    GET/POST          /rules, GET/PATCH/DELETE /rules/{id}
    GET/POST          /tax-rates, PATCH/DELETE /tax-rates/{id}
    GET/POST          /exchange-rates, DELETE /exchange-rates/{id}
    GET               /convert                     an amount in another currency
    POST              /price                       price lines for an account, explained
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema, Status

from salesplan.core.api_support import (
    Currency,
    InputSchema,
    MoneyOut,
    PageParams,
    RecordId,
    Version,
    VersionParam,
    choice_of,
)
from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound, VersionRequired
from salesplan.core.listing import keyset_page
from salesplan.core.selectors import get_visible
from salesplan.customers.models import Account, Tier

from . import access, selectors, services
from .models import (
    ExchangeRate,
    PriceBook,
    PricingRule,
    Product,
    ProductFamily,
    ProductKind,
    RuleKind,
)
from .types import LineRequest

router = Router(tags=["pricing"])

UnitPrice = Annotated[Decimal, Field(ge=0, le=Decimal("1e14"), max_digits=18, decimal_places=4)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Quantity = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]


def _family(user, pk: int | None) -> ProductFamily | None:
    return None if pk is None else selectors.get_family(user, pk)


def _data(payload: Schema, refs: dict[str, Any]) -> dict[str, Any]:
    """The fields sent, with `*_id` references replaced by the records."""
    data = payload.model_dump(exclude_unset=True)
    data.pop("version", None)
    for key, resolve in refs.items():
        if key in data:
            data[key.removesuffix("_id")] = resolve(data.pop(key))
    return data


# --- families ----------------------------------------------------------------------------


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


@router.get("/families", response=list[FamilyOut], summary="Product families")
def list_families(request):
    return list(selectors.families(request.user))


@router.post("/families", response={201: FamilyOut}, summary="Add a product family")
def create_family(request, payload: FamilyIn):
    data = _data(payload, {"parent_id": lambda pk: _family(request.user, pk)})
    return Status(201, services.create_family(by=request.user, **data))


@router.get("/families/{int:family_id}", response=FamilyOut, summary="One product family")
def get_family(request, family_id: int):
    return selectors.get_family(request.user, family_id)


@router.patch("/families/{int:family_id}", response=FamilyOut, summary="Change a family")
def update_family(request, family_id: int, payload: FamilyPatch):
    family = selectors.get_family(request.user, family_id)
    data = _data(payload, {"parent_id": lambda pk: _family(request.user, pk)})
    return services.update_family(family, by=request.user, version=payload.version, **data)


@router.delete("/families/{int:family_id}", response={204: None}, summary="Delete a family")
def delete_family(request, family_id: int, version: VersionParam):
    services.delete_family(selectors.get_family(request.user, family_id), by=request.user,
                           version=version)
    return Status(204, None)


# --- products ----------------------------------------------------------------------------


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


class ProductPage(Schema):
    items: list[ProductOut]
    next_cursor: str | None
    previous_cursor: str | None


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


class ProductFilters(PageParams):
    family_id: int | None = None
    active: bool | None = None
    kind: choice_of(ProductKind, blank=True) = ""
    q: str = Field("", max_length=100, description="SKU prefix or part of the name.")


@router.get("/products", response=ProductPage, summary="The catalogue (cursor pages by SKU)")
def list_products(request, params: Query[ProductFilters]):
    queryset = selectors.products(request.user, family_id=params.family_id,
                                  active=params.active, q=params.q, kind=params.kind)
    page = keyset_page(queryset, sort_field="sku", sort_key="sku", cursor=params.cursor,
                       limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor}


@router.post("/products", response={201: ProductDetailOut}, summary="Add a product")
def create_product(request, payload: ProductIn):
    data = _data(payload, {"family_id": lambda pk: _family(request.user, pk)})
    product = services.create_product(by=request.user, **data)
    return Status(201, product)


@router.get("/products/{int:product_id}", response=ProductDetailOut, summary="One product")
def get_product(request, product_id: int):
    return selectors.get_product(request.user, product_id)


@router.patch("/products/{int:product_id}", response=ProductDetailOut,
              summary="Change a product (deactivate with active=false)")
def update_product(request, product_id: int, payload: ProductPatch):
    product = selectors.get_product(request.user, product_id)
    data = _data(payload, {"family_id": lambda pk: _family(request.user, pk)})
    product = services.update_product(product, by=request.user, version=payload.version, **data)
    return product


@router.delete("/products/{int:product_id}", response={204: None},
               summary="Delete a product never priced (else deactivate it)")
def delete_product(request, product_id: int, version: VersionParam):
    services.delete_product(selectors.get_product(request.user, product_id), by=request.user,
                            version=version)
    return Status(204, None)


@router.put("/products/{int:product_id}/components", response=ProductDetailOut,
            summary="Replace a bundle's components")
def set_components(request, product_id: int, payload: list[ComponentIn],
                   version: VersionParam):
    """The body is the list of components; `?version=` is the product's version you read."""
    product = selectors.get_product(request.user, product_id)
    parts = [(selectors.get_product(request.user, c.product_id), c.quantity) for c in payload]
    services.set_bundle_components(product, parts, by=request.user, version=version)
    return selectors.get_product(request.user, product_id)


# --- price books and entries ------------------------------------------------------------------


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


class EntryPage(Schema):
    items: list[EntryOut]
    next_cursor: str | None
    previous_cursor: str | None


class EntryIn(InputSchema):
    list_price: UnitPrice
    floor_price: UnitPrice | None = None
    version: Version | None = Field(None, description="Required when the product already has "
                                                      "a price in the book: the entry's "
                                                      "version you read (409 if it changed).")


@router.get("/price-books", response=list[PriceBookOut], summary="Price books")
def list_price_books(request):
    return list(selectors.price_books(request.user))


@router.post("/price-books", response={201: PriceBookOut}, summary="Add a price book")
def create_price_book(request, payload: PriceBookIn):
    return Status(201, services.create_price_book(by=request.user, **_data(payload, {})))


@router.get("/price-books/{int:book_id}", response=PriceBookOut, summary="One price book")
def get_price_book(request, book_id: int):
    return selectors.get_price_book(request.user, book_id)


@router.patch("/price-books/{int:book_id}", response=PriceBookOut, summary="Change a book")
def update_price_book(request, book_id: int, payload: PriceBookPatch):
    book = selectors.get_price_book(request.user, book_id)
    return services.update_price_book(book, by=request.user, version=payload.version,
                                      **_data(payload, {}))


@router.delete("/price-books/{int:book_id}", response={204: None}, summary="Delete a book")
def delete_price_book(request, book_id: int, version: VersionParam):
    services.delete_price_book(selectors.get_price_book(request.user, book_id), by=request.user,
                               version=version)
    return Status(204, None)


@router.get("/price-books/{int:book_id}/entries", response=EntryPage,
            summary="A book's list prices (cursor pages)")
def list_entries(request, book_id: int, params: Query[PageParams]):
    book = selectors.get_price_book(request.user, book_id)
    page = keyset_page(selectors.entries(request.user, book), sort_field="id", sort_key="id",
                       cursor=params.cursor, limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor}


@router.put("/price-books/{int:book_id}/entries/{int:product_id}", response=EntryOut,
            summary="Set a product's list price in a book")
def set_entry(request, book_id: int, product_id: int, payload: EntryIn):
    book = selectors.get_price_book(request.user, book_id)
    product = selectors.get_product(request.user, product_id)
    access.require_edit(request.user)  # who may not write hears that first
    if payload.version is None and selectors.entries(request.user, book).filter(
            product_id=product_id).exists():
        raise VersionRequired("version")  # replacing a price someone may have just changed
    return services.set_entry(book, product, by=request.user, list_price=payload.list_price,
                              floor_price=payload.floor_price, version=payload.version)


@router.delete("/price-books/{int:book_id}/entries/{int:product_id}", response={204: None},
               summary="Remove a product from a book")
def delete_entry(request, book_id: int, product_id: int, version: VersionParam):
    book = selectors.get_price_book(request.user, book_id)
    entry = selectors.entries(request.user, book).filter(product_id=product_id).first()
    if entry is None:
        raise NotFound(f"Product {product_id} has no price in this book.")
    services.delete_entry(entry, by=request.user, version=version)
    return Status(204, None)


# --- rules -------------------------------------------------------------------------------------


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


class RuleFilters(PageParams):
    kind: choice_of(RuleKind, blank=True) = ""
    product_id: int | None = None
    account_id: int | None = None


class RulePage(Schema):
    items: list[PriceRuleOut]
    next_cursor: str | None
    previous_cursor: str | None


def _rule_refs(user) -> dict[str, Any]:
    return {
        "product_id": lambda pk: None if pk is None else selectors.get_product(user, pk),
        "family_id": lambda pk: _family(user, pk),
        "account_id": lambda pk: None if pk is None else get_visible(Account, user, pk),
        "price_book_id": lambda pk: None if pk is None else selectors.get_price_book(user, pk),
    }


def _rule_data(user, payload: Schema) -> tuple[dict[str, Any], list | None]:
    data = _data(payload, _rule_refs(user))
    tiers = data.pop("tiers", None)
    if "currency" in data and data["currency"] is None:
        data["currency"] = ""
    pairs = None if tiers is None else [(t["min_quantity"], t["price"]) for t in tiers]
    return data, pairs


@router.get("/rules", response=RulePage, summary="Pricing rules")
def list_rules(request, params: Query[RuleFilters]):
    queryset = selectors.rules(request.user, kind=params.kind, product_id=params.product_id,
                               account_id=params.account_id)
    page = keyset_page(queryset, sort_field="id", sort_key="id", cursor=params.cursor,
                       limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor}


@router.post("/rules", response={201: PriceRuleOut}, summary="Add a pricing rule")
def create_rule(request, payload: PriceRuleIn):
    data, tiers = _rule_data(request.user, payload)
    rule = services.create_rule(by=request.user, tiers=tiers, **data)
    return Status(201, selectors.get_rule(request.user, rule.pk))


@router.get("/rules/{int:rule_id}", response=PriceRuleOut, summary="One pricing rule")
def get_rule(request, rule_id: int):
    return selectors.get_rule(request.user, rule_id)


@router.patch("/rules/{int:rule_id}", response=PriceRuleOut, summary="Change a pricing rule")
def update_rule(request, rule_id: int, payload: PriceRulePatch):
    rule = selectors.get_rule(request.user, rule_id)
    data, tiers = _rule_data(request.user, payload)
    services.update_rule(rule, by=request.user, version=payload.version, tiers=tiers, **data)
    return selectors.get_rule(request.user, rule_id)


@router.delete("/rules/{int:rule_id}", response={204: None}, summary="Delete a pricing rule")
def delete_rule(request, rule_id: int, version: VersionParam):
    services.delete_rule(selectors.get_rule(request.user, rule_id), by=request.user,
                         version=version)
    return Status(204, None)


# --- tax and exchange rates ---------------------------------------------------------------------


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


@router.get("/tax-rates", response=list[TaxRateOut], summary="Tax rates by region")
def list_tax_rates(request):
    return list(selectors.tax_rates(request.user))


@router.post("/tax-rates", response={201: TaxRateOut}, summary="Add a tax rate")
def create_tax_rate(request, payload: TaxRateIn):
    return Status(201, services.create_tax_rate(by=request.user, **_data(payload, {})))


@router.patch("/tax-rates/{int:tax_id}", response=TaxRateOut, summary="Change a tax rate")
def update_tax_rate(request, tax_id: int, payload: TaxRatePatch):
    tax = selectors.get_tax_rate(request.user, tax_id)
    return services.update_tax_rate(tax, by=request.user, version=payload.version,
                                    **_data(payload, {}))


@router.delete("/tax-rates/{int:tax_id}", response={204: None}, summary="Delete a tax rate")
def delete_tax_rate(request, tax_id: int, version: VersionParam):
    services.delete_tax_rate(selectors.get_tax_rate(request.user, tax_id), by=request.user,
                             version=version)
    return Status(204, None)


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


class ExchangeRateFilters(PageParams):
    currency: Currency | None = None


class ExchangeRatePage(Schema):
    items: list[ExchangeRateOut]
    next_cursor: str | None
    previous_cursor: str | None


class CurrencyConversionOut(Schema):
    amount: MoneyOut
    currency: str
    converted: MoneyOut
    to: str
    date: date


@router.get("/exchange-rates", response=ExchangeRatePage, summary="Exchange rates, newest first")
def list_exchange_rates(request, params: Query[ExchangeRateFilters]):
    queryset = selectors.exchange_rates(request.user, currency=params.currency or "")
    page = keyset_page(queryset, sort_field="-date", sort_key="-date", cursor=params.cursor,
                       limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor}


@router.post("/exchange-rates", response={201: ExchangeRateOut},
             summary="Record a rate (1 base = rate quote) from a date on")
def create_exchange_rate(request, payload: ExchangeRateIn):
    data = payload.model_dump()
    access.require_edit(request.user)  # who may not write hears that first
    if data["version"] is None and ExchangeRate.objects.filter(
            base=payload.base, quote=payload.quote, date=payload.date).exists():
        raise VersionRequired("version")  # replacing a rate someone may have just changed
    return Status(201, services.create_exchange_rate(by=request.user, **data))


@router.delete("/exchange-rates/{int:rate_id}", response={204: None},
               summary="Delete an exchange rate")
def delete_exchange_rate(request, rate_id: int, version: VersionParam):
    rate = selectors.get_exchange_rate(request.user, rate_id)
    services.delete_exchange_rate(rate, by=request.user, version=version)
    return Status(204, None)


class ConvertParams(Schema):
    amount: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
    source: Currency = Field(alias="from")
    to: Currency
    on: date | None = Field(None, description="Default: today.")


@router.get("/convert", response=CurrencyConversionOut, summary="Convert an amount on a date")
def convert(request, params: Query[ConvertParams]):
    selectors.exchange_rates(request.user)  # the read check
    day = params.on or company_today()
    converted = services.convert_amount(params.amount, params.source, params.to, day)
    return {"amount": params.amount, "currency": params.source, "converted": converted,
            "to": params.to, "date": day}


# --- pricing -----------------------------------------------------------------------------------


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


def _line_requests(lines: list[PriceLineIn]) -> list[LineRequest]:
    """The lines with SKUs turned into product ids (an unknown SKU is named)."""
    skus = {line.sku.strip() for line in lines if line.sku}
    ids = dict(Product.objects.filter(sku__in=skus).values_list("sku", "id")) if skus else {}
    unknown = {f"lines[{i}].sku": [f"Unknown SKU {line.sku}."]
               for i, line in enumerate(lines) if line.sku and line.sku.strip() not in ids}
    if unknown:
        raise ValidationError(unknown)
    return [LineRequest(product_id=ids[line.sku.strip()] if line.sku else line.product_id,
                        quantity=line.quantity, discount_pct=line.discount_pct)
            for line in lines]


@router.post("/price", response=PricedQuoteOut,
             summary="Price lines for an account, with the rule behind each price")
def price(request, payload: PriceIn):
    account = get_visible(Account, request.user, payload.account_id)
    book: PriceBook | None = None
    if payload.price_book_id is not None:
        book = selectors.get_price_book(request.user, payload.price_book_id)
    return services.price_lines(
        account=account, currency=payload.currency or account.currency,
        on_date=payload.on_date or company_today(),
        lines=_line_requests(payload.lines), price_book=book,
        tax_region=payload.tax_region, by=request.user)
