"""API of the pricing app (mounted at /api/v1/pricing). Everyone reads; admins write.

The catalogue's record types come from the record kit (`core.record_kit`): each has
its list (and CSV export), one record, audit history and whichever of create, change
and delete it takes:

    families, products, price-books, rules, tax-rates   list, create, get, change, delete
    exchange-rates                                      list, record, get, delete
    price-books/{book_id}/entries                       list, get, delete (by product id)

and by hand, what is not a plain record change:

    PUT               /products/{id}/components    a bundle's components
    PUT               /price-books/{id}/entries/{product_id}   set a list price
    GET               /convert                     an amount in another currency
    POST              /price                       price lines for an account, explained
"""

from typing import Any

from django.core.exceptions import ValidationError
from ninja import Query, Router

from salesplan.core.api_support import VersionParam
from salesplan.core.clock import company_today
from salesplan.core.errors import VersionRequired
from salesplan.core.record_kit import Actions, Parent, RecordType, install, keyword_services
from salesplan.core.selectors import get_visible
from salesplan.customers.models import Account

from . import access, filters, selectors, services
from .models import (
    ExchangeRate,
    PriceBook,
    PriceBookEntry,
    PricingRule,
    Product,
    ProductFamily,
    TaxRate,
)
from .schemas import (
    ComponentIn,
    ConvertParams,
    CurrencyConversionOut,
    EntryIn,
    EntryOut,
    ExchangeRateIn,
    ExchangeRateOut,
    FamilyIn,
    FamilyOut,
    FamilyPatch,
    PriceBookIn,
    PriceBookOut,
    PriceBookPatch,
    PricedQuoteOut,
    PriceIn,
    PriceLineIn,
    PriceRuleIn,
    PriceRuleOut,
    PriceRulePatch,
    ProductDetailOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    TaxRateIn,
    TaxRateOut,
    TaxRatePatch,
)
from .types import LineRequest

router = Router(tags=["pricing"])

# Everyone reads the catalogue; changing any of it (adding and deleting included) is
# the one "change" action, an admin's.
CATALOGUE = Actions(view="view", create="change", change="change", delete="change")


def _optional(finder):
    return lambda user, pk: None if pk is None else finder(user, pk)


def _family(user, pk):
    return selectors.get_family(user, pk)


def _rule_data(user, data: dict[str, Any]) -> dict[str, Any]:
    """Tiers as (from quantity, price) pairs; no currency is blank (any currency)."""
    if "tiers" in data:
        tiers = data["tiers"]
        data["tiers"] = None if tiers is None else [(t["min_quantity"], t["price"])
                                                    for t in tiers]
    if "currency" in data and data["currency"] is None:
        data["currency"] = ""
    return data


def _record_exchange_rate(*, by, data: dict[str, Any]) -> ExchangeRate:
    """A rate for a pair and date already recorded is replaced only with its version."""
    access.require_edit(by)  # who may not write hears that first
    if data.get("version") is None and ExchangeRate.objects.filter(
            base=data["base"], quote=data["quote"], date=data["date"]).exists():
        raise VersionRequired("version")  # replacing a rate someone may have just changed
    return services.create_exchange_rate(by=by, **{"version": None, **data})


families = RecordType(
    name="family", plural="families", path="families", id_param="family_id",
    resource="catalogue", actions=CATALOGUE, label="product family", model=ProductFamily,
    rows=selectors.families, out=FamilyOut, paged=False,
    create_in=FamilyIn, patch_in=FamilyPatch,
    references={"parent_id": _optional(_family)},
    **keyword_services(create=services.create_family, update=services.update_family,
                       delete=services.delete_family))

products = RecordType(
    name="product", plural="products", path="products", id_param="product_id",
    resource="catalogue", actions=CATALOGUE, model=Product,
    rows=lambda user: selectors.products(user), out=ProductOut, detail_out=ProductDetailOut,
    listing=filters.PRODUCTS, page_name="ProductPage",
    create_in=ProductIn, patch_in=ProductPatch,
    references={"family_id": _optional(_family)},
    summaries={"list": "The catalogue (cursor pages by SKU)",
               "update": "Change a product (deactivate with active=false)",
               "delete": "Delete a product never priced (else deactivate it)"},
    **keyword_services(create=services.create_product, update=services.update_product,
                       delete=services.delete_product))

