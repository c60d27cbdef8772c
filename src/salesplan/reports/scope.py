"""What a report is asked for (period and filters) and whose numbers it may count.

Every report starts from the visibility rule: a rep's numbers are their own, a
manager's those of the people in the teams they answer for, an executive's and an
admin's everyone's. Records a user sees only through a territory overlay belong to
someone else's numbers and are not counted in theirs; the drill-downs list records
from `visible_to(user)` with the same conditions, so every figure can be opened.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from django.core.exceptions import ValidationError

from salesplan.core.clock import company_today
from salesplan.core.fiscal import CompanyCalendar, fiscal_year_of
from salesplan.core.money import CURRENCY_CHOICES
from salesplan.org.models import Company, Team, User
from salesplan.org.selectors import team_subtree_ids
from salesplan.pipeline.models import Pipeline
from salesplan.territories.selectors import territory

PERIOD_KINDS = ("month", "quarter", "year")


@dataclass(frozen=True)
class Period:
    """A fiscal month, quarter or year, as the calendar months it covers."""

    kind: str
    fiscal_year: int
    number: int  # month 1–12, quarter 1–4, or 1 for a year
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == "year":
            return f"FY{self.fiscal_year}"
        prefix = "Q" if self.kind == "quarter" else "M"
        return f"FY{self.fiscal_year} {prefix}{self.number}"

    @property
    def code(self) -> str:
        """The period as written in filters: FY2026, FY2026-Q2, FY2026-M05."""
        if self.kind == "year":
            return f"FY{self.fiscal_year}"
        if self.kind == "quarter":
            return f"FY{self.fiscal_year}-Q{self.number}"
        return f"FY{self.fiscal_year}-M{self.number:02d}"

    @property
    def months(self) -> list[date]:
        """First days of the calendar months in the period."""
        result, day = [], self.start
        while day <= self.end:
            result.append(day)
            day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        return result


def period_of(kind: str, fiscal_year: int, number: int, calendar: CompanyCalendar) -> Period:
    if kind == "year":
        start, end = calendar.year_bounds(fiscal_year)
        return Period("year", fiscal_year, 1, start, end)
    periods = calendar.quarters(fiscal_year) if kind == "quarter" else calendar.months(fiscal_year)
    chosen = periods[number - 1]
    return Period(kind, fiscal_year, number, chosen.start, chosen.end)


def current_period(kind: str, calendar: CompanyCalendar, today: date | None = None) -> Period:
    today = today or company_today()
    year = fiscal_year_of(today, calendar.start_month)
    if kind == "year":
        return period_of("year", year, 1, calendar)
    periods = calendar.quarters(year) if kind == "quarter" else calendar.months(year)
    found = next(p for p in periods if p.contains(today))
    return period_of(kind, year, found.number, calendar)


def parse_period(text: str, calendar: CompanyCalendar) -> Period:
    """FY2026 (year), FY2026-Q2 (quarter) or FY2026-M05 (fiscal month)."""
    raw = text.strip().upper()
    try:
        if not raw.startswith("FY"):
            raise ValueError
        year_part, _, rest = raw[2:].partition("-")
        year = int(year_part)
        if not 2000 <= year <= 2100:
            raise ValueError
        if not rest:
            return period_of("year", year, 1, calendar)
        if rest[0] == "Q" and 1 <= int(rest[1:]) <= 4:
            return period_of("quarter", year, int(rest[1:]), calendar)
        if rest[0] == "M" and 1 <= int(rest[1:]) <= 12:
            return period_of("month", year, int(rest[1:]), calendar)
    except ValueError:
        pass
    raise ValidationError({"period": f"Write the period as FY2026, FY2026-Q2 or FY2026-M05, "
                                     f"not {text!r}."})


def previous_period(period: Period, calendar: CompanyCalendar) -> Period:
    if period.kind == "year":
        return period_of("year", period.fiscal_year - 1, 1, calendar)
    last = 4 if period.kind == "quarter" else 12
    if period.number == 1:
        return period_of(period.kind, period.fiscal_year - 1, last, calendar)
    return period_of(period.kind, period.fiscal_year, period.number - 1, calendar)


def same_period_last_year(period: Period, calendar: CompanyCalendar) -> Period:
    return period_of(period.kind, period.fiscal_year - 1, period.number, calendar)


@dataclass(frozen=True)
class ReportFilters:
    """The filters every report understands. Ids are checked against what exists."""

    period: Period
    team_id: int | None = None
    owner_id: int | None = None
    territory_id: int | None = None
    pipeline_id: int | None = None
    currency: str = "USD"
    labels: dict[str, str] = field(default_factory=dict, compare=False)

    def shifted(self, period: Period) -> "ReportFilters":
        return replace(self, period=period)

    def as_params(self) -> dict[str, str]:
        params = {"period": self.period.code, "currency": self.currency}
        for name in ("team", "owner", "territory", "pipeline"):
            value = getattr(self, f"{name}_id")
            if value is not None:
                params[name] = str(value)
        return params

    def described(self) -> dict[str, str]:
        """Filters in words, for exports and headings."""
        return {"Period": f"{self.period.label} ({self.period.start} – {self.period.end})",
                "Currency": self.currency, **self.labels}


def _int_param(params: Mapping[str, object], name: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        number = int(str(value))
    except ValueError:
        raise ValidationError({name: f"{name} must be a number, not {value!r}."}) from None
    if number < 1:
        raise ValidationError({name: f"{name} must be a positive id."})
    return number


def parse_filters(params: Mapping[str, object], *, calendar: CompanyCalendar | None = None,
                  default_kind: str = "quarter") -> ReportFilters:
    """Filters from query parameters, JSON or CLI options; unknown ids name their field."""

    calendar = calendar or CompanyCalendar.current()
    period_text = str(params.get("period") or "")
    period = (parse_period(period_text, calendar) if period_text
              else current_period(default_kind, calendar))
    labels: dict[str, str] = {}
    team_id = _int_param(params, "team")
    if team_id is not None:
        team = Team.objects.filter(pk=team_id).first()
        if team is None:
            raise ValidationError({"team": f"No team with id {team_id}."})
        labels["Team"] = team.name
    owner_id = _int_param(params, "owner")
    if owner_id is not None:
        owner = User.objects.filter(pk=owner_id).first()
        if owner is None:
            raise ValidationError({"owner": f"No user with id {owner_id}."})
        labels["Owner"] = str(owner)
    territory_id = _int_param(params, "territory")
    if territory_id is not None:
        found = territory(territory_id)
        if found is None:
            raise ValidationError({"territory": f"No territory with id {territory_id}."})
        labels["Territory"] = found.name
    pipeline_id = _int_param(params, "pipeline")
    if pipeline_id is not None:
        pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
        if pipeline is None:
            raise ValidationError({"pipeline": f"No pipeline with id {pipeline_id}."})
        labels["Pipeline"] = pipeline.name
    currency = str(params.get("currency") or Company.current().default_currency).upper()

    if currency not in {c for c, _ in CURRENCY_CHOICES}:
        raise ValidationError({"currency": f"Unknown currency {currency!r}."})
    return ReportFilters(period, team_id, owner_id, territory_id, pipeline_id, currency, labels)


def owner_scope(user: User, model=None) -> list[int] | None:
    """Owners whose records count in the user's numbers; None means everyone.

    Follows the model's visibility rule: roles that see every row of the model (e.g.
    marketing for leads) count everyone; otherwise the user's visible owners."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    if model is not None and user.role in getattr(model, "visibility_roles_seeing_all", ()):
        return None
    owners = user.visible_owner_ids
    if owners is not None and model is not None and user.role in getattr(
            model, "visibility_roles_seeing_none", ()):
        return [user.pk]
    return owners


def filtered_owners(user: User, filters: ReportFilters, model=None) -> list[int] | None:
    """The owners a report counts: the user's scope narrowed by the team and owner filters."""
    owners = owner_scope(user, model)
    if filters.team_id is not None:
        team_ids = team_subtree_ids(filters.team_id)
        members = set(User.objects.filter(team_id__in=team_ids).values_list("id", flat=True))
        owners = sorted(members if owners is None else members & set(owners))
    if filters.owner_id is not None:
        owners = [filters.owner_id] if owners is None or filters.owner_id in owners else []
    return owners
