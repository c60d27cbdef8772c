"""Numbers and codes as people read them: `{% load readable %}`.

    {{ amount|money:currency }}          USD 5,510,035.02   (None → —)
    {{ amount|money_short:currency }}    USD 5.51 M
    {{ n|counted:"lead" }}               1 lead, 2 leads, 1,204 leads
    {{ n|counted:"opportunity,opportunities" }}
    {{ value|plain_number }}             949 (949.0000), 12.5 (12.50)
    {{ code|label }}                     mid_market → Mid-market, territory_assignment →
                                         Territory assignment, a · b · c → A · b · c
"""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()

DASH = "—"
# Codes whose plain reading is not their words with spaces.
LABELS = {
    "mid_market": "Mid-market",
    "smb": "Small business",
    "b2b": "B2B",
    "b2c": "B2C",
    "sla": "SLA",
    "crm": "CRM",
    "api": "API",
    "csv": "CSV",
    "xlsx": "XLSX",
    "pdf": "PDF",
}


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money(value, currency: str = "") -> str:
    """Two decimals, grouped thousands, the currency code before it."""
    amount = _decimal(value)
    if amount is None:
        return DASH
    text = f"{amount:,.2f}"
    return f"{currency} {text}" if currency else text


@register.filter
def money_short(value, currency: str = "") -> str:
    """Large amounts in thousands or millions (USD 5.51 M), for headlines and chart labels."""
    amount = _decimal(value)
    if amount is None:
        return DASH
    size = abs(amount)
    if size >= 1_000_000_000:
        text = f"{amount / 1_000_000_000:,.2f} bn"
    elif size >= 1_000_000:
        text = f"{amount / 1_000_000:,.2f} M"
    elif size >= 10_000:
        text = f"{amount / 1_000:,.1f} k"
    else:
        text = f"{amount:,.0f}"
    return f"{currency} {text}" if currency else text


@register.filter
def plain_number(value) -> str:
    """Grouped digits without trailing zeros: 949.0000 → 949, 1234.50 → 1,234.5."""
    number = _decimal(value)
    if number is None:
        return DASH
    if number == number.to_integral_value():
        return f"{int(number):,}"
    text = f"{number:,.2f}".rstrip("0").rstrip(".")
    return text


@register.filter
def cell(value) -> str:
    """A list cell: amounts with grouped digits and two decimals (5,510,035.02), whole
    numbers grouped (1,204), anything else as it is."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else ("Yes" if value else "No")
    if isinstance(value, Decimal):
        if value.as_tuple().exponent == -2:  # an amount of money: always its cents
            return f"{value:,.2f}"
        return plain_number(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@register.filter
def is_number(value) -> bool:
    return isinstance(value, (int, Decimal, float)) and not isinstance(value, bool)


@register.filter
def counted(value, noun: str) -> str:
    """A count with its noun in the right number: "1 lead", "2 leads". The noun is
    "singular" or "singular,plural" for irregular plurals."""
    try:
        count = int(value)
    except (TypeError, ValueError):
        return f"{value} {noun}"
    singular, _, plural = noun.partition(",")
    if not plural:
        plural = singular + ("es" if singular.endswith(("s", "sh", "ch", "x")) else "s")
    return f"{count:,} {singular if count == 1 else plural}"


def _label_word(code: str) -> str:
    key = code.strip().lower()
    if key in LABELS:
        return LABELS[key]
    return key.replace("_", " ").replace("-", " ")


@register.filter
def label(value) -> str:
    """An internal code as a heading or a cell: words with spaces, the first capitalised;
    parts joined with " · " are read one by one ("bookings · team · rep")."""
    if value is None:
        return ""
    text = str(value)
    if " · " in text:
        parts = [_label_word(part) for part in text.split(" · ")]
    else:
        parts = [_label_word(text)]
    joined = " · ".join(parts)
    return joined[:1].upper() + joined[1:]