price_books = RecordType(
    name="price_book", plural="price_books", path="price-books", id_param="book_id",
    resource="catalogue", actions=CATALOGUE, model=PriceBook,
    rows=selectors.price_books, out=PriceBookOut, paged=False,
    create_in=PriceBookIn, patch_in=PriceBookPatch,
    **keyword_services(create=services.create_price_book, update=services.update_price_book,
                       delete=services.delete_price_book))

entries = RecordType(
    name="entry", plural="entries", path="entries", id_param="product_id",
    lookup_field="product_id", label="list price", resource="catalogue", actions=CATALOGUE,
    model=PriceBookEntry, rows=selectors.price_book_entries, out=EntryOut,
    page_name="EntryPage",
    parent=Parent(segment="price-books", param="book_id", field="price_book",
                  lookup=selectors.get_price_book, label="price book"),
    summaries={"list": "A book's list prices (cursor pages)",
               "delete": "Remove a product from a book"},
    **keyword_services(delete=services.delete_entry))

rules = RecordType(
    name="rule", plural="rules", path="rules", id_param="rule_id", label="pricing rule",
    resource="catalogue", actions=CATALOGUE, model=PricingRule,
    rows=lambda user: selectors.rules(user), out=PriceRuleOut, listing=filters.RULES,
    page_name="RulePage", create_in=PriceRuleIn, patch_in=PriceRulePatch,
    references={"product_id": _optional(selectors.get_product),
                "family_id": _optional(_family),
                "account_id": _optional(lambda user, pk: get_visible(Account, user, pk)),
                "price_book_id": _optional(selectors.get_price_book)},
    prepare=_rule_data,
    **keyword_services(create=services.create_rule, update=services.update_rule,
                       delete=services.delete_rule))

tax_rates = RecordType(
    name="tax_rate", plural="tax_rates", path="tax-rates", id_param="tax_id",
    resource="catalogue", actions=CATALOGUE, model=TaxRate,
    rows=selectors.tax_rates, out=TaxRateOut, paged=False,
    create_in=TaxRateIn, patch_in=TaxRatePatch,
    summaries={"list": "Tax rates by region"},
    **keyword_services(create=services.create_tax_rate, update=services.update_tax_rate,
                       delete=services.delete_tax_rate))

exchange_rates = RecordType(
    name="exchange_rate", plural="exchange_rates", path="exchange-rates", id_param="rate_id",
    resource="catalogue", actions=CATALOGUE, model=ExchangeRate,
    rows=lambda user: selectors.exchange_rates(user), out=ExchangeRateOut,
    listing=filters.EXCHANGE_RATES, page_name="ExchangeRatePage",
    create_in=ExchangeRateIn, create=_record_exchange_rate,
    summaries={"list": "Exchange rates, newest first",
               "create": "Record a rate (1 base = rate quote) from a date on"},
    **keyword_services(delete=services.delete_exchange_rate))

install(router, "/pricing", [families, products, price_books, entries, rules, tax_rates,
                             exchange_rates])


# --- what is not a plain record change ---------------------------------------------------


@router.put("/products/{int:product_id}/components", response=ProductDetailOut,
            summary="Replace a bundle's components")
def set_components(request, product_id: int, payload: list[ComponentIn],
                   version: VersionParam):
    """The body is the list of components; `?version=` is the product's version you read."""
    product = selectors.get_product(request.user, product_id)
    parts = [(selectors.get_product(request.user, c.product_id), c.quantity) for c in payload]
    services.set_bundle_components(product, parts, by=request.user, version=version)
    return selectors.get_product(request.user, product_id)


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


@router.get("/convert", response=CurrencyConversionOut, summary="Convert an amount on a date")
def convert(request, params: Query[ConvertParams]):
    selectors.exchange_rates(request.user)  # the read check
    day = params.on or company_today()
    converted = services.convert_amount(params.amount, params.source, params.to, day)
    return {"amount": params.amount, "currency": params.source, "converted": converted,
            "to": params.to, "date": day}


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
