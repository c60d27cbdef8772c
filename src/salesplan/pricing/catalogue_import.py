"""Import products and their list prices from a CSV file: all rows or none.

Columns (header names, any order; only sku, name, family and list_price are required):
    sku, name, family, kind (product/service/bundle), unit, cost, cost_currency, active
    (yes/no), description, list_price, floor_price, max_discount_pct, min_margin_pct

A row whose SKU exists updates that product; a family named for the first time is
created. Every row is checked before anything is written; any error refuses the whole
file and names the row (as numbered in the file, the header being row 1) and column.
"""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from salesplan.core.money import CURRENCY_CHOICES

from . import access, services
from .models import PriceBook, Product, ProductFamily, ProductKind

REQUIRED = ("sku", "name", "family", "list_price")
OPTIONAL = ("kind", "unit", "cost", "cost_currency", "active", "description", "floor_price",
            "max_discount_pct", "min_margin_pct")
CURRENCIES = {code for code, _ in CURRENCY_CHOICES}
TRUE, FALSE = {"yes", "y", "true", "1", ""}, {"no", "n", "false", "0"}
MAX_ROWS = 50_000


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    families_created: list[str] = field(default_factory=list)
    price_book: str = ""


def _decimal(text: str, *, places: int, low: Decimal, high: Decimal | None = None) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError(f"“{text}” is not a number.") from exc
    if not value.is_finite() or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"Must be {bound}.")
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"At most {places} decimal places.")
    return value


def _parse_row(row: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The row's values, and its errors by column."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    text = {k: (v or "").strip() for k, v in row.items() if k}
    for column in REQUIRED:
        if not text.get(column):
            errors[column] = "This column is required."
    values["sku"], values["name"] = text.get("sku", ""), text.get("name", "")
    values["family"] = text.get("family", "")
    kind = text.get("kind", "").lower() or ProductKind.PRODUCT
    if kind not in ProductKind.values:
        errors["kind"] = f"Use one of {', '.join(ProductKind.values)}."
    values["kind"] = kind
    values["unit"] = text.get("unit") or "each"
    values["description"] = text.get("description", "")
    currency = (text.get("cost_currency") or "USD").upper()
    if currency not in CURRENCIES:
        errors["cost_currency"] = f"Unknown currency “{currency}”."
    values["cost_currency"] = currency
    active = text.get("active", "").lower()
    if active not in TRUE | FALSE:
        errors["active"] = "Use yes or no."
    values["active"] = active in TRUE
    numbers = {"cost": (4, Decimal(0), None), "list_price": (4, Decimal(0), None),
               "floor_price": (4, Decimal(0), None), "max_discount_pct": (2, Decimal(0),
                                                                          Decimal(100)),
               "min_margin_pct": (2, Decimal(0), Decimal(100))}
    for column, (places, low, high) in numbers.items():
        if text.get(column):
            try:
                values[column] = _decimal(text[column], places=places, low=low, high=high)
            except ValueError as exc:
                errors[column] = str(exc)
        else:
            values[column] = Decimal(0) if column == "cost" else None
    if values.get("floor_price") is not None and values.get("list_price") is not None \
            and values["floor_price"] > values["list_price"]:
        errors["floor_price"] = "The floor price cannot be above the list price."
    return values, errors


def read_rows(content: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in headers]
    unknown = [h for h in headers if h and h not in REQUIRED + OPTIONAL]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s): {', '.join(unknown)}")
        raise ValidationError({"file": ["The header has " + "; ".join(problems) + "."]})
    reader.fieldnames = headers
    rows = list(reader)
    if len(rows) > MAX_ROWS:
        raise ValidationError({"file": [f"At most {MAX_ROWS:,} rows per file."]})
    return rows


def import_catalogue(content: str, *, by, price_book: PriceBook) -> ImportResult:
    """Create or update the products of the CSV and set their list prices in the book;
    nothing is written unless every row is valid."""
    access.require_edit(by)
    rows = read_rows(content)
    parsed, errors = [], {}
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        values, row_errors = _parse_row(row)
        sku = values["sku"]
        if sku and sku in seen:
            row_errors["sku"] = f"SKU {sku} is also on row {seen[sku]}."
        seen.setdefault(sku, number)
        errors.update({f"row {number}.{col}": [msg] for col, msg in row_errors.items()})
        parsed.append((number, values))
    if not rows:
        errors["file"] = ["The file has no rows."]
    if errors:
        raise ValidationError(errors)
    return _write(parsed, by=by, price_book=price_book)


def _write(parsed: list[tuple[int, dict[str, Any]]], *, by, price_book: PriceBook) -> ImportResult:
    result = ImportResult(price_book=price_book.name)
    families = {f.name.lower(): f for f in ProductFamily.objects.all()}
    existing = {p.sku: p for p in Product.objects.filter(sku__in=[v["sku"] for _, v in parsed])}
    with transaction.atomic():
        for number, values in parsed:
            try:
                _write_row(values, by=by, price_book=price_book, families=families,
                           existing=existing, result=result)
            except ValidationError as exc:
                messages = exc.message_dict if hasattr(exc, "error_dict") else {
                    "row": exc.messages}
                raise ValidationError({f"row {number}.{k}": v
                                       for k, v in messages.items()}) from exc
    return result


def _write_row(values: dict[str, Any], *, by, price_book: PriceBook,
               families: dict[str, ProductFamily], existing: dict[str, Product],
               result: ImportResult) -> None:
    family_name = values.pop("family")
    family = families.get(family_name.lower())
    if family is None:
        family = services.create_family(by=by, name=family_name)
        families[family_name.lower()] = family
        result.families_created.append(family_name)
    list_price, floor_price = values.pop("list_price"), values.pop("floor_price")
    values["family"] = family
    product = existing.get(values["sku"])
    if product is None:
        product = services.create_product(by=by, **values)
        result.created += 1
    else:
        product = services.update_product(product, by=by, **values)
        result.updated += 1
    services.set_entry(price_book, product, by=by, list_price=list_price,
                       floor_price=floor_price)
