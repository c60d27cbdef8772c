"""Reads about customer health, restricted to the accounts the user may see."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.urls import reverse

from salesplan.core.listing import Page, capped_count, keyset_page, sorted_not_walked
from salesplan.core.selectors import get_visible
from salesplan.customers.models import Account
from salesplan.engines import health as engine
from salesplan.org.models import Role
from salesplan.pipeline.models import Opportunity, PipelineKind, Stage, StageKind

from .models import AccountHealth
from .services import at_risk_rule

AT_RISK_SORTS = {"score": "score", "change": "change", "name": "account__name_key",
                 "-score": "-score"}
MAX_RENEWAL_DAYS = 365


def _sees_a_team(user) -> bool:
    """Whether the user sees the records of several owners (a manager's team), so many
    accounts, rather than a rep's own few (as `VisibleQuerySet.disjoint_parts`)."""
    return len(getattr(user, "visible_owner_ids", None) or ()) > 1


def visible_health(user, *, order: str | None = None) -> QuerySet[AccountHealth]:
    """Health rows of the accounts the user may see, found from the visible accounts'
    ids (`visible_pk_parts`: the owner index, the territory's ids); with the OR of
    `visible_to`, PostgreSQL read the million accounts to keep a rep's few thousand.

    Unordered (a count) and for a rep, the database starts from those ids and looks each
    account's row up by key: a rep's few thousand, or as many as a capped count needs.
    A team's list, read in `order` (a field of AccountHealth), walks that order's index
    and tests each row, since a manager sees one account in twenty and a page of theirs
    comes within the first thousand rows: against the hashed parts for the health row's
    own index (looking up their 50,000 accounts' rows and sorting them took 0.37 s);
    through the account row for the account's name, whose index is then walked (the
    hashed parts made PostgreSQL sort every visible row: 0.86 s against 0.04 s)."""
    rows = AccountHealth.objects.all()
    parts = Account.objects.visible_pk_parts(user)
    if parts is None:
        return rows
    if order is None or not _sees_a_team(user):
        return rows.filter(account__in=parts[0].union(*parts[1:], all=True)
                           if len(parts) > 1 else parts[0])
    if order.lstrip("-").startswith("account__"):
        return rows.filter(account__in=Account.objects.visible_to(user).values("pk"))
    seen = Q()
    for part in parts:
        seen |= Q(account__in=part)
    return rows.filter(seen)


def at_risk(user, *, sort: str = "score") -> QuerySet[AccountHealth]:
    """At-risk rows the user sees, to be read in the order of `sort`."""
    order = AT_RISK_SORTS.get(sort, "score")
    return visible_health(user, order=order).filter(at_risk_rule()).select_related(
        "account", "account__owner")


def at_risk_page(user, *, sort: str = "score", cursor: str | None = None,
                 limit: int | None = None) -> Page:
    if sort not in AT_RISK_SORTS:
        sort = "score"
    return keyset_page(at_risk(user, sort=sort), sort_field=AT_RISK_SORTS[sort],
                       sort_key=sort, cursor=cursor, limit=limit)


def at_risk_count(user) -> tuple[int, bool]:
    return capped_count(visible_health(user).filter(at_risk_rule()))


def components(row: AccountHealth) -> list[engine.Component]:
    """The five components of a stored score with their reasons."""
    facts = engine.Facts(row.days_since_contact, row.contacts_90d, row.open_opportunities,
                         row.bookings_12m, row.bookings_prev_12m, row.overdue_tasks)
    points = {"recency": row.recency_points, "frequency": row.frequency_points,
              "opportunities": row.opportunity_points, "trend": row.trend_points,
              "follow_ups": row.follow_up_points}
    return engine.explain(facts, points, row.currency)


def account_health(user, account_id: int) -> tuple[Account, AccountHealth | None]:
    """The account (NotFound unless visible) and its stored health, if computed."""
    account = get_visible(Account, user, account_id)
    return account, AccountHealth.objects.filter(pk=account.pk).first()


def reasons_summary(row: AccountHealth) -> str:
    """The weakest components, for one line in a list."""
    weak = sorted(components(row), key=lambda c: c.points / c.max_points)[:2]
    return " ".join(c.reason for c in weak if c.points < c.max_points)


# --- Renewals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Renewal:
    """A renewal coming up: an open deal of a renewal pipeline closing in the window, or
    the first anniversary of a deal won a year before."""

    opportunity: Opportunity
    due: date
    kind: str  # "open_renewal" | "anniversary"

    @property
    def kind_label(self) -> str:
        return "Open renewal" if self.kind == "open_renewal" else "Anniversary of a won deal"

    @property
    def amount(self) -> Decimal:
        return self.opportunity.amount


def anniversary(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def renewal_queries(user, *, today: date, days: int) -> list[tuple[QuerySet, QuerySet]]:
    """(open renewals due in the window, deals won a year before it) for each disjoint
    part of the user's deals. A rep's in two parts (`visible_parts`): what they own,
    then the rest of their territory accounts' deals, each read on its own index,
    (owner, status, close date) or (account, close date); as one query with the OR of
    `visible_to`, PostgreSQL read every deal of the company closing in the window
    (250,000 at 5M deals, 0.6 s) to keep a rep's few dozen. A team's in one query: their
    territories' 50,000 accounts are tested faster against each deal of that one read
    than looked up one by one (a manager's took 1.5 s in parts, 0.65 s in one)."""
    if not 1 <= days <= MAX_RENEWAL_DAYS:
        from django.core.exceptions import ValidationError

        raise ValidationError({"days": f"Choose between 1 and {MAX_RENEWAL_DAYS} days."})
    end = today + timedelta(days=days)
    # By stage, so the (stage, close date) index finds them among all open deals.
    renewal_stages = list(Stage.objects.filter(pipeline__kind=PipelineKind.RENEWAL,
                                               kind=StageKind.OPEN).values_list("pk", flat=True))
    # Won a year before the window: their first anniversary falls inside it.
    start_won = today.replace(year=today.year - 1) if not (today.month == 2 and today.day == 29) \
        else date(today.year - 1, 2, 28)
    end_won = start_won + timedelta(days=days)
    return [(part.filter(stage_id__in=renewal_stages, close_date__gte=today,
                         close_date__lte=end),
             part.filter(Q(status=StageKind.WON), close_date__gte=start_won,
                         close_date__lte=end_won))
            for part in _deal_parts(user)]


def _deal_parts(user) -> Sequence[QuerySet]:
    if _sees_a_team(user):
        return [Opportunity.objects.visible_to(user)]
    return Opportunity.objects.visible_parts(user)


def _first(queryset: QuerySet, limit: int, *, few: bool = False,
           walk: bool = True) -> list[tuple[date, int]]:
    """(close date, id) of the first rows by close date. With `few` (a filter on a
    handful of stages) the matching rows are read through the stage index and sorted
    here, since an ORDER BY close date would make the database walk every deal closing
    in the window. Without `walk` the database sorts the rows its other conditions find
    (a territory part, see `sorted_not_walked`)."""
    if few:
        return sorted(queryset.order_by().values_list("close_date", "pk"))[:limit]
    order = ("close_date", "id") if walk else (sorted_not_walked("close_date"),
                                                sorted_not_walked("id"))
    return list(queryset.order_by(*order).values_list("close_date", "pk")[:limit])


def renewals(user, *, today: date, days: int = 90, limit: int = 200) -> tuple[list[Renewal], int]:
    """Renewals due in the next `days` days, soonest first, and how many there are."""
    parts = renewal_queries(user, today=today, days=days)
    open_keys: list[tuple[date, int]] = []
    won_keys: list[tuple[date, int]] = []
    total = 0
    for i, (open_renewals, won) in enumerate(parts):
        open_keys += _first(open_renewals, limit, few=True)
        won_keys += _first(won, limit, walk=i == 0)
        total += open_renewals.order_by().count() + won.order_by().count()
    # The parts are disjoint: the first `limit` of each, merged, hold the first overall.
    open_ids = {pk for _, pk in sorted(open_keys)[:limit]}
    won_ids = {pk for _, pk in sorted(won_keys)[:limit]}
    deals = Opportunity.objects.filter(pk__in=open_ids | won_ids).select_related(
        "account", "account__health", "owner", "pipeline")
    rows = [Renewal(o, o.close_date, "open_renewal") if o.pk in open_ids
            else Renewal(o, anniversary(o.close_date), "anniversary") for o in deals]
    rows.sort(key=lambda r: (r.due, r.opportunity.pk))
    return rows[:limit], total


# --- Dashboard ------------------------------------------------------------------------------


def dashboard_card(user) -> dict | None:
    """Health at a glance for the home dashboards: accounts at risk and the average
    score of the accounts the user sees; None for roles without customers."""
    if not user.is_authenticated or user.role == Role.MARKETING and not user.is_admin:
        return None
    count, capped = at_risk_count(user)
    worst = list(at_risk(user).order_by("score", "pk")[:5])
    return {
        "title": "Customer health",
        "at_risk": count, "at_risk_capped": capped,
        "worst": [{"account": row.account.name, "score": row.score,
                   "url": reverse("web:account_detail", args=[row.account_id]),
                   "reason": reasons_summary(row)} for row in worst],
        "url": reverse("web:health:at_risk"),
    }

