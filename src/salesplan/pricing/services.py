"""Pricing lines for an account, and every change to the catalogue: products, families,
bundles, price books and their entries, pricing rules, tax and exchange rates.

Each write checks that the user may change the catalogue (admins), validates everything
before saving, runs in one transaction (nothing is half-saved) and leaves an audit trail.
"""

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction

from salesplan.core.audit import record_changes, record_created, record_deleted
from salesplan.core.errors import StaleVersion
from salesplan.core.models import Versioned
from salesplan.core.records import claim_version
from salesplan.customers.models import Account
from salesplan.engines import pricing as engine

from . import access, context
from .models import (
    PRICED_KINDS,
    TIERED_KINDS,
    Bundle,
    BundleComponent,
    ExchangeRate,
    PriceBook,
    PriceBookEntry,
    PriceTier,
    PricingRule,
    Product,
    ProductFamily,
    ProductKind,
    RuleKind,
    TaxRate,
)
from .types import LineRequest, PricedQuote

M = TypeVar("M", bound=models.Model)


# --- pricing -------------------------------------------------------------------------------


def price_lines(*, account: Account | None, currency: str, on_date: date,
                lines: Sequence[LineRequest], price_book: PriceBook | None = None,
                tax_region: str | None = None, by=None) -> PricedQuote:
    """Price quote lines for an account on a date.

    The price book is the one given (it must be in the currency, active and valid on the
    date) or else the most specific book valid for the account, falling back to the
    standard book of the currency for products it does not list. Tax is the rate of
    `tax_region` ("US-CA", "DE"; "" for none) or of the account's country and state.
    With `by`, the user must be allowed to see the account.

    Raises ValidationError naming the field: "currency", "price_book", or the line and
    field, e.g. {"lines[3].quantity": ["Quantity must be positive."]}.
    """
    if account is None:
        raise ValidationError({"account": ["Lines are priced for an account: choose one."]})
    if by is not None:
        access.require_read(by)
        if not Account.objects.visible_to(by).filter(pk=account.pk).exists():
            raise PermissionDenied("You may not price lines for this account.")
    code = context.check_currency(currency)
    if price_book is not None:
        context.check_book(price_book, code, on_date)
        standard = PriceBook.objects.filter(currency=code, is_standard=True,
                                            active=True).exclude(pk=price_book.pk).first()
        if standard is not None and not standard.is_valid_on(on_date):
            standard = None
        book = price_book
    else:
        book, standard = context.book_for(account, code, on_date)
    errors, products = _catalogue_errors(lines)
    region = context.account_region(account) if tax_region is None else tax_region
    tax = context.tax_terms(region) if region else None
    ctx = context.gather(account=account, currency=code, on_date=on_date, book=book,
                         standard=standard, products=products, tax=tax)
    try:
        quote = engine.price_quote(ctx, lines)
    except engine.PricingErrors as exc:
        raise ValidationError({**exc.errors, **errors}) from exc
    if errors:
        raise ValidationError(errors)
    return quote


def _catalogue_errors(lines: Sequence[LineRequest]
                      ) -> tuple[dict[str, list[str]], dict[int, context.ProductRow]]:
    """Unknown and inactive products, and the active ones by id."""
    found = context.product_rows(line.product_id for line in lines
                                 if isinstance(line.product_id, int))
    errors: dict[str, list[str]] = {}
    for i, line in enumerate(lines):
        product = found.get(line.product_id)
        if product is None:
            errors[f"lines[{i}].product_id"] = [f"Unknown product {line.product_id}."]
        elif not product.active:
            errors[f"lines[{i}].product_id"] = [
                f"{product.sku} is inactive and cannot be quoted."]
    return errors, {pk: p for pk, p in found.items() if p.active}


def convert_amount(amount: Decimal, source: str, target: str, on_date: date) -> Decimal:
    """An amount converted with the exchange rate of the date (see context.convert_amount)."""
    return context.convert_amount(amount, source, target, on_date)


