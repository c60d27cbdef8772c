"""The company's fiscal calendar: fiscal years, quarters and months, and selling days.

Naming convention: a fiscal year is named after the calendar year in which it ENDS.
With the year starting in February, FY2027 runs from 1 February 2026 to 31 January
2027 (the convention of most retailers and US software companies). When the year
starts in January the fiscal year is the calendar year.

The functions are pure and take the settings as arguments; `CompanyCalendar.current()`
is the one thin helper that reads them from the Company record.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class FiscalPeriod:
    """A fiscal month (number 1–12) or quarter (1–4) with its first and last day."""

    fiscal_year: int
    number: int
    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def _check_month(start_month: int) -> None:
    if not 1 <= start_month <= 12:
        raise ValueError(f"The fiscal year start month must be 1–12, not {start_month}.")


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def fiscal_year_start(fiscal_year: int, start_month: int) -> date:
    """First day of the fiscal year (named after the calendar year in which it ends)."""
    _check_month(start_month)
    return date(fiscal_year if start_month == 1 else fiscal_year - 1, start_month, 1)


def fiscal_year_end(fiscal_year: int, start_month: int) -> date:
    return fiscal_year_start(fiscal_year + 1, start_month) - timedelta(days=1)


def fiscal_year_of(day: date, start_month: int) -> int:
    """The fiscal year a day belongs to."""
    _check_month(start_month)
    if start_month == 1 or day.month < start_month:
        return day.year
    return day.year + 1


def fiscal_months(fiscal_year: int, start_month: int) -> list[FiscalPeriod]:
    """The twelve fiscal months, month 1 being the start month."""
    start = fiscal_year_start(fiscal_year, start_month)
    months = []
    for number in range(1, 13):
        y, m = _add_months(start.year, start.month, number - 1)
        ny, nm = _add_months(y, m, 1)
        months.append(FiscalPeriod(fiscal_year, number, date(y, m, 1),
                                   date(ny, nm, 1) - timedelta(days=1)))
    return months


def fiscal_quarters(fiscal_year: int, start_month: int) -> list[FiscalPeriod]:
    """The four fiscal quarters of three fiscal months each."""
    months = fiscal_months(fiscal_year, start_month)
    return [FiscalPeriod(fiscal_year, q, months[3 * (q - 1)].start, months[3 * q - 1].end)
            for q in range(1, 5)]


def fiscal_month_of(day: date, start_month: int) -> FiscalPeriod:
    fy = fiscal_year_of(day, start_month)
    return next(m for m in fiscal_months(fy, start_month) if m.contains(day))


def quarter_of_month(month_number: int) -> int:
    return (month_number - 1) // 3 + 1


def selling_days(start: date, end: date, working_weekdays: Iterable[int],
                 holidays: Iterable[date] = ()) -> int:
    """Working days from `start` to `end`, both included, less holidays (Monday = 0)."""
    if end < start:
        return 0
    weekdays = set(working_weekdays)
    total_days = (end - start).days + 1
    full_weeks, rest = divmod(total_days, 7)
    count = full_weeks * len(weekdays)
    count += sum(1 for i in range(rest) if (start.weekday() + i) % 7 in weekdays)
    count -= sum(1 for h in set(holidays) if start <= h <= end and h.weekday() in weekdays)
    return count


@dataclass(frozen=True)
class CompanyCalendar:
    """The fiscal settings of one company, bound together for convenience."""

    start_month: int = 1
    working_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def current(cls) -> "CompanyCalendar":
        """Read the calendar from the Company settings and its holidays (once per page:
        see core.request_memo)."""
        from .request_memo import remembered

        return remembered("company-calendar", cls._read_current)

    @classmethod
    def _read_current(cls) -> "CompanyCalendar":
        from django.apps import apps

        # Looked up by name: the kernel reads the company row but sits below `org`.
        company_model: Any = apps.get_model("org", "Company")
        company = company_model.current()
        return cls(company.fiscal_year_start_month, tuple(company.working_weekdays),
                   frozenset(company.holidays.values_list("date", flat=True)))

    def year_of(self, day: date) -> int:
        return fiscal_year_of(day, self.start_month)

    def months(self, fiscal_year: int) -> list[FiscalPeriod]:
        return fiscal_months(fiscal_year, self.start_month)

    def quarters(self, fiscal_year: int) -> list[FiscalPeriod]:
        return fiscal_quarters(fiscal_year, self.start_month)

    def year_bounds(self, fiscal_year: int) -> tuple[date, date]:
        return (fiscal_year_start(fiscal_year, self.start_month),
                fiscal_year_end(fiscal_year, self.start_month))

    def selling_days(self, start: date, end: date) -> int:
        return selling_days(start, end, self.working_weekdays, self.holidays)
