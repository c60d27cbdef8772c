"""Product mix from the lines of accepted quotes (the proposals app), where they exist."""

from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum

from salesplan.pipeline.models import Opportunity, StageKind

from ..facts import money
from ..scope import ReportFilters, filtered_owners


def won_opportunities(user, filters: ReportFilters) -> QuerySet[Opportunity]:
    """The won deals a product mix counts, from what the user may see."""
    period = filters.period
    after = date(period.end.year + (period.end.month == 12), period.end.month % 12 + 1, 1)
    qs = Opportunity.objects.visible_to(user).filter(
        status=StageKind.WON, currency=filters.currency, close_date__gte=period.start,
        close_date__lt=after)
    owners = filtered_owners(user, filters, Opportunity)
    if owners is not None:
        qs = qs.filter(owner_id__in=owners)
    if filters.pipeline_id:
        qs = qs.filter(pipeline_id=filters.pipeline_id)
    return qs


def accepted_lines(opportunities: QuerySet[Opportunity]):
    """Lines of the accepted version of the accepted quote of these deals (None when the
    proposals app has no quotes table)."""
    try:
        from salesplan.proposals.models import QuoteLine, QuoteStatus
    except ImportError:
        return None
    return QuoteLine.objects.filter(
        quote_version__quote__status=QuoteStatus.ACCEPTED,
        quote_version__number=F("quote_version__quote__current_number"),
        quote_version__quote__opportunity__in=opportunities.values("pk"))


def quote_product_mix(user, filters: ReportFilters) -> list[tuple[str, str, Decimal, int]]:
    """(sku, name, net amount, deals) per product, largest first."""
    if filters.territory_id:
        return []  # quotes carry no territory; the type-of-sale rows answer instead
    lines = accepted_lines(won_opportunities(user, filters))
    if lines is None:
        return []
    rows = (lines.values("sku", "name").annotate(
        amount=Sum("line_net"), deals=Count("quote_version__quote__opportunity",
                                            distinct=True)).order_by("-amount", "sku"))
    return [(r["sku"], r["name"], money(r["amount"]), r["deals"]) for r in rows]


def opportunities_with_product(qs: QuerySet[Opportunity], sku: str) -> QuerySet[Opportunity]:
    try:
        from salesplan.proposals.models import QuoteStatus
    except ImportError:
        return qs.none()
    return qs.filter(Q(quotes__status=QuoteStatus.ACCEPTED)
                     & Q(quotes__versions__number=F("quotes__current_number"))
                     & Q(quotes__versions__lines__sku=sku)).distinct()