# --- shared write steps -------------------------------------------------------------------------


def _changes(obj: models.Model, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    changes = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changes[name] = (old, value)
            setattr(obj, name, value)
    return changes


def _check_fields(model: type[models.Model], values: dict[str, Any], allowed: Iterable[str]):
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValidationError({f: ["This field does not exist or cannot be set."]
                               for f in unknown})


def _save_new(obj: M, by) -> M:
    obj.full_clean()
    try:
        with transaction.atomic():
            obj.save()
            record_created(obj, by)
    except IntegrityError as exc:
        raise ValidationError({"non_field_errors": [
            f"This {obj._meta.verbose_name} clashes with one saved at the same time."]}) from exc
    return obj


def _save_changes(obj: M, values: dict[str, Any], by, version: int | None = None) -> M:
    """Apply the values to the row (locked), check, save, audit; StaleVersion if the
    caller read an older version."""
    model = type(obj)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=obj.pk)  # type: ignore[attr-defined]
        if version is not None and locked.version != version:
            raise StaleVersion(locked.version, version)
        changes = _changes(locked, values)
        if not changes:
            return locked
        locked.full_clean()
        claim_version(locked, locked.version if version is None else version)
        locked.save()
        record_changes(locked, changes, by)
    return locked


def _delete(obj: Versioned, by, version: int | None = None) -> None:
    with transaction.atomic():
        claim_version(obj, version)
        record_deleted(obj, by)
        try:
            obj.delete()
        except models.ProtectedError as exc:
            raise ValidationError({"non_field_errors": [
                f"{obj} is still used ({len(exc.protected_objects)} record(s) refer to it); "
                "deactivate it instead."]}) from exc


# --- families and products ---------------------------------------------------------------------

FAMILY_FIELDS = ("name", "parent", "description", "max_discount_pct", "min_margin_pct")
PRODUCT_FIELDS = ("sku", "name", "family", "kind", "unit", "cost", "cost_currency", "active",
                  "description", "max_discount_pct", "min_margin_pct")


def create_family(*, by, **values) -> ProductFamily:
    """Add a product family (optionally inside another one)."""
    access.require_edit(by)
    _check_fields(ProductFamily, values, FAMILY_FIELDS)
    return _save_new(ProductFamily(**values), by)


def update_family(family: ProductFamily, *, by, version: int | None = None,
                  **values) -> ProductFamily:
    """Change a family; it may not end up inside itself."""
    access.require_edit(by)
    _check_fields(ProductFamily, values, FAMILY_FIELDS)
    parent = values.get("parent", family.parent)
    seen = set()
    while parent is not None and parent.pk not in seen:
        if parent.pk == family.pk:
            raise ValidationError({"parent": ["A family cannot be inside itself."]})
        seen.add(parent.pk)
        parent = parent.parent
    return _save_changes(family, values, by, version)


def delete_family(family: ProductFamily, *, by, version: int | None = None) -> None:
    access.require_edit(by)
    _delete(family, by, version)


def create_product(*, by, **values) -> Product:
    """Add a product, service or bundle to the catalogue."""
    access.require_edit(by)
    _check_fields(Product, values, PRODUCT_FIELDS)
    product = _save_new(Product(**values), by)
    if product.kind == ProductKind.BUNDLE:
        Bundle.objects.create(product=product)
    return product


def update_product(product: Product, *, by, version: int | None = None, **values) -> Product:
    """Change a product (deactivating it keeps it on past quotes but off new ones)."""
    access.require_edit(by)
    _check_fields(Product, values, PRODUCT_FIELDS)
    if values.get("kind", product.kind) != ProductKind.BUNDLE and \
            BundleComponent.objects.filter(bundle__product=product).exists():
        raise ValidationError({"kind": ["This bundle has components: remove them first."]})
    updated = _save_changes(product, values, by, version)
    if updated.kind == ProductKind.BUNDLE:
        Bundle.objects.get_or_create(product=updated)
    return updated


