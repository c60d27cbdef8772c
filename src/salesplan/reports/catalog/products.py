"""Product mix from the lines of accepted quotes (the proposals app), where they exist."""

from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum

from salesplan.pipeline.models import Opportunity, StageKind

from ..facts import money
from ..scope import ReportFilters, filtered_owners


def won_deal_conditions(user, filters: ReportFilters) -> dict | None:
    """The won deals a product mix counts, as conditions on the deal's fields (None: no
    deal the user may see). The owners a report counts already lie within what the user
    may see, so no separate visibility rule is needed."""
    period = filters.period
    after = date(period.end.year + (period.end.month == 12), period.end.month % 12 + 1, 1)
    owners = filtered_owners(user, filters, Opportunity)
    if owners == []:
        return None
    conditions: dict = {"status": StageKind.WON, "currency": filters.currency,
                        "close_date__gte": period.start, "close_date__lt": after}
    if owners is not None:
        conditions["owner_id__in"] = owners
    if filters.pipeline_id:
        conditions["pipeline_id"] = filters.pipeline_id
    return conditions


def accepted_lines(deal: dict):
    """Lines of the accepted version of the accepted quote of the deals meeting `deal`
    (conditions on the deal's fields), read from the quotes' side: the query starts from
    the few accepted quotes instead of listing hundreds of thousands of won deals.
    None when the proposals app has no quotes table."""
    try:
        from salesplan.proposals.models import QuoteLine, QuoteStatus
    except ImportError:
        return None
    via = "quote_version__quote__opportunity__"
    return QuoteLine.objects.filter(
        quote_version__quote__status=QuoteStatus.ACCEPTED,
        quote_version__number=F("quote_version__quote__current_number"),
        **{via + field: value for field, value in deal.items()})


def quote_product_mix(user, filters: ReportFilters) -> list[tuple[str, str, Decimal, int]]:
    """(sku, name, net amount, deals) per product, largest first."""
    if filters.territory_id:
        return []  # quotes carry no territory; the type-of-sale rows answer instead
    deal = won_deal_conditions(user, filters)
    if deal is None:
        return []
    lines = accepted_lines(deal)
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
