"""Forecast periods are fiscal quarters of the company calendar, named "FY2027-Q1"."""

import re
from datetime import date

from django.core.exceptions import ValidationError

from salesplan.core.fiscal import CompanyCalendar, FiscalPeriod

_NAME = re.compile(r"^FY(\d{4})-Q([1-4])$")


def quarter(calendar: CompanyCalendar, fiscal_year: int, number: int) -> FiscalPeriod:
    if not 1 <= number <= 4:
        raise ValidationError({"quarter": "A fiscal quarter is numbered 1 to 4."})
    if not 2000 <= fiscal_year <= 2100:
        raise ValidationError({"fiscal_year": "Give a fiscal year between 2000 and 2100."})
    return calendar.quarters(fiscal_year)[number - 1]


def quarter_of(calendar: CompanyCalendar, day: date) -> FiscalPeriod:
    fy = calendar.year_of(day)
    return next(q for q in calendar.quarters(fy) if q.contains(day))


def name(period: FiscalPeriod) -> str:
    return f"FY{period.fiscal_year}-Q{period.number}"


def label(period: FiscalPeriod) -> str:
    return f"FY{period.fiscal_year} Q{period.number}"


def parse(calendar: CompanyCalendar, text: str | None, today: date) -> FiscalPeriod:
    """A period from its name; the current quarter when none is given."""
    if not text:
        return quarter_of(calendar, today)
    match = _NAME.match(text.strip().upper())
    if not match:
        raise ValidationError({"period": f"Name a fiscal quarter like FY{today.year}-Q1."})
    return quarter(calendar, int(match.group(1)), int(match.group(2)))


def shift(calendar: CompanyCalendar, period: FiscalPeriod, quarters: int) -> FiscalPeriod:
    index = period.fiscal_year * 4 + (period.number - 1) + quarters
    return quarter(calendar, index // 4, index % 4 + 1)


def around(calendar: CompanyCalendar, today: date, before: int = 4,
           after: int = 2) -> list[FiscalPeriod]:
    """Quarters to choose from: a few past ones, the current one and the next ones."""
    current = quarter_of(calendar, today)
    return [shift(calendar, current, n) for n in range(-before, after + 1)]