def delete_product(product: Product, *, by, version: int | None = None) -> None:
    access.require_edit(by)
    _delete(product, by, version)


def set_bundle_components(product: Product, components: Sequence[tuple[Product, Decimal]],
                          *, by, version: int | None = None) -> Bundle:
    """Replace a bundle's components (product, quantity per bundle)."""
    access.require_edit(by)
    if product.kind != ProductKind.BUNDLE:
        raise ValidationError({"kind": [f"{product.sku} is not a bundle."]})
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    for i, (component, quantity) in enumerate(components):
        if component.pk == product.pk or component.kind == ProductKind.BUNDLE:
            errors[f"components[{i}].product_id"] = ["A bundle is made of products and "
                                                     "services, not of bundles."]
        elif component.pk in seen:
            errors[f"components[{i}].product_id"] = [f"{component.sku} is listed twice."]
        if quantity is None or quantity <= 0:
            errors[f"components[{i}].quantity"] = ["Quantity must be positive."]
        seen.add(component.pk)
    if not components:
        errors["components"] = ["A bundle has at least one component."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        claim_version(product, version)  # the components are part of the product
        bundle, _ = Bundle.objects.get_or_create(product=product)
        old = "; ".join(str(c) for c in bundle.components.select_related("component"))
        bundle.components.all().delete()
        BundleComponent.objects.bulk_create(
            BundleComponent(bundle=bundle, component=c, quantity=q) for c, q in components)
        new = "; ".join(f"{q} × {c}" for c, q in components)
        record_changes(product, {"components": (old, new)}, by)
    return bundle


# --- price books and entries -----------------------------------------------------------------

BOOK_FIELDS = ("name", "currency", "is_standard", "segment", "region", "tier", "valid_from",
               "valid_to", "active", "description")


def create_price_book(*, by, **values) -> PriceBook:
    """Add a price book; a new standard book replaces the currency's previous one."""
    access.require_edit(by)
    _check_fields(PriceBook, values, BOOK_FIELDS)
    book = PriceBook(**values)
    book.full_clean(validate_constraints=False)
    with transaction.atomic():
        if book.is_standard:
            _demote_standard(book, by)
        return _save_new(book, by)


def update_price_book(book: PriceBook, *, by, version: int | None = None,
                      **values) -> PriceBook:
    """Change a book. The standard book stays standard until another book of its currency
    becomes standard (each currency keeps exactly one)."""
    access.require_edit(by)
    _check_fields(PriceBook, values, BOOK_FIELDS)
    if book.is_standard and values.get("is_standard") is False:
        raise ValidationError({"is_standard": [
            "Each currency keeps one standard book: make another book standard instead."]})
    if book.is_standard and values.get("currency", book.currency) != book.currency:
        raise ValidationError({"currency": ["The standard book's currency cannot change."]})
    if book.is_standard and values.get("active") is False:
        raise ValidationError({"active": ["The standard book cannot be deactivated."]})
    with transaction.atomic():
        if values.get("is_standard") and not book.is_standard:
            probe = PriceBook(**{**{f: getattr(book, f) for f in BOOK_FIELDS}, **values})
            probe.pk = book.pk
            _demote_standard(probe, by)
        return _save_changes(book, values, by, version)


def _demote_standard(book: PriceBook, by) -> None:
    for old in PriceBook.objects.select_for_update().filter(
            currency=book.currency, is_standard=True).exclude(pk=book.pk):
        old.is_standard = False
        old.version += 1
        old.save(update_fields=["is_standard", "version", "updated_at"])
        record_changes(old, {"is_standard": (True, False)}, by)


def delete_price_book(book: PriceBook, *, by, version: int | None = None) -> None:
    access.require_edit(by)
    if book.is_standard:
        raise ValidationError({"is_standard": [
            "The standard book cannot be deleted: make another book standard first."]})
    _delete(book, by, version)


def set_entry(book: PriceBook, product: Product, *, by, list_price: Decimal,
              floor_price: Decimal | None = None,
              version: int | None = None) -> PriceBookEntry:
    """Set a product's list price (and optional floor) in a book."""
    access.require_edit(by)
    if floor_price is not None and list_price is not None and floor_price > list_price:
        raise ValidationError({"floor_price": ["The floor price cannot be above the list price."]})
    with transaction.atomic():
        entry = PriceBookEntry.objects.select_for_update().filter(
            price_book=book, product=product).first()
        if entry is None:
            return _save_new(PriceBookEntry(price_book=book, product=product,
                                            list_price=list_price, floor_price=floor_price), by)
        return _save_changes(entry, {"list_price": list_price, "floor_price": floor_price}, by,
                             version)


def delete_entry(entry: PriceBookEntry, *, by, version: int | None = None) -> None:
    access.require_edit(by)
    _delete(entry, by, version)


# --- pricing rules --------------------------------------------------------------------------

RULE_FIELDS = ("name", "kind", "product", "family", "account", "price_book", "currency",
               "unit_price", "discount_pct", "min_quantity", "valid_from", "valid_to",
               "active", "description")


def _check_rule(rule: PricingRule, tiers: Sequence[tuple[Decimal, Decimal]] | None) -> None:
    """What each kind of rule needs, as errors naming the field."""
    errors: dict[str, list[str]] = {}
    kind = rule.kind
    if rule.product_id and rule.family_id:
        errors["family"] = ["A rule is for a product or a family, not both."]
    if kind in (RuleKind.CONTRACT, RuleKind.BUNDLE) and not rule.product_id:
        errors["product"] = ["Name the product."]
    if kind == RuleKind.BUNDLE and rule.product is not None and \
            rule.product.kind != ProductKind.BUNDLE:
        errors["product"] = [f"{rule.product.sku} is not a bundle."]
    if kind == RuleKind.CONTRACT and not rule.account_id:
        errors["account"] = ["A contracted price is for one account."]
    if kind != RuleKind.CONTRACT and rule.account_id:
        errors["account"] = ["Only a contracted price names an account."]
    if kind in TIERED_KINDS and not (rule.product_id or rule.family_id):
        errors["product"] = ["Name the product or the family the tiers apply to."]
    if kind in (RuleKind.CONTRACT, RuleKind.BUNDLE) and rule.unit_price is None:
        errors["unit_price"] = ["Give the unit price."]
    if kind == RuleKind.PROMOTION and rule.discount_pct is None:
        errors["discount_pct"] = ["Give the discount in percent."]
    if kind in PRICED_KINDS:
        if rule.price_book is not None:
            rule.currency = rule.price_book.currency
        if not rule.currency:
            errors["currency"] = ["Prices need a currency (or a price book)."]
    elif rule.price_book_id is None:
        rule.currency = ""
    if rule.valid_from and rule.valid_to and rule.valid_to < rule.valid_from:
        errors["valid_to"] = ["The rule cannot end before it starts."]
    if kind in TIERED_KINDS:
        errors.update(_tier_errors(tiers or ()))
    elif tiers:
        errors["tiers"] = ["Only volume and block rules have tiers."]
    if errors:
        raise ValidationError(errors)


def _tier_errors(tiers: Sequence[tuple[Decimal, Decimal]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not tiers:
        return {"tiers": ["Give at least one tier."]}
    starts = [q for q, _ in tiers]
    for i, (start, price) in enumerate(tiers):
        if start is None or start < 1 or start != start.to_integral_value():
            errors[f"tiers[{i}].min_quantity"] = ["A tier starts at a whole unit, 1 or more."]
        if price is None or price < 0:
            errors[f"tiers[{i}].price"] = ["The price cannot be negative."]
        if starts.count(start) > 1:
            errors[f"tiers[{i}].min_quantity"] = ["Two tiers start at the same quantity."]
    return errors


def create_rule(*, by, tiers: Sequence[tuple[Decimal, Decimal]] | None = None,
                **values) -> PricingRule:
    """Add a pricing rule; tiers are (from quantity, price) pairs for volume and block rules."""
    access.require_edit(by)
    _check_fields(PricingRule, values, RULE_FIELDS)
    rule = PricingRule(**values)
    _check_rule(rule, tiers)
    with transaction.atomic():
        _save_new(rule, by)
        _replace_tiers(rule, tiers)
    return rule


def update_rule(rule: PricingRule, *, by, version: int | None = None,
                tiers: Sequence[tuple[Decimal, Decimal]] | None = None, **values) -> PricingRule:
    """Change a rule; `tiers`, when given, replace all of its tiers."""
    access.require_edit(by)
    _check_fields(PricingRule, values, RULE_FIELDS)
    probe = PricingRule(**{**{f: getattr(rule, f) for f in RULE_FIELDS}, **values})
    current = [(t.min_quantity, t.price) for t in rule.tiers.all()]
    _check_rule(probe, tiers if tiers is not None else current)
    values["currency"] = probe.currency
    with transaction.atomic():
        updated = _save_changes(rule, values, by, version)
        if tiers is not None and tiers != current:
            _replace_tiers(updated, tiers)
            record_changes(updated, {"tiers": (_tiers_text(current), _tiers_text(tiers))}, by)
    return updated


def _tiers_text(tiers: Sequence[tuple[Decimal, Decimal]]) -> str:
    return "; ".join(f"from {q}: {p}" for q, p in tiers)


def _replace_tiers(rule: PricingRule, tiers: Sequence[tuple[Decimal, Decimal]] | None) -> None:
    rule.tiers.all().delete()
    PriceTier.objects.bulk_create(PriceTier(rule=rule, min_quantity=q, price=p)
                                  for q, p in sorted(tiers or ()))


def delete_rule(rule: PricingRule, *, by, version: int | None = None) -> None:
    access.require_edit(by)
    _delete(rule, by, version)


# --- tax and exchange rates ---------------------------------------------------------------------

TAX_FIELDS = ("name", "country", "state", "rate", "prices_include_tax")


def create_tax_rate(*, by, **values) -> TaxRate:
    """Add the tax rate of a country or a state."""
    access.require_edit(by)
    _check_fields(TaxRate, values, TAX_FIELDS)
    values["country"] = (values.get("country") or "").upper()
    values["state"] = (values.get("state") or "").upper()
    return _save_new(TaxRate(**values), by)


def update_tax_rate(tax: TaxRate, *, by, version: int | None = None, **values) -> TaxRate:
    access.require_edit(by)
    _check_fields(TaxRate, values, TAX_FIELDS)
    for key in ("country", "state"):
        if key in values:
            values[key] = (values[key] or "").upper()
    return _save_changes(tax, values, by, version)


def delete_tax_rate(tax: TaxRate, *, by, version: int | None = None) -> None:
    access.require_edit(by)
    _delete(tax, by, version)


def create_exchange_rate(*, by, base: str, quote: str, rate: Decimal, date: date,
                         version: int | None = None) -> ExchangeRate:
    """Record a rate from a date on. A pair lives in one direction only: once USD→EUR is
    recorded, EUR→USD is read by dividing by it (so a round trip never drifts)."""
    access.require_edit(by)
    base = context.check_currency(base, "base")
    quote = context.check_currency(quote, "quote")
    if base == quote:
        raise ValidationError({"quote": ["Choose two different currencies."]})
    if ExchangeRate.objects.filter(base=quote, quote=base).exists():
        raise ValidationError({"base": [
            f"Rates of this pair are recorded as {quote}→{base}: enter 1 {quote} in {base}."]})
    existing = ExchangeRate.objects.filter(base=base, quote=quote, date=date).first()
    if existing is not None:
        return _save_changes(existing, {"rate": rate}, by, version)
    return _save_new(ExchangeRate(base=base, quote=quote, rate=rate, date=date), by)


def delete_exchange_rate(rate: ExchangeRate, *, by, version: int | None = None) -> None:
    access.require_edit(by)
    _delete(rate, by, version)
