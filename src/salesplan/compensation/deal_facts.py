"""What compensation reads of a deal's quote: its product family, its products and, from
the accepted quote, its margin rate.

A deal names no product itself; its quote does. The quote read is the accepted one, else
the newest, in its current version. The deal's family is the product family that carries
the largest part of that version's net (ties: the first name), so a component limited to
some families (`families` in the plan, by the catalogue's family names) counts the deal
when most of it is of those families. Its products (SKUs) feed SPIFFs by product. Its
margin rate (Σ line margin ÷ Σ line net, lines with a known cost) comes from the accepted
quote only — an offer not accepted says nothing firm about the margin — and is applied to
the deal's amount, so a deal in another currency than its quote still gets its margin.
A plan naming a family the catalogue does not have is refused (`check_families`)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F

from salesplan.engines import compensation as engine
from salesplan.pricing.models import ProductFamily
from salesplan.proposals.models import QuoteLine, QuoteStatus

CHUNK = 20_000  # SQLite refuses too many parameters at once


@dataclass(frozen=True)
class DealFacts:
    """A deal's family, products and margin rate as its quote gives them."""

    family: str = ""
    products: frozenset[str] = frozenset()
    margin_rate: Decimal | None = None


@dataclass
class _Quote:
    accepted: bool
    order: tuple
    net_by_family: dict[str, Decimal]
    skus: set[str]
    net: Decimal = Decimal(0)
    net_with_cost: Decimal = Decimal(0)
    margin: Decimal = Decimal(0)

    def facts(self) -> DealFacts:
        family = min(self.net_by_family.items(), key=lambda kv: (-kv[1], kv[0]),
                     default=("", Decimal(0)))[0]
        rate = None
        if self.accepted and self.net_with_cost > 0:
            rate = self.margin / self.net_with_cost
        return DealFacts(family, frozenset(self.skus), rate)


def _quote_lines(ids: list[int]):
    return (QuoteLine.objects
            .filter(quote_version__quote__opportunity_id__in=ids,
                    quote_version__number=F("quote_version__quote__current_number"))
            .values_list("quote_version__quote__opportunity_id", "quote_version__quote_id",
                         "quote_version__quote__status", "quote_version__quote__created_at",
                         "product__family__name", "sku", "line_net", "margin"))


def deal_facts(opportunity_ids: Iterable[int]) -> dict[int, DealFacts]:
    """Per deal with a quote, what its quote says (deals without one are left out)."""
    ids = sorted(set(opportunity_ids))
    quotes: dict[int, dict[int, _Quote]] = {}
    for start in range(0, len(ids), CHUNK):
        for opp_id, quote_id, status, created, family, sku, net, margin in _quote_lines(
                ids[start:start + CHUNK]):
            quote = quotes.setdefault(opp_id, {}).setdefault(quote_id, _Quote(
                status == QuoteStatus.ACCEPTED, (created, quote_id), {}, set()))
            net = Decimal(net)
            quote.net += net
            quote.skus.add(sku)
            if family:
                quote.net_by_family[family] = quote.net_by_family.get(family, Decimal(0)) + net
            if margin is not None:
                quote.net_with_cost += net
                quote.margin += Decimal(margin)
    return {opp_id: max(found.values(), key=lambda q: (q.accepted, q.order)).facts()
            for opp_id, found in quotes.items()}


def with_facts(deal: engine.Deal, facts: DealFacts | None) -> engine.Deal:
    """The engine's deal with its family, products and margin from its quote."""
    if facts is None:
        return deal
    margin = None if facts.margin_rate is None else engine.money(deal.amount * facts.margin_rate)
    return replace(deal, family=facts.family or deal.family,
                   products=deal.products | facts.products,
                   margin=margin if margin is not None else deal.margin)


def enrich(deals: Mapping[int, engine.Deal]) -> dict[int, engine.Deal]:
    """Every deal of a period with what its quote says (one read for all of them)."""
    facts = deal_facts(deals)
    return {pk: with_facts(deal, facts.get(pk)) for pk, deal in deals.items()}


def check_families(definition: Any) -> None:
    """A plan's components name families of the catalogue, or they would match no deal;
    ValidationError on `definition` naming the place and the unknown name."""
    if not isinstance(definition, dict):
        return  # the definition's own reader names that mistake
    known = set(ProductFamily.objects.values_list("name", flat=True))
    for part in ("commissions", "bonuses"):
        items = definition.get(part)
        for i, item in enumerate(items if isinstance(items, list) else []):
            names = item.get("families", []) if isinstance(item, dict) else []
            unknown = sorted(n for n in names if isinstance(n, str) and n not in known) \
                if isinstance(names, list) else []
            if unknown:
                offered = ", ".join(sorted(known)) or "none yet"
                raise ValidationError({"definition": (
                    f"{part}[{i}].families: no product family named {unknown[0]!r} in the "
                    f"catalogue (its families: {offered})")})
