"""How the catalogue's lists are filtered, searched and sorted — the same in the API
list and its CSV export (see `core.listing`)."""

from django.db.models import Q, QuerySet

from salesplan.core.listing import Filter, ListDefinition

from .models import ProductKind, RuleKind
from .selectors import family_and_below


def _in_family(queryset: QuerySet, values: list) -> QuerySet:
    families: set[int] = set()
    for family_id in values:
        families |= family_and_below(family_id)
    return queryset.filter(family_id__in=families)


def _sku_or_name(queryset: QuerySet, term: str) -> QuerySet:
    return queryset.filter(Q(sku__istartswith=term) | Q(name__icontains=term))


def _either_currency(queryset: QuerySet, values: list) -> QuerySet:
    return queryset.filter(Q(base__in=values) | Q(quote__in=values))


PRODUCTS = ListDefinition(
    filters={
        "family_id": Filter("family_id", "int", "Family (and the families below it)",
                            method=_in_family),
        "active": Filter("active", "bool", "Active"),
        "kind": Filter("kind", choices=tuple(ProductKind.choices), label="Kind"),
    },
    sorts={"sku": "sku"}, default_sort="sku", search=_sku_or_name,
    search_label="SKU prefix or part of the name.")

RULES = ListDefinition(
    filters={
        "kind": Filter("kind", choices=tuple(RuleKind.choices), label="Kind"),
        "product_id": Filter("product_id", "int", "Product"),
        "account_id": Filter("account_id", "int", "Account (contracted prices)"),
    },
    sorts={"id": "id"}, default_sort="id")

EXCHANGE_RATES = ListDefinition(
    filters={"currency": Filter("base", label="Base or quote currency",
                                method=_either_currency)},
    sorts={"-date": "-date"}, default_sort="-date")
