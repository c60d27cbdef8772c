"""Reads of the catalogue and its prices, for the API, the pages and the CLI. Every
read checks that the user may read the catalogue (see `access`)."""

from datetime import date

from django.db.models import Count, Q, QuerySet

from salesplan.core.errors import NotFound
from salesplan.core.selectors import get_from
from salesplan.customers.models import Account

from . import access
from .models import (
    Bundle,
    ExchangeRate,
    PriceBook,
    PriceBookEntry,
    PricingRule,
    Product,
    ProductFamily,
    TaxRate,
)


def families(user) -> QuerySet[ProductFamily]:
    access.require_read(user)
    return (ProductFamily.objects.select_related("parent")
            .annotate(product_count=Count("products")).order_by("name", "id"))


def get_family(user, pk) -> ProductFamily:
    access.require_read(user)
    return get_from(ProductFamily.objects.select_related("parent"), pk, "product family")


def products(user, *, family_id: int | None = None, active: bool | None = None,
             q: str = "", kind: str = "") -> QuerySet[Product]:
    """Products, filtered; a family includes the families below it."""
    access.require_read(user)
    queryset = Product.objects.select_related("family")
    if family_id is not None:
        queryset = queryset.filter(family_id__in=family_and_below(family_id))
    if active is not None:
        queryset = queryset.filter(active=active)
    if kind:
        queryset = queryset.filter(kind=kind)
    if q.strip():
        term = q.strip()
        queryset = queryset.filter(Q(sku__istartswith=term) | Q(name__icontains=term))
    return queryset


def family_and_below(family_id: int) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent in ProductFamily.objects.values_list("id", "parent_id"):
        children.setdefault(parent, []).append(pk)
    found, todo = set(), [family_id]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, ()))
    return found


def get_product(user, pk) -> Product:
    access.require_read(user)
    return get_from(Product.objects.select_related("family"), pk, "product")


def get_product_by_sku(user, sku: str) -> Product:
    access.require_read(user)
    product = Product.objects.filter(sku=sku.strip()).first()
    if product is None:
        raise NotFound(f"No product with SKU {sku}.")
    return product


def bundle_components(product: Product) -> list:
    bundle = Bundle.objects.filter(product=product).first()
    if bundle is None:
        return []
    return list(bundle.components.select_related("component").order_by("id"))


def price_books(user) -> QuerySet[PriceBook]:
    access.require_read(user)
    return PriceBook.objects.annotate(entry_count=Count("entries"))


def get_price_book(user, pk) -> PriceBook:
    access.require_read(user)
    return get_from(PriceBook.objects.all(), pk, "price book")


def entries(user, book: PriceBook) -> QuerySet[PriceBookEntry]:
    return price_book_entries(user).filter(price_book=book).order_by("product__sku")


def price_book_entries(user) -> QuerySet[PriceBookEntry]:
    """Every book's list prices (the API lists them under their book)."""
    access.require_read(user)
    return PriceBookEntry.objects.select_related("product")


def product_prices(user, product: Product) -> QuerySet[PriceBookEntry]:
    access.require_read(user)
    return product.entries.select_related("price_book").order_by("price_book__currency",
                                                                 "price_book__name")


def rules(user, *, kind: str = "", product_id: int | None = None,
          account_id: int | None = None) -> QuerySet[PricingRule]:
    """Pricing rules; a contracted price shows only if the user may see its account."""
    access.require_read(user)
    queryset = PricingRule.objects.select_related("product", "family", "account", "price_book")
    if not user.is_admin:
        queryset = queryset.filter(
            Q(account__isnull=True)
            | Q(account_id__in=Account.objects.visible_to(user).values("pk")))
    if kind:
        queryset = queryset.filter(kind=kind)
    if product_id is not None:
        queryset = queryset.filter(product_id=product_id)
    if account_id is not None:
        queryset = queryset.filter(account_id=account_id)
    return queryset.prefetch_related("tiers")


def get_rule(user, pk) -> PricingRule:
    access.require_read(user)
    return get_from(rules(user), pk, "pricing rule")


def tax_rates(user) -> QuerySet[TaxRate]:
    access.require_read(user)
    return TaxRate.objects.all()


def get_tax_rate(user, pk) -> TaxRate:
    access.require_read(user)
    return get_from(TaxRate.objects.all(), pk, "tax rate")


def exchange_rates(user, *, currency: str = "", on: date | None = None) -> QuerySet[ExchangeRate]:
    access.require_read(user)
    queryset = ExchangeRate.objects.all()
    if currency:
        queryset = queryset.filter(Q(base=currency) | Q(quote=currency))
    if on is not None:
        queryset = queryset.filter(date__lte=on)
    return queryset


def get_exchange_rate(user, pk) -> ExchangeRate:
    access.require_read(user)
    return get_from(ExchangeRate.objects.all(), pk, "exchange rate")
