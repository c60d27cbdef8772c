"""What each import column may hold: fast parsers derived from the model's own constraints.

A 100,000-row file cannot afford `full_clean()` per row, so each importable field gets a
small parser built once from the model field (max length, choices, number range, decimal
digits, email or date format). A parser takes the cell text and returns the value or
raises `CellError` with the reason the person will read ("'many' is not a whole number").
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import cast

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from salesplan.activities.models import Activity
from salesplan.customers.models import Account, Contact, Lead, LeadStatus
from salesplan.pipeline.models import Opportunity

RESOURCES = ("account", "contact", "lead", "opportunity")
EXPORT_RESOURCES = ("account", "contact", "lead", "opportunity", "activity")
MODELS: dict[str, type[models.Model]] = {
    "account": Account, "contact": Contact, "lead": Lead, "opportunity": Opportunity,
    "activity": Activity,
}
RESOURCE_ALIASES = {"accounts": "account", "contacts": "contact", "leads": "lead",
                    "opportunities": "opportunity", "deals": "opportunity",
                    "activities": "activity"}


class CellError(ValueError):
    """A cell that cannot be imported; the message is the reason, in plain words."""


# Deliberately close to Django's EmailValidator (dot-atom local part, dotted domain with a
# letters-only top-level domain) but one precompiled regex, so it costs about a microsecond.
EMAIL_RE = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
THOUSANDS_RE = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
TRUE_WORDS = {"1", "true", "yes", "y", "x", "on"}
FALSE_WORDS = {"0", "false", "no", "n", "off"}

Parser = Callable[[str], object]


@dataclass(frozen=True)
class Column:
    """One field a file column can fill."""

    field: str
    label: str
    parse: Parser
    required: bool = False
    synonyms: tuple[str, ...] = ()
    # A blank cell on a new record leaves the model default in place (country "US").
    has_default: bool = False


def _text_parser(max_length: int, lower: bool = False) -> Parser:
    def parse(text: str) -> str:
        if len(text) > max_length:
            raise CellError(f"is longer than {max_length} characters")
        return text.lower() if lower else text
    return parse


def _email_parser(max_length: int) -> Parser:
    def parse(text: str) -> str:
        value = text.lower()
        if len(value) > max_length or not EMAIL_RE.match(value):
            raise CellError(f"'{text}' is not a valid email address")
        return value
    return parse


def _url_parser(max_length: int) -> Parser:
    def parse(text: str) -> str:
        value = text if "://" in text else f"https://{text}"
        if len(value) > max_length or not URL_RE.match(value):
            raise CellError(f"'{text}' is not a valid web address")
        return value
    return parse


def _choice_parser(choices) -> Parser:
    lookup: dict[str, str] = {}
    for value, label in choices:
        lookup[str(value).lower()] = value
        lookup[str(label).lower()] = value
    allowed = ", ".join(str(v) for v, _ in choices if v != "")

    def parse(text: str) -> str:
        value = lookup.get(text.lower())
        if value is None:
            raise CellError(f"'{text}' is not one of: {allowed}")
        return value
    return parse


def _limits(field: models.Field) -> tuple[object, object]:
    low = high = None
    for validator in field.validators:
        if isinstance(validator, MinValueValidator):
            low = validator.limit_value
        elif isinstance(validator, MaxValueValidator):
            high = validator.limit_value
    if isinstance(field, models.PositiveIntegerField | models.PositiveSmallIntegerField):
        low = 0 if low is None else max(low, 0)
    return low, high


def _check_range(text: str, number, low, high) -> None:
    if low is not None and number < low:
        raise CellError(f"'{text}' is less than {low}")
    if high is not None and number > high:
        raise CellError(f"'{text}' is more than {high:,}")


def _int_parser(field: models.Field) -> Parser:
    low, high = _limits(field)

    def parse(text: str) -> int:
        cleaned = text.replace(",", "") if THOUSANDS_RE.match(text) else text
        if cleaned.endswith(".0"):  # spreadsheets store whole numbers as 12.0
            cleaned = cleaned[:-2]
        try:
            number = int(cleaned)
        except ValueError:
            raise CellError(f"'{text}' is not a whole number") from None
        _check_range(text, number, low, high)
        return number
    return parse


def _decimal_parser(field: models.DecimalField) -> Parser:
    low, high = _limits(field)
    places = field.decimal_places
    whole_digits = field.max_digits - places
    step = Decimal(1).scaleb(-places)

    def parse(text: str) -> Decimal:
        cleaned = text.replace(",", "") if THOUSANDS_RE.match(text) else text
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise CellError(f"'{text}' is not a number") from None
        if not number.is_finite():
            raise CellError(f"'{text}' is not a number")
        number = number.quantize(step)
        if number.adjusted() + 1 > whole_digits:
            raise CellError(f"'{text}' has more than {whole_digits} digits before the point")
        _check_range(text, number, low, high)
        return number
    return parse


def parse_date(text: str) -> date:
    try:
        # Spreadsheet dates arrive as "2026-03-31 00:00:00".
        return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
    except ValueError:
        raise CellError(f"'{text}' is not a date (use YYYY-MM-DD)") from None


def parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise CellError(f"'{text}' is not yes or no")


def parser_for(field: models.Field) -> Parser:
    """The parser matching a model field's own constraints."""
    if field.choices:
        return _choice_parser(field.choices)
    if isinstance(field, models.EmailField):
        return _email_parser(field.max_length or 254)
    if isinstance(field, models.URLField):
        return _url_parser(field.max_length or 200)
    if isinstance(field, models.BooleanField):
        return parse_bool
    if isinstance(field, models.DateField):
        return parse_date
    if isinstance(field, models.DecimalField):
        return _decimal_parser(field)
    if isinstance(field, models.IntegerField):
        return _int_parser(field)
    if isinstance(field, models.CharField):
        return _text_parser(field.max_length or 255)
    raise TypeError(f"No import parser for {field!r}")


