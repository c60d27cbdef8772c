"""Statistical forecasts of monthly bookings with their backtested accuracy, and the
accuracy of reps' past submissions.

Bookings are won opportunities in the company's currency, by the month of their close
date (fiscal months begin on the first of a calendar month, so calendar months are
fiscal months). The history is the last 36 complete months, starting at the first month
with any bookings. Results are kept a day per scope and month (the nightly refresh job
refits them): reading three years of bookings and fitting the model at every backtest
origin take seconds at millions of deals.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, QuerySet, Sum, Value, When

from salesplan.core.fiscal import CompanyCalendar, FiscalPeriod
from salesplan.engines import forecasting as engine
from salesplan.metrics.selectors import open_or_won_amounts
from salesplan.org.models import Company, Team, User
from salesplan.org.selectors import team_subtree_ids
from salesplan.pipeline.models import Opportunity, StageKind

from . import access, periods
from .models import ForecastSubmission

HISTORY_MONTHS = 36
HORIZON = 6
BACKTEST_FOLDS = 6
BACKTEST_HORIZON = 3
CACHE_SECONDS = 36 * 3600


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Scope:
    """Whose bookings: the company, a team (with its sub-teams) or one rep."""

    key: str  # "company", "team:<id>", "rep:<id>"
    label: str

    def opportunities(self) -> QuerySet:
        kind, _, ident = self.key.partition(":")
        if kind == "team":
            return Opportunity.objects.filter(owner__team_id__in=team_subtree_ids(int(ident)))
        if kind == "rep":
            return Opportunity.objects.filter(owner_id=int(ident))
        return Opportunity.objects.all()

    def owner_ids(self) -> list[int] | None:
        """The owners of `opportunities()` (None: everyone)."""
        kind, _, ident = self.key.partition(":")
        if kind == "team":
            return list(User.objects.filter(team_id__in=team_subtree_ids(int(ident)))
                        .values_list("pk", flat=True))
        if kind == "rep":
            return [int(ident)]
        return None


def scopes_for(user: User) -> list[Scope]:
    """The scopes the user may forecast: everything for executives and admins, the
    managed teams for managers, themselves for reps."""
    result = []
    if access.sees_all(user):
        result.append(Scope("company", "Whole company"))
    team_ids = access.visible_team_ids(user)
    teams = Team.objects.order_by("name") if team_ids is None else Team.objects.filter(
        pk__in=team_ids).order_by("name")
    result += [Scope(f"team:{t.pk}", t.name) for t in teams]
    if not result and access.may_submit(user):
        result.append(Scope(f"rep:{user.pk}", str(user)))
    return result


def scope_for(user: User, key: str | None) -> Scope:
    options = scopes_for(user)
    if not options:
        raise PermissionDenied("You have no bookings to forecast.")
    if not key:
        return options[0]
    for scope in options:
        if scope.key == key:
            return scope
    raise ValidationError({"scope": "Choose a scope you can see: "
                                    + ", ".join(s.key for s in options)})


def monthly_bookings(opportunities: QuerySet, currency: str, first: date,
                     months: int) -> list[Decimal]:
    """Won bookings per month for `months` months from the month starting `first`: one
    grouped query, months told apart by plain date comparisons."""
    bounds = [_add_months(first, i) for i in range(months + 1)]
    bucket = Case(*[When(close_date__gte=bounds[i], close_date__lt=bounds[i + 1],
                         then=Value(i)) for i in range(months)], output_field=IntegerField())
    rows = (opportunities.filter(status=StageKind.WON, currency=currency,
                                 close_date__gte=bounds[0], close_date__lt=bounds[-1])
            .order_by().annotate(month=bucket).values("month").annotate(total=Sum("amount")))
    cent = Decimal("0.01")
    totals = {r["month"]: (r["total"] or Decimal(0)).quantize(cent) for r in rows}
    return [totals.get(i, Decimal("0.00")) for i in range(months)]


def scope_bookings(scope: Scope, currency: str, first: date, months: int) -> list[Decimal]:
    """`monthly_bookings` of the scope, from the report rollups when they can answer
    (the company's three years of won deals are millions of rows)."""

    end = _add_months(first, months) - timedelta(days=1)
    summed = open_or_won_amounts(currency=currency, status=StageKind.WON, start=first, end=end,
                                 dims=("month",), owners=scope.owner_ids())
    if summed is None:
        return monthly_bookings(scope.opportunities(), currency, first, months)
    return [summed.get((_add_months(first, i),), Decimal("0.00")) for i in range(months)]


@dataclass
class StatisticalForecast:
    scope: Scope
    currency: str
    history_months: list[date]
    history: list[Decimal]
    forecast_months: list[date]
    forecast: list[Decimal]
    model: engine.ModelChoice
    backtest: engine.Backtest | None
    message: str


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def statistical_forecast(scope: Scope, *, today: date,
                         refresh: bool = False) -> StatisticalForecast:
    """The scope's forecast, computed once a month (or when `refresh`) and kept."""
    currency = Company.current().default_currency
    this_month = date(today.year, today.month, 1)
    key = f"forecast-statistical:{scope.key}:{this_month}:{currency}"
    cached = None if refresh else cache.get(key)
    if cached is not None:
        return cached
    first = _add_months(this_month, -HISTORY_MONTHS)
    values = scope_bookings(scope, currency, first, HISTORY_MONTHS)
    lead = next((i for i, v in enumerate(values) if v > 0), len(values))
    values, first = values[lead:], _add_months(first, lead)
    months = [_add_months(first, i) for i in range(len(values))]
    future = [_add_months(this_month, i) for i in range(HORIZON)]
    choice = engine.choose_model(len(values))
    if not values:
        result = StatisticalForecast(scope, currency, [], [], future, [], choice, None,
                                     "No bookings in the last three years: nothing to "
                                     "forecast from.")
    else:
        series = [float(v) for v in values]
        backtest = (engine.rolling_origin_backtest(series, horizon=BACKTEST_HORIZON,
                                                   folds=BACKTEST_FOLDS)
                    if len(series) > engine.MIN_TREND_HISTORY else None)
        forecast = [_money(v) for v in engine.fit_forecast(series, HORIZON)]
        message = choice.note + ("" if backtest else " Too little history to backtest.")
        result = StatisticalForecast(scope, currency, months, values, future, forecast,
                                     choice, backtest, message)
    cache.set(key, result, CACHE_SECONDS)
    return result


# --- Accuracy of reps' submissions --------------------------------------------------------


@dataclass
class SubmissionPeriod:
    period: FiscalPeriod
    commit: Decimal | None
    actual: Decimal
    previous_actual: Decimal


@dataclass
class RepAccuracy:
    rep: User
    periods: list[SubmissionPeriod]
    accuracy: engine.SubmissionAccuracy


def _won_by_owner_and_period(quarters: list[FiscalPeriod],
                             currency: str) -> dict[tuple[int, int], Decimal]:
    """Bookings per owner in each ended quarter: company-wide and unchanging once the
    quarters are over, so kept for an hour and filtered per user afterwards."""
    key = f"forecast-won-by-quarter:{periods.name(quarters[0])}:{len(quarters)}:{currency}"
    cached = cache.get(key)
    if cached is None:
        cached = _count_won_by_owner_and_period(quarters, currency)
        cache.set(key, cached, 3600)
    return cached


def _count_won_by_owner_and_period(quarters: list[FiscalPeriod],
                                   currency: str) -> dict[tuple[int, int], Decimal]:

    summed = open_or_won_amounts(currency=currency, status=StageKind.WON,
                                 start=quarters[0].start, end=quarters[-1].end,
                                 dims=("owner", "month"))
    if summed is not None:  # from the report rollups, month by month
        totals: dict[tuple[int, int], Decimal] = {}
        for (owner, month), amount in summed.items():
            index = next(i for i, q in enumerate(quarters) if q.start <= month <= q.end)
            totals[(owner, index)] = totals.get((owner, index), Decimal("0.00")) + amount
        return totals
    bucket = Case(*[When(close_date__gte=q.start, close_date__lte=q.end, then=Value(i))
                    for i, q in enumerate(quarters)], output_field=IntegerField())
    rows = (Opportunity.objects.filter(status=StageKind.WON, currency=currency,
                                       close_date__gte=quarters[0].start,
                                       close_date__lte=quarters[-1].end)
            .order_by().annotate(bucket=bucket).values("owner_id", "bucket")
            .annotate(total=Sum("amount")))
    return {(r["owner_id"], r["bucket"]): (r["total"] or Decimal(0)).quantize(
        Decimal("0.01")) for r in rows}


def submission_accuracy(user: User, *, today: date, quarters: int = 8) -> list[RepAccuracy]:
    """For each rep the user may see, their last commit for each of the last `quarters`
    ended quarters against what they booked, with MAPE and MASE."""
    calendar = CompanyCalendar.current()
    current = periods.quarter_of(calendar, today)
    ended = [periods.shift(calendar, current, -n) for n in range(quarters + 1, 0, -1)]
    currency = Company.current().default_currency
    rep_ids = access.visible_rep_ids(user)
    subs = ForecastSubmission.objects.filter(currency=currency).filter(
        fiscal_year__gte=ended[1].fiscal_year - 1, fiscal_year__lte=ended[-1].fiscal_year)
    if rep_ids is not None:
        subs = subs.filter(rep_id__in=rep_ids)
    latest: dict[tuple[int, int, int], Decimal] = {}
    for s in subs.order_by("submitted_at", "id"):
        latest[(s.rep_id, s.fiscal_year, s.quarter)] = s.commit
    won = _won_by_owner_and_period(ended, currency)
    reps = User.objects.filter(pk__in={k[0] for k in latest}).order_by("last_name", "pk")
    result = []
    for rep in reps:
        rows = []
        for i, q in enumerate(ended[1:], start=1):
            commit = latest.get((rep.pk, q.fiscal_year, q.number))
            rows.append(SubmissionPeriod(q, commit, won.get((rep.pk, i), Decimal("0.00")),
                                         won.get((rep.pk, i - 1), Decimal("0.00"))))
        scored = [r for r in rows if r.commit is not None]
        if not scored:
            continue
        result.append(RepAccuracy(rep, rows, engine.submission_accuracy(
            [float(r.commit) for r in scored if r.commit is not None],
            [float(r.actual) for r in scored], [float(r.previous_actual) for r in scored])))
    return result
