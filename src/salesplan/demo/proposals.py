"""Demo quotes on some of the reps' open opportunities, in every status, built through the
proposals services (after the pricing section has built the catalogue).

Most quotes stay within the rep's 10%; some go deeper and wait in the managers' approval
inbox, some are approved, sent, declined, expired, or accepted (which wins the deal with
the quote's total). A few sent quotes have a second version.
"""

import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError

from salesplan.org.models import Role, User
from salesplan.pipeline.models import Opportunity, StageKind
from salesplan.pricing.models import PriceBookEntry
from salesplan.proposals import services
from salesplan.proposals.models import Quote, QuoteStatus, QuoteVersion

from .org import DemoOrg

MAX_ACCOUNTS = 200_000
PAYMENT_TERMS = ["Net 30", "Net 45", "50% on order, 50% on delivery", "Net 60"]
DELIVERY_TERMS = ["Within 4 weeks of order", "Within 2 weeks of order",
                  "Staged delivery as agreed in the project plan"]
# What becomes of the quotes, in order, for a demo of a given size.
FATES = ["draft", "in_approval", "approved", "sent", "sent_v2", "accepted", "rejected",
         "expired", "in_approval", "sent", "draft", "approved"]


def build(org: DemoOrg, *, accounts: int, today: date, rng: random.Random,
          log: Callable[[str], None]) -> None:
    """Create quotes in various statuses (skipped above MAX_ACCOUNTS)."""
    if accounts > MAX_ACCOUNTS:
        log("Quotes: skipped at this scale.")
        return
    products = list(PriceBookEntry.objects.filter(
        price_book__is_standard=True, price_book__currency="USD", product__active=True,
        product__kind__in=["product", "service"]).values_list("product_id", flat=True)
        .order_by("product__sku"))
    if not products:
        log("Quotes: no catalogue to quote from.")
        return
    rep_ids = [rep.pk for rep in org.reps] or list(
        User.objects.filter(role=Role.REP, is_active=True).values_list("id", flat=True))
    count = max(6, min(60, accounts // 50))
    opportunities = list(Opportunity.objects.filter(
        owner_id__in=rep_ids, status=StageKind.OPEN, currency="USD")
        .select_related("owner", "owner__team", "owner__team__parent", "account")
        .order_by("id")[: count * 3])
    rng.shuffle(opportunities)
    made: dict[str, int] = {}
    for index, opportunity in enumerate(opportunities[:count]):
        fate = FATES[index % len(FATES)]
        try:
            _quote(opportunity, fate, products, rng, today)
        except (ValidationError, PermissionDenied) as exc:
            log(f"Quotes: {opportunity} left out ({' '.join(getattr(exc, 'messages', []))}).")
            continue
        made[fate] = made.get(fate, 0) + 1
    summary = ", ".join(f"{n} {fate}" for fate, n in sorted(made.items()))
    log(f"Quotes: {sum(made.values())} ({summary}).")


def _lines(products: list[int], rng: random.Random, deep: bool) -> list[dict]:
    lines = []
    for product_id in rng.sample(products, k=min(len(products), rng.randint(2, 6))):
        discount = Decimal(rng.choice([0, 0, 0, 5, 8, 10]))
        lines.append({"product_id": product_id, "quantity": Decimal(rng.randint(1, 40)),
                      "discount_pct": discount})
    if deep:
        lines[0]["discount_pct"] = Decimal(rng.choice([12, 15, 18, 22, 25]))
    return lines


def _quote(opportunity: Opportunity, fate: str, products: list[int], rng: random.Random,
           today: date) -> Quote:
    rep = opportunity.owner
    deep = fate in ("in_approval", "approved") or (fate == "sent" and rng.random() < 0.5)
    quote = services.create_quote(
        by=rep, opportunity=opportunity, title=f"{opportunity.account.name} proposal",
        lines=_lines(products, rng, deep), payment_terms=rng.choice(PAYMENT_TERMS),
        delivery_terms=rng.choice(DELIVERY_TERMS),
        introduction="Thank you for the opportunity to propose the following.")
    if fate == "draft":
        return quote
    services.submit_quote(quote, by=rep)
    if fate == "in_approval":
        return quote
    _approve_all(quote)
    if quote.status != QuoteStatus.APPROVED or fate == "approved":
        return quote
    services.send_quote(quote, by=rep)
    if fate == "sent_v2":
        services.new_version(quote, by=rep)
        services.update_quote(quote, by=rep, data={"payment_terms": "Net 60"})
        services.submit_quote(quote, by=rep)
        _approve_all(quote)
        services.send_quote(quote, by=rep)
    elif fate == "accepted":
        services.accept_quote(quote, by=rep)
    elif fate == "rejected":
        services.reject_quote(quote, by=rep, reason="Went with a cheaper offer.")
    elif fate == "expired":
        # A quote sent long ago whose validity has passed.
        QuoteVersion.objects.filter(quote=quote, number=quote.current_number).update(
            valid_until=today - timedelta(days=rng.randint(1, 20)))
        services.expire_quotes(today=today)
    return quote


def _approve_all(quote: Quote) -> None:
    """Each approval by the person it is addressed to (an admin for a step addressed to
    nobody)."""
    version = services.current_version(quote)
    for approval in version.approvals.filter(status="pending").select_related(
            "assignee").order_by("step", "id"):
        approver = approval.assignee or User.objects.filter(
            role=Role.ADMIN, is_active=True).order_by("id").first()
        if approver is None:
            return
        services.approve(approval, by=approver, comment="Agreed for this customer.")
    quote.refresh_from_db()