def _country(text: str) -> str:
    if len(text) != 2 or not text.isalpha():
        raise CellError(f"'{text}' is not a two-letter country code")
    return text.upper()


# Columns whose values name other records; resolved in bulk by the importer.
REFERENCE = object()

SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("account name", "company", "company name", "organization", "organisation",
             "deal", "deal name", "opportunity", "opportunity name"),
    "domain": ("web domain", "email domain"),
    "website": ("web", "url", "homepage", "web site"),
    "employees": ("employee count", "number of employees", "headcount", "staff"),
    "annual_revenue": ("revenue", "annual sales"),
    "street": ("address", "street address", "address line 1"),
    "postal_code": ("zip", "zip code", "postcode", "post code", "postal"),
    "state": ("region", "province", "state/region", "county/state"),
    "first_name": ("first", "given name", "forename"),
    "last_name": ("last", "surname", "family name"),
    "email": ("e-mail", "email address", "e-mail address", "mail"),
    "email_secondary": ("secondary email", "other email", "email 2"),
    "phone": ("phone number", "telephone", "tel", "work phone", "business phone"),
    "mobile": ("mobile phone", "cell", "cell phone"),
    "title": ("job title", "position", "role"),
    "owner": ("owner email", "owner username", "assigned to", "sales rep", "rep"),
    "account": ("account name", "company", "company name", "organization", "account domain"),
    "company": ("company name", "organization", "organisation", "account"),
    "stage": ("stage name", "sales stage", "deal stage"),
    "amount": ("value", "deal value", "deal amount"),
    "close_date": ("close", "expected close", "expected close date", "closing date"),
    "source": ("lead source",),
    "status": ("lead status",),
}

RESOURCE_FIELDS: dict[str, tuple[str, ...]] = {
    "account": ("name", "domain", "website", "industry", "employees", "annual_revenue",
                "street", "city", "postal_code", "state", "county", "country", "tier",
                "lifecycle", "potential", "currency", "owner"),
    "contact": ("first_name", "last_name", "title", "email", "email_secondary", "phone",
                "mobile", "account", "buying_role", "do_not_contact", "owner"),
    "lead": ("first_name", "last_name", "title", "email", "phone", "company", "website",
             "industry", "employees", "city", "state", "postal_code", "country", "source",
             "campaign", "status", "owner"),
    "opportunity": ("name", "account", "stage", "amount", "currency", "close_date",
                    "probability", "forecast_category", "next_step", "owner"),
}
REQUIRED: dict[str, set[str]] = {
    "account": {"name"}, "contact": {"last_name"}, "lead": {"last_name"},
    "opportunity": {"name", "account"},
}
REFERENCE_FIELDS = {"owner", "account", "stage"}
LEAD_STATUSES = tuple((v, label) for v, label in LeadStatus.choices
                      if v != LeadStatus.CONVERTED)


def _column(resource: str, name: str) -> Column:
    model = MODELS[resource]
    field = cast(models.Field, model._meta.get_field(name))
    label = str(field.verbose_name).capitalize()
    if name in REFERENCE_FIELDS:
        parse: Parser = _text_parser(254)
    elif name == "country":
        parse = _country
    elif resource == "lead" and name == "status":
        parse = _choice_parser(LEAD_STATUSES)
    else:
        parse = parser_for(field)
    has_default = field.has_default() and name not in REFERENCE_FIELDS
    return Column(field=name, label=label, parse=parse, required=name in REQUIRED[resource],
                  synonyms=SYNONYMS.get(name, ()), has_default=has_default)


COLUMNS: dict[str, dict[str, Column]] = {
    resource: {name: _column(resource, name) for name in names}
    for resource, names in RESOURCE_FIELDS.items()
}


def normalise_header(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text or "").lower())


def guess_mapping(resource: str, headers: list[str]) -> list[str]:
    """For each header, the field it most likely fills ("" when none): by field name,
    then label, then common synonyms; each field is used once."""
    columns = COLUMNS[resource]
    by_key: dict[str, str] = {}
    # Later passes must not override earlier (stronger) matches.
    for pass_ in ("name", "label", "synonym"):
        for name, column in columns.items():
            keys = {"name": [name], "label": [column.label],
                    "synonym": list(column.synonyms)}[pass_]
            for key in keys:
                by_key.setdefault(normalise_header(key), name)
    mapping, used = [], set()
    for header in headers:
        field = by_key.get(normalise_header(header), "")
        if field in used:
            field = ""
        used.add(field)
        mapping.append(field)
    return mapping


def cell_text(value) -> str:
    """A spreadsheet cell as the text the parsers read."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if not value.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
