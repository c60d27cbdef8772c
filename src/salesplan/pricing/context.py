"""Reads that gather what the pricing engine needs: the account's price book, the list
prices, the rules that could apply, the tax of the region and exchange rates.

A fixed, small number of queries whatever the number of lines (eight or so), so pricing a
500-line quote costs about what a 5-line one does in the database.
"""

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db.models import Q

from salesplan.core.money import CURRENCY_CHOICES, minor_units
from salesplan.customers.models import Account
from salesplan.engines import pricing as engine

from .models import (
    BundleComponent,
    ExchangeRate,
    PriceBook,
    PriceBookEntry,
    PriceTier,
    PricingRule,
    Product,
    ProductFamily,
    ProductKind,
    TaxRate,
)

KNOWN_CURRENCIES = {code for code, _ in CURRENCY_CHOICES}
MAX_ACCOUNT_DEPTH = 10


def check_currency(currency: str, field: str = "currency") -> str:
    code = (currency or "").strip().upper()
    if code not in KNOWN_CURRENCIES:
        raise ValidationError({field: [f"Unknown currency “{currency}”."]})
    return code


# --- price books --------------------------------------------------------------------------


def _scope_matches(book: PriceBook, account: Account) -> int | None:
    """How many of the book's scopes the account matches (None if one does not match)."""
    score = 0
    if book.segment:
        if book.segment.strip().lower() != (account.industry or "").strip().lower():
            return None
        score += 1
    if book.region:
        country, _, state = book.region.upper().partition("-")
        if country != (account.country or "").upper():
            return None
        if state and state != (account.state or "").upper():
            return None
        score += 2 if state else 1
    if book.tier:
        if book.tier != account.tier:
            return None
        score += 1
    return score


def check_book(book: PriceBook, currency: str, on_date: date) -> None:
    """Refuse a book that cannot price in this currency on this date."""
    if book.currency != currency:
        raise ValidationError({"price_book": [
            f"Price book “{book.name}” is in {book.currency}, not {currency}."]})
    if not book.active:
        raise ValidationError({"price_book": [f"Price book “{book.name}” is inactive."]})
    if book.valid_to is not None and book.valid_to < on_date:
        raise ValidationError({"price_book": [
            f"Price book “{book.name}” expired on {book.valid_to.isoformat()}."]})
    if book.valid_from is not None and book.valid_from > on_date:
        raise ValidationError({"price_book": [
            f"Price book “{book.name}” is valid only from {book.valid_from.isoformat()}."]})


def book_for(account: Account, currency: str, on_date: date) -> tuple[PriceBook, PriceBook | None]:
    """The most specific book valid for the account (more scopes matched wins, then a
    region by state over a country), and the standard book it falls back to."""
    books = list(PriceBook.objects.filter(currency=currency, active=True))
    standard = next((b for b in books if b.is_standard), None)
    best: tuple[int, str, PriceBook] | None = None
    for book in books:
        if book.is_standard or not book.is_valid_on(on_date):
            continue
        score = _scope_matches(book, account)
        if score is not None and (best is None or (score, book.name) > best[:2]):
            best = (score, book.name, book)
    if best is not None:
        return best[2], standard if standard and standard.is_valid_on(on_date) else None
    if standard is None:
        raise ValidationError({"currency": [f"There is no standard price book in {currency}."]})
    check_book(standard, currency, on_date)
    return standard, None


# --- exchange rates ------------------------------------------------------------------------


def exchange_rate(base: str, quote: str, on_date: date) -> tuple[Decimal, bool]:
    """(rate, inverse): the latest rate of the pair on or before the date, stored in
    either direction; `inverse` means the stored rate is quote → base (so divide)."""
    found = (ExchangeRate.objects
             .filter(Q(base=base, quote=quote) | Q(base=quote, quote=base), date__lte=on_date)
             .order_by("-date", "id").values_list("base", "rate").first())
    if found is None:
        raise ValidationError({"currency": [
            f"No exchange rate between {base} and {quote} on or before {on_date.isoformat()}."]})
    stored_base, rate = found
    return rate, stored_base != base


