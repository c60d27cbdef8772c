"""The PDF proposal: an HTML template rendered with the quote's printable figures, turned
into PDF by WeasyPrint.

The template is the built-in one unless an admin saved an override; an override is
accepted only once it renders. Templates run in an engine of their own (no template
loading, no tag libraries) and see only plain printable values: cost and margin are never
in the context, so no template can print them. WeasyPrint fetches nothing but `data:`
URLs (the logo is inlined), so a template cannot reach the network or the disk.
"""

import base64
import functools
import mimetypes
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.template import (
    Context,
    Engine,
    Library,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)

from salesplan.core.clock import company_today
from salesplan.core.money import minor_units
from salesplan.org.models import Company

from .models import ProposalTemplate, Quote, QuoteVersion

BUILT_IN_TEMPLATE = Path(__file__).parent / "templates" / "proposals" / "proposal_pdf.html"


def _sandboxed_engine() -> Engine:
    """Django's template language without loading other templates or tag libraries, and
    without {% debug %} (which would print the server's internals into a proposal)."""
    engine = Engine(loaders=[], libraries={}, autoescape=True, string_if_invalid="")
    tags = Library()
    tags.tags = {name: tag for name, tag in defaulttags.register.tags.items()
                 if name not in ("debug", "load")}
    engine.template_builtins = [tags, defaultfilters.register]
    return engine


_engine = _sandboxed_engine()


def built_in_html() -> str:
    return BUILT_IN_TEMPLATE.read_text(encoding="utf-8")


def template_settings() -> ProposalTemplate:
    return ProposalTemplate.objects.order_by("id").first() or ProposalTemplate()


def amount_text(value: Decimal | None, currency: str) -> str:
    if value is None:
        return ""
    return f"{currency} {Decimal(value):,.{minor_units(currency)}f}"


def _number_text(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


def _unit_price_text(value: Decimal, currency: str) -> str:
    """A unit price with the currency's minor units, or up to four places if it has more."""
    value = Decimal(value)
    places = minor_units(currency)
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        places = min(4, -exponent)
    return f"{currency} {value:,.{places}f}"


def _logo_data_uri(company: Company) -> str:
    if not company.logo:
        return ""
    try:
        with company.logo.open("rb") as handle:
            data = handle.read()
    except (OSError, ValueError):
        return ""
    kind = mimetypes.guess_type(company.logo.name or "")[0] or "image/png"
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def printable_context(quote: Quote, version: QuoteVersion, *, company: Company | None = None,
                      style: ProposalTemplate | None = None) -> dict[str, Any]:
    company = company or Company.current()
    style = style or template_settings()
    currency = version.currency
    account = quote.opportunity.account
    contact = version.contact
    owner = quote.owner
    lines = [{
        "position": line.position, "sku": line.sku, "name": line.name, "unit": line.unit,
        "quantity": _number_text(line.quantity),
        "list_unit_price": _unit_price_text(line.list_unit_price, currency),
        "discount_pct": _number_text(Decimal(line.discount_pct).quantize(Decimal("0.01"))),
        "has_discount": Decimal(line.discount_pct) > 0,
        "net_unit_price": _unit_price_text(line.net_unit_price, currency),
        "line_net": amount_text(line.line_net, currency),
        "tax_rate": _number_text(Decimal(line.tax_rate).quantize(Decimal("0.01"))),
        "line_total": amount_text(line.line_total, currency),
    } for line in version.lines.order_by("position")]
    return {
        "company": {"name": company.name, "logo": _logo_data_uri(company)},
        "colours": {"primary": style.primary_colour, "accent": style.accent_colour},
        "quote": {
            "number": quote.number, "title": quote.title, "version": version.number,
            "date": (version.priced_on or company_today()).strftime("%B %-d, %Y"),
            "valid_until": version.valid_until.strftime("%B %-d, %Y"),
            "currency": currency, "payment_terms": version.payment_terms,
            "delivery_terms": version.delivery_terms, "introduction": version.introduction,
            "prices_include_tax": version.prices_include_tax, "tax_label": version.tax_label,
        },
        "customer": {
            "name": account.name, "street": account.street, "city": account.city,
            "postal_code": account.postal_code, "state": account.state,
            "country": account.country,
        },
        "contact": {"name": f"{contact.first_name} {contact.last_name}".strip(),
                    "title": contact.title, "email": contact.email, "phone": contact.phone}
        if contact else None,
        "prepared_by": {"name": str(owner), "title": owner.title, "email": owner.email,
                        "phone": owner.phone},
        "lines": lines,
        "totals": {
            "subtotal": amount_text(version.subtotal, currency),
            "discount_total": amount_text(version.discount_total, currency),
            "has_discount": Decimal(version.discount_total) > 0,
            "tax_total": amount_text(version.tax_total, currency),
            "total": amount_text(version.total, currency),
        },
    }


def render_html(context: dict[str, Any], html: str | None = None) -> str:
    source = html if html is not None else (template_settings().html or built_in_html())
    return _engine.from_string(source).render(Context(context, autoescape=True))


@functools.cache
def _data_only_fetcher():
    """Made once: building it sets up an SSL context, a tenth of a second each time."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=["data"])


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_data_only_fetcher()).write_pdf()


def render_pdf(quote: Quote, version: QuoteVersion) -> bytes:
    """The proposal PDF of this version of the quote."""
    return html_to_pdf(render_html(printable_context(quote, version)))


def sample_context() -> dict[str, Any]:
    """Made-up figures to try a template with before it is saved."""
    today = company_today().strftime("%B %-d, %Y")
    line = {"position": 1, "sku": "SAMPLE-1", "name": "Sample product", "unit": "each",
            "quantity": "2", "list_unit_price": "USD 100.00", "discount_pct": "10.00",
            "has_discount": True, "net_unit_price": "USD 90.00", "line_net": "USD 180.00",
            "tax_rate": "0.00", "line_total": "USD 180.00"}
    return {
        "company": {"name": "Sample company", "logo": ""},
        "colours": {"primary": "#1f4e79", "accent": "#e8eef5"},
        "quote": {"number": "Q000000", "title": "Sample", "version": 1, "date": today,
                  "valid_until": today, "currency": "USD", "payment_terms": "Net 30",
                  "delivery_terms": "On signature", "introduction": "",
                  "prices_include_tax": False, "tax_label": ""},
        "customer": {"name": "Sample customer", "street": "", "city": "", "postal_code": "",
                     "state": "", "country": "US"},
        "contact": None,
        "prepared_by": {"name": "Sample rep", "title": "", "email": "", "phone": ""},
        "lines": [line],
        "totals": {"subtotal": "USD 180.00", "discount_total": "USD 20.00",
                   "has_discount": True, "tax_total": "USD 0.00", "total": "USD 180.00"},
    }


def check_template(html: str) -> None:
    """Refuse a template that does not render to a PDF, naming the problem."""
    try:
        rendered = render_html(sample_context(), html)
    except TemplateSyntaxError as exc:
        raise ValidationError({"html": f"The template does not compile: {exc}"}) from exc
    except Exception as exc:  # noqa: BLE001 - any rendering failure is the template's fault
        raise ValidationError({"html": f"The template does not render: {exc}"}) from exc
    try:
        html_to_pdf(rendered)
    except Exception as exc:  # noqa: BLE001
        raise ValidationError({"html": f"The template does not make a PDF: {exc}"}) from exc
