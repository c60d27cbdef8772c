"""Reads about customer health, restricted to the accounts the user may see."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.urls import reverse

from salesplan.core.listing import Page, capped_count, keyset_page
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


def visible_health(user) -> QuerySet[AccountHealth]:
    """Health rows of the accounts the user may see."""
    accounts = Account.objects.visible_to(user)
    rows = AccountHealth.objects.all()
    if accounts.query.where:  # restricted: keep the user's accounts only
        rows = rows.filter(account__in=accounts.values("pk"))
    return rows


def at_risk(user) -> QuerySet[AccountHealth]:
    return visible_health(user).filter(at_risk_rule()).select_related("account",
                                                                      "account__owner")


def at_risk_page(user, *, sort: str = "score", cursor: str | None = None,
                 limit: int | None = None) -> Page:
    if sort not in AT_RISK_SORTS:
        sort = "score"
    return keyset_page(at_risk(user), sort_field=AT_RISK_SORTS[sort], sort_key=sort,
                       cursor=cursor, limit=limit)


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


def renewal_queries(user, *, today: date, days: int) -> tuple[QuerySet, QuerySet]:
    if not 1 <= days <= MAX_RENEWAL_DAYS:
        from django.core.exceptions import ValidationError

        raise ValidationError({"days": f"Choose between 1 and {MAX_RENEWAL_DAYS} days."})
    end = today + timedelta(days=days)
    visible = Opportunity.objects.visible_to(user)
    # By stage, so the (stage, close date) index finds them among all open deals.
    renewal_stages = list(Stage.objects.filter(pipeline__kind=PipelineKind.RENEWAL,
                                               kind=StageKind.OPEN).values_list("pk", flat=True))
    open_renewals = visible.filter(stage_id__in=renewal_stages, close_date__gte=today,
                                   close_date__lte=end)
    # Won a year before the window: their first anniversary falls inside it.
    start_won = today.replace(year=today.year - 1) if not (today.month == 2 and today.day == 29) \
        else date(today.year - 1, 2, 28)
    end_won = start_won + timedelta(days=days)
    won = visible.filter(Q(status=StageKind.WON), close_date__gte=start_won,
                         close_date__lte=end_won)
    return open_renewals, won


def _first(queryset: QuerySet, limit: int, *, few: bool = False) -> list[Opportunity]:
    """The first rows by close date, then joined. With `few` (a filter on a handful of
    stages) the matching rows are read through the stage index and sorted here, since
    an ORDER BY close date would make the database walk every deal closing in the window."""
    if few:
        pairs = sorted(queryset.order_by().values_list("close_date", "pk"))
        ids = [pk for _, pk in pairs[:limit]]
    else:
        ids = list(queryset.order_by("close_date", "id").values_list("pk", flat=True)[:limit])
    rows = Opportunity.objects.filter(pk__in=ids).select_related("account", "account__health",
                                                                 "owner", "pipeline")
    return sorted(rows, key=lambda o: (o.close_date, o.pk))


def renewals(user, *, today: date, days: int = 90, limit: int = 200) -> tuple[list[Renewal], int]:
    """Renewals due in the next `days` days, soonest first, and how many there are."""
    open_renewals, won = renewal_queries(user, today=today, days=days)
    rows = [Renewal(o, o.close_date, "open_renewal")
            for o in _first(open_renewals, limit, few=True)]
    rows += [Renewal(o, anniversary(o.close_date), "anniversary") for o in _first(won, limit)]
    rows.sort(key=lambda r: (r.due, r.opportunity.pk))
    total = open_renewals.order_by().count() + won.order_by().count()
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

