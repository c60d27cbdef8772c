"""Statistical forecasts of monthly bookings, each with the model chosen by its own
backtest at the horizon shown, and the accuracy of reps' past submissions.

Bookings are won opportunities in the company's currency, by the month of their close
date (fiscal months begin on the first of a calendar month, so calendar months are
fiscal months). The history is every complete month from the first one with bookings (up
to twenty years). Choosing the model refits seven candidates at eight backtest origins:
seconds of work, so results are kept a day and a half per scope and month. The nightly
refresh job refits the company's and every team's; a scope nobody has looked at this
month is fitted in the background the first time its page asks (`forecast_or_start`),
and the page shows that it is being fitted until then.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Min, QuerySet, Sum, Value, When

from salesplan.core.fiscal import CompanyCalendar, FiscalPeriod
from salesplan.engines import forecasting as engine
from salesplan.engines import model_choice
from salesplan.metrics.selectors import open_or_won_amounts
from salesplan.org.models import Company, Team, User
from salesplan.org.selectors import team_subtree_ids
from salesplan.pipeline.models import Opportunity, StageKind

from . import access, periods
from .models import ForecastSubmission

MAX_HISTORY_MONTHS = 240
HORIZON = model_choice.HORIZON  # the months shown are the months backtested
BACKTEST_FOLDS = model_choice.DEFAULT_FOLDS
CACHE_SECONDS = 36 * 3600
CANDIDATES: list[str] | None = None  # every candidate model (tests narrow it)
FITTING_SECONDS = 15 * 60  # how long a started background fit keeps others from starting


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
            return list(
                User.objects.filter(team_id__in=team_subtree_ids(int(ident))).values_list(
                    "pk", flat=True
                )
            )
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
    teams = (
        Team.objects.order_by("name")
        if team_ids is None
        else Team.objects.filter(pk__in=team_ids).order_by("name")
    )
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
    raise ValidationError(
        {"scope": "Choose a scope you can see: " + ", ".join(s.key for s in options)}
    )


def monthly_bookings(
    opportunities: QuerySet, currency: str, first: date, months: int
) -> list[Decimal]:
    """Won bookings per month for `months` months from the month starting `first`: one
    grouped query, months told apart by plain date comparisons."""
    bounds = [_add_months(first, i) for i in range(months + 1)]
    bucket = Case(
        *[
            When(close_date__gte=bounds[i], close_date__lt=bounds[i + 1], then=Value(i))
            for i in range(months)
        ],
        output_field=IntegerField(),
    )
    rows = (
        opportunities.filter(
            status=StageKind.WON,
            currency=currency,
            close_date__gte=bounds[0],
            close_date__lt=bounds[-1],
        )
        .order_by()
        .annotate(month=bucket)
        .values("month")
        .annotate(total=Sum("amount"))
    )
    cent = Decimal("0.01")
    totals = {r["month"]: (r["total"] or Decimal(0)).quantize(cent) for r in rows}
    return [totals.get(i, Decimal("0.00")) for i in range(months)]


def scope_bookings(scope: Scope, currency: str, first: date, months: int) -> list[Decimal]:
    """`monthly_bookings` of the scope, from the report rollups when they can answer
    (the company's three years of won deals are millions of rows)."""

    end = _add_months(first, months) - timedelta(days=1)
    summed = open_or_won_amounts(
        currency=currency,
        status=StageKind.WON,
        start=first,
        end=end,
        dims=("month",),
        owners=scope.owner_ids(),
    )
    if summed is None:
        return monthly_bookings(scope.opportunities(), currency, first, months)
    return [summed.get((_add_months(first, i),), Decimal("0.00")) for i in range(months)]


@dataclass
class StatisticalForecast:
    """A scope's bookings history, the forecast of the next `HORIZON` months with its
    interval, and the backtest that chose the model (None with too little history)."""

    scope: Scope
    currency: str
    history_months: list[date]
    history: list[Decimal]
    forecast_months: list[date]
    forecast: list[Decimal]
    lower: list[Decimal]
    upper: list[Decimal]
    selection: model_choice.Selection | None
    message: str

    @property
    def sentences(self) -> list[str]:
        """What the page says about the choice, generated from the backtest's numbers."""
        return model_choice.accuracy_sentences(self.selection) if self.selection else []

    @property
    def model(self) -> str:
        return self.selection.chosen if self.selection else ""

    @property
    def model_label(self) -> str:
        return self.selection.label if self.selection else "No forecast"


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def _cache_key(scope: Scope, today: date, currency: str) -> str:
    return f"forecast-statistical:v2:{scope.key}:{today:%Y-%m}:{currency}"


def first_booking_month(scope: Scope, currency: str, before: date) -> date | None:
    """The first month with a won booking of the scope before `before`."""
    first = (
        scope.opportunities()
        .filter(status=StageKind.WON, currency=currency, close_date__lt=before)
        .aggregate(first=Min("close_date"))["first"]
    )
    return date(first.year, first.month, 1) if first else None


def statistical_forecast(
    scope: Scope, *, today: date, refresh: bool = False
) -> StatisticalForecast:
    """The scope's forecast, computed once a month (or when `refresh`) and kept."""
    currency = Company.current().default_currency
    key = _cache_key(scope, today, currency)
    cached = None if refresh else cache.get(key)
    if cached is not None:
        return cached
    result = _compute(scope, currency, date(today.year, today.month, 1))
    cache.set(key, result, CACHE_SECONDS)
    return result


def cached_forecast(scope: Scope, *, today: date) -> StatisticalForecast | None:
    """The kept forecast of the scope for this month, if there is one."""
    return cache.get(_cache_key(scope, today, Company.current().default_currency))


def forecast_or_start(scope: Scope, *, today: date) -> StatisticalForecast | None:
    """The kept forecast; else start fitting it in the background and answer None (with
    no worker pool the fit runs inline and its result is answered at once)."""
    from .tasks import fit_statistical_forecast

    result = cached_forecast(scope, today=today)
    if result is not None:
        return result
    marker = "fitting:" + _cache_key(scope, today, Company.current().default_currency)
    if cache.add(marker, True, FITTING_SECONDS):
        fit_statistical_forecast.enqueue(scope.key, scope.label, today.isoformat())
    return cached_forecast(scope, today=today)


def _compute(scope: Scope, currency: str, this_month: date) -> StatisticalForecast:
    future = [_add_months(this_month, i) for i in range(HORIZON)]
    start = first_booking_month(scope, currency, this_month)
    if start is None:
        return StatisticalForecast(
            scope,
            currency,
            [],
            [],
            future,
            [],
            [],
            [],
            None,
            "No bookings before this month: nothing to forecast from.",
        )
    months_back = (this_month.year - start.year) * 12 + this_month.month - start.month
    capped = months_back > MAX_HISTORY_MONTHS
    first = _add_months(this_month, -MAX_HISTORY_MONTHS) if capped else start
    count = min(months_back, MAX_HISTORY_MONTHS)
    values = scope_bookings(scope, currency, first, count)
    months = [_add_months(first, i) for i in range(count)]
    selection = model_choice.choose_and_forecast(
        [float(v) for v in values], horizon=HORIZON, folds=BACKTEST_FOLDS, candidates=CANDIDATES)
    path = selection.forecast
    message = (
        f"{count} months of bookings, from {first:%B %Y}"
        + (f" (the last {MAX_HISTORY_MONTHS}; older months are left out)" if capped else "")
        + "."
    )
    return StatisticalForecast(
        scope,
        currency,
        months,
        values,
        future,
        [_money(v) for v in path.mean],
        [_money(v) for v in path.lower],
        [_money(v) for v in path.upper],
        selection,
        message,
    )


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


def _won_by_owner_and_period(
    quarters: list[FiscalPeriod], currency: str
) -> dict[tuple[int, int], Decimal]:
    """Bookings per owner in each ended quarter: company-wide and unchanging once the
    quarters are over, so kept for an hour and filtered per user afterwards."""
    key = f"forecast-won-by-quarter:{periods.name(quarters[0])}:{len(quarters)}:{currency}"
    cached = cache.get(key)
    if cached is None:
        cached = _count_won_by_owner_and_period(quarters, currency)
        cache.set(key, cached, 3600)
    return cached


def _count_won_by_owner_and_period(
    quarters: list[FiscalPeriod], currency: str
) -> dict[tuple[int, int], Decimal]:

    summed = open_or_won_amounts(
        currency=currency,
        status=StageKind.WON,
        start=quarters[0].start,
        end=quarters[-1].end,
        dims=("owner", "month"),
    )
    if summed is not None:  # from the report rollups, month by month
        totals: dict[tuple[int, int], Decimal] = {}
        for (owner, month), amount in summed.items():
            index = next(i for i, q in enumerate(quarters) if q.start <= month <= q.end)
            totals[(owner, index)] = totals.get((owner, index), Decimal("0.00")) + amount
        return totals
    bucket = Case(
        *[
            When(close_date__gte=q.start, close_date__lte=q.end, then=Value(i))
            for i, q in enumerate(quarters)
        ],
        output_field=IntegerField(),
    )
    rows = (
        Opportunity.objects.filter(
            status=StageKind.WON,
            currency=currency,
            close_date__gte=quarters[0].start,
            close_date__lte=quarters[-1].end,
        )
        .order_by()
        .annotate(bucket=bucket)
        .values("owner_id", "bucket")
        .annotate(total=Sum("amount"))
    )
    return {
        (r["owner_id"], r["bucket"]): (r["total"] or Decimal(0)).quantize(Decimal("0.01"))
        for r in rows
    }


def submission_accuracy(user: User, *, today: date, quarters: int = 8) -> list[RepAccuracy]:
    """For each rep the user may see, their last commit for each of the last `quarters`
    ended quarters against what they booked, with MAPE and MASE."""
    calendar = CompanyCalendar.current()
    current = periods.quarter_of(calendar, today)
    ended = [periods.shift(calendar, current, -n) for n in range(quarters + 1, 0, -1)]
    currency = Company.current().default_currency
    rep_ids = access.visible_rep_ids(user)
    subs = ForecastSubmission.objects.filter(currency=currency).filter(
        fiscal_year__gte=ended[1].fiscal_year - 1, fiscal_year__lte=ended[-1].fiscal_year
    )
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
            rows.append(
                SubmissionPeriod(
                    q,
                    commit,
                    won.get((rep.pk, i), Decimal("0.00")),
                    won.get((rep.pk, i - 1), Decimal("0.00")),
                )
            )
        scored = [r for r in rows if r.commit is not None]
        if not scored:
            continue
        result.append(
            RepAccuracy(
                rep,
                rows,
                engine.submission_accuracy(
                    [float(r.commit) for r in scored if r.commit is not None],
                    [float(r.actual) for r in scored],
                    [float(r.previous_actual) for r in scored],
                ),
            )
        )
    return result