def convert_amount(amount: Decimal, source: str, target: str, on_date: date) -> Decimal:
    """An amount in another currency with the rate of the date, rounded half to even to
    the target's minor units (the round-trip rule is in salesplan.engines.pricing)."""
    source, target = check_currency(source, "from"), check_currency(target, "to")
    if source == target:
        return engine.round_to(amount, minor_units(target))
    rate, inverse = exchange_rate(source, target, on_date)
    return engine.convert(amount, rate=rate, inverse=inverse, minor_units=minor_units(target))


class ProductRow(NamedTuple):
    """What pricing reads of a product (plain values: cheaper than model instances)."""

    pk: int
    sku: str
    name: str
    family_id: int
    kind: str
    unit: str
    cost: Decimal
    cost_currency: str
    active: bool
    max_discount_pct: Decimal | None
    min_margin_pct: Decimal | None


def product_rows(ids: Iterable[int]) -> dict[int, ProductRow]:
    return {row[0]: ProductRow(*row) for row in Product.objects.filter(pk__in=set(ids))
            .values_list(*ProductRow._fields)}


def _unit_costs(products: Iterable[ProductRow], currency: str,
                on_date: date) -> dict[int, Decimal]:
    rates: dict[str, tuple[Decimal, bool]] = {}
    costs: dict[int, Decimal] = {}
    for product in products:
        if product.cost_currency == currency or not product.cost:
            costs[product.pk] = product.cost
            continue
        if product.cost_currency not in rates:
            try:
                rates[product.cost_currency] = exchange_rate(product.cost_currency, currency,
                                                             on_date)
            except ValidationError as exc:
                raise ValidationError({"currency": [
                    f"{exc.message_dict['currency'][0][:-1]}: it converts the cost of "
                    f"{product.sku} for the margin."]}) from exc
        rate, inverse = rates[product.cost_currency]
        costs[product.pk] = engine.convert(product.cost, rate=rate, inverse=inverse,
                                           minor_units=engine.UNIT_PLACES)
    return costs


# --- tax -----------------------------------------------------------------------------------------


def account_region(account: Account) -> str:
    country = (account.country or "").upper()
    state = (account.state or "").upper()
    return f"{country}-{state}" if state else country


def tax_terms(region: str) -> engine.TaxTerms | None:
    """The rate of the state if it has one, else of the country; None if neither."""
    country, _, state = region.strip().upper().partition("-")
    if not country:
        return None
    rates = {r.state: r for r in TaxRate.objects.filter(country=country, state__in={state, ""})}
    found = rates.get(state) or rates.get("")
    if found is None:
        return None
    return engine.TaxTerms(rate=found.rate, prices_include_tax=found.prices_include_tax,
                           label=found.name or found.region)


# --- the whole context --------------------------------------------------------------------


def account_chain(account: Account) -> tuple[tuple[int, ...], dict[int, str]]:
    ids, names = [account.pk], {account.pk: account.name}
    parent_id = account.parent_id
    while parent_id is not None and parent_id not in names and len(ids) < MAX_ACCOUNT_DEPTH:
        row = Account.objects.filter(pk=parent_id).values_list("name", "parent_id").first()
        if row is None:
            break
        ids.append(parent_id)
        names[parent_id] = row[0]
        parent_id = row[1]
    return tuple(ids), names


def _families() -> dict[int, engine.Family]:
    return {f.pk: engine.Family(id=f.pk, name=f.name, parent_id=f.parent_id,
                                max_discount_pct=f.max_discount_pct,
                                min_margin_pct=f.min_margin_pct)
            for f in ProductFamily.objects.all()}


