"""Which campaigns brought which pipeline and bookings.

A touch is a campaign response (responded or further) by a contact at the
opportunity's account, or by a lead later converted into that account, made before the
opportunity was created. Each opportunity's amount is shared among the campaigns that
touched it under three models:

- first touch: all of it to the earliest campaign;
- last touch: all of it to the latest campaign before the opportunity was created;
- linear: equal shares, in whole minor units, the leftover units one each to the
  earliest touches (so the shares add up to the amount exactly).

The shares are written once per opportunity and campaign (OpportunityTouch) when the
attribution is refreshed, and summed per campaign, status and currency in the same
refresh (CampaignAttribution): a report reads those few rows, whatever the number of
opportunities; the campaign page's drill-down reads the touch table.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from salesplan.core.money import minor_units
from salesplan.pipeline.models import Opportunity, StageKind

from .models import (
    RESPONDED_STEPS,
    Campaign,
    CampaignAttribution,
    CampaignMember,
    MarketingPolicy,
    OpportunityTouch,
)

MODELS = {"first": "First touch", "last": "Last touch", "linear": "Linear"}
CHUNK = 5000


def split(amount_units: int, n: int) -> list[int]:
    """`amount_units` in n equal whole shares, the leftover one each to the first ones."""
    base, extra = divmod(amount_units, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def shares(amount_units: int, campaign_ids: list[int]) -> list[tuple[int, int, int, int]]:
    """(campaign, first, last, linear) for touches already in time order, one per
    campaign."""
    n = len(campaign_ids)
    linear = split(amount_units, n)
    return [(cid, amount_units if i == 0 else 0, amount_units if i == n - 1 else 0, linear[i])
            for i, cid in enumerate(campaign_ids)]


def touches_by_account(account_ids=None) -> dict[int, list[tuple[datetime, int]]]:
    """(responded_at, campaign) per account, from contacts and from converted leads."""
    result: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    responded = CampaignMember.objects.filter(response__in=RESPONDED_STEPS,
                                              responded_at__isnull=False)
    by_contact = responded.filter(contact__account__isnull=False)
    by_lead = responded.filter(lead__converted_account__isnull=False)
    if account_ids is not None:
        by_contact = by_contact.filter(contact__account_id__in=account_ids)
        by_lead = by_lead.filter(lead__converted_account_id__in=account_ids)
    for rows in (by_contact.values_list("contact__account_id", "responded_at", "campaign_id"),
                 by_lead.values_list("lead__converted_account_id", "responded_at",
                                     "campaign_id")):
        for account_id, at, campaign_id in rows.iterator(chunk_size=CHUNK):
            if at is not None:
                result[account_id].append((at, campaign_id))
    for items in result.values():
        items.sort()
    return result


def touch_rows(opportunity: tuple, touches: list[tuple[datetime, int]]) -> list[OpportunityTouch]:
    opp_id, _account, created_at, amount, currency, status = opportunity
    first_at: dict[int, datetime] = {}
    for at, campaign_id in touches:
        if at <= created_at and campaign_id not in first_at:
            first_at[campaign_id] = at
    if not first_at:
        return []
    ordered = sorted(first_at, key=lambda cid: (first_at[cid], cid))
    units = int((amount or Decimal(0)).scaleb(minor_units(currency)).to_integral_value())
    return [OpportunityTouch(opportunity_id=opp_id, campaign_id=cid, touched_at=first_at[cid],
                             status=status, currency=currency, first_cents=f, last_cents=la,
                             linear_cents=li)
            for cid, f, la, li in shares(units, ordered)]


@transaction.atomic
def refresh(account_ids=None, progress=None) -> dict:
    """Recompute the touches of every opportunity (or of these accounts' ones)."""
    touches = touches_by_account(account_ids)
    old = OpportunityTouch.objects.all()
    opps = Opportunity.objects.all()
    if account_ids is not None:
        account_ids = list(account_ids)
        opps = opps.filter(account_id__in=account_ids)
        old = old.filter(opportunity__in=opps.values("pk"))
    old.delete()
    written = seen = 0
    batch: list[OpportunityTouch] = []
    rows = (opps.filter(account_id__in=list(touches)) if len(touches) < 20_000 else opps)
    for row in rows.order_by().values_list("id", "account_id", "created_at", "amount",
                                           "currency", "status").iterator(chunk_size=CHUNK):
        seen += 1
        found = touches.get(row[1])
        if found:
            batch.extend(touch_rows(row, found))
        if len(batch) >= CHUNK:
            OpportunityTouch.objects.bulk_create(batch, batch_size=1000)
            written += len(batch)
            batch = []
            if progress:
                progress(seen)
    OpportunityTouch.objects.bulk_create(batch, batch_size=1000)
    written += len(batch)
    summarise()
    if account_ids is None:
        MarketingPolicy.objects.filter(pk=MarketingPolicy.current().pk).update(
            attribution_refreshed_at=timezone.now())
    return {"opportunities": seen, "touches": written}


@dataclass
class CampaignResult:
    """A campaign's attributed pipeline (open) and bookings (won) per currency."""

    campaign: Campaign
    pipeline: dict[str, Decimal] = field(default_factory=dict)
    bookings: dict[str, Decimal] = field(default_factory=dict)
    open_count: int = 0
    won_count: int = 0

    @property
    def roi(self) -> Decimal | None:
        """(bookings − cost) / cost, in the campaign's currency; None without a cost."""
        cost = self.campaign.actual_cost
        if not cost:
            return None
        won = self.bookings.get(self.campaign.currency, Decimal(0))
        return ((won - cost) / cost).quantize(Decimal("0.01"))

    @property
    def other_currencies(self) -> bool:
        return any(c != self.campaign.currency for c in [*self.pipeline, *self.bookings])


def summarise() -> int:
    """Re-sum the touch table per campaign, status and currency (one grouped scan)."""
    rows = [CampaignAttribution(campaign_id=c, status=st, currency=cur, first_cents=f or 0,
                                last_cents=la or 0, linear_cents=li or 0, opportunities=n)
            for c, st, cur, f, la, li, n in OpportunityTouch.objects.values_list(
                "campaign_id", "status", "currency").annotate(
                f=Sum("first_cents"), la=Sum("last_cents"), li=Sum("linear_cents"),
                n=Count("campaign_id")).order_by()]
    CampaignAttribution.objects.all().delete()
    CampaignAttribution.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _check(model: str) -> None:
    if model not in MODELS:
        raise ValueError(f"Unknown attribution model {model!r}.")


def sums(model: str, campaign_ids=None) -> list[tuple[int, str, str, int, int]]:
    """(campaign, status, currency, attributed minor units, opportunities) for open and
    won opportunities, from the refresh's summary."""
    _check(model)
    rows = CampaignAttribution.objects.filter(status__in=(StageKind.OPEN, StageKind.WON))
    if campaign_ids is not None:
        rows = rows.filter(campaign_id__in=list(campaign_ids))
    return list(rows.values_list("campaign_id", "status", "currency", f"{model}_cents",
                                 "opportunities").order_by("campaign_id", "status", "currency"))


def sums_from_touches(model: str, campaign_ids=None) -> list[tuple[int, str, str, int, int]]:
    """The same figures summed straight from the touch table (one grouped scan of its
    covering index): what the summary saves a report from doing."""
    _check(model)
    rows = OpportunityTouch.objects.filter(status__in=(StageKind.OPEN, StageKind.WON))
    if campaign_ids is not None:
        rows = rows.filter(campaign_id__in=list(campaign_ids))
    return list(rows.values_list("campaign_id", "status", "currency")
                .annotate(total=Sum(f"{model}_cents"), n=Count("campaign_id"))
                .order_by("campaign_id", "status", "currency"))


def report(model: str, campaigns, *, source=sums) -> list[CampaignResult]:
    """Attribution of each campaign under the model."""
    campaigns = list(campaigns)
    results = {c.pk: CampaignResult(c) for c in campaigns}
    for campaign_id, status, currency, total, n in source(model, results):
        result = results[campaign_id]
        amount = Decimal(total or 0).scaleb(-minor_units(currency))
        if status == StageKind.WON:
            result.bookings[currency] = amount
            result.won_count += n
        else:
            result.pipeline[currency] = amount
            result.open_count += n
    return [results[c.pk] for c in campaigns]


def influenced_opportunities(campaign: Campaign, user, limit: int = 50):
    """Opportunities this campaign touched that the user may see, newest first."""
    ids = OpportunityTouch.objects.filter(campaign=campaign).values("opportunity_id")
    return (Opportunity.objects.visible_to(user).filter(pk__in=ids)
            .select_related("account", "stage").order_by("-created_at", "-id")[:limit])