def _entries(book: PriceBook, standard: PriceBook | None,
             product_ids: set[int]) -> dict[int, engine.Entry]:
    books = {book.pk: book} | ({standard.pk: standard} if standard else {})
    rows = PriceBookEntry.objects.filter(price_book_id__in=books, product_id__in=product_ids)
    entries: dict[int, engine.Entry] = {}
    for product_id, book_id, list_price, floor in rows.values_list(
            "product_id", "price_book_id", "list_price", "floor_price"):
        if book_id == book.pk or product_id not in entries:
            entries[product_id] = engine.Entry(list_price=list_price, floor_price=floor,
                                               book=books[book_id].name,
                                               fallback=book_id != book.pk)
    return entries


RULE_COLUMNS = ("id", "name", "kind", "product_id", "family_id", "account_id", "price_book_id",
                "currency", "unit_price", "discount_pct", "min_quantity", "valid_from",
                "valid_to")


def _rules(book: PriceBook, currency: str, on_date: date, product_ids: set[int],
           family_ids: set[int], account_ids: Sequence[int]) -> list[engine.Rule]:
    """The rules that could touch these products, as plain rows (two queries: rules and
    their tiers; model instances would cost more than the pricing itself)."""
    rows = list(PricingRule.objects.filter(active=True)
                .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=on_date))
                .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on_date))
                .filter(Q(price_book__isnull=True) | Q(price_book=book))
                .filter(Q(currency="") | Q(currency=currency))
                .filter(Q(account__isnull=True) | Q(account_id__in=account_ids))
                .filter(Q(product_id__in=product_ids) | Q(family_id__in=family_ids)
                        | Q(product__isnull=True, family__isnull=True))
                .values_list(*RULE_COLUMNS))
    tiers: dict[int, list[engine.Tier]] = {}
    tiered = [row[0] for row in rows if row[2] in engine.VOLUME_KINDS]
    if tiered:
        for rule_id, start, price in PriceTier.objects.filter(rule_id__in=tiered).values_list(
                "rule_id", "min_quantity", "price"):
            tiers.setdefault(rule_id, []).append(engine.Tier(start, price))
    return [engine.Rule(**dict(zip(RULE_COLUMNS, row, strict=True)),
                        tiers=tuple(tiers.get(row[0], ()))) for row in rows]


def gather(*, account: Account, currency: str, on_date: date, book: PriceBook,
           standard: PriceBook | None, products: dict[int, ProductRow],
           tax: engine.TaxTerms | None) -> engine.PricingContext:
    """The engine's context for these (known, active) products."""
    components: dict[int, list[tuple[int, Decimal]]] = {}
    bundles = [pk for pk, p in products.items() if p.kind == ProductKind.BUNDLE]
    for bundle_product, component, qty in BundleComponent.objects.filter(
            bundle__product_id__in=bundles).values_list(
            "bundle__product_id", "component_id", "quantity") if bundles else ():
        components.setdefault(bundle_product, []).append((component, qty))
    wanted = {pid for parts in components.values() for pid, _ in parts} - set(products)
    all_products = dict(products)
    if wanted:
        all_products.update(product_rows(wanted))
    families = _families()
    family_ids: set[int] = set()
    for product in products.values():
        family_ids.update(f.id for f in _chain_of(families, product.family_id))
    account_ids, names = account_chain(account)
    costs = _unit_costs(all_products.values(), currency, on_date)
    return engine.PricingContext(
        currency=currency, minor_units=minor_units(currency), on_date=on_date,
        products={pk: engine.Product(
            id=pk, sku=p.sku, name=p.name, family_id=p.family_id, unit=p.unit,
            unit_cost=costs[pk], max_discount_pct=p.max_discount_pct,
            min_margin_pct=p.min_margin_pct, components=tuple(components.get(pk, ())))
            for pk, p in all_products.items()},
        entries=_entries(book, standard, set(all_products)),
        families=families,
        rules=_rules(book, currency, on_date, set(products), family_ids, account_ids),
        tax=tax, price_book_id=book.pk, account_ids=account_ids, account_names=names)


def _chain_of(families: dict[int, engine.Family], family_id: int) -> list[engine.Family]:
    chain: list[engine.Family] = []
    current: int | None = family_id
    while current is not None and current in families and all(f.id != current for f in chain):
        chain.append(families[current])
        current = families[current].parent_id
    return chain
