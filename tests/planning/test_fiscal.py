"""The fiscal calendar: naming, quarter boundaries, selling days."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from salesplan.core.fiscal import (
    CompanyCalendar,
    fiscal_month_of,
    fiscal_months,
    fiscal_quarters,
    fiscal_year_end,
    fiscal_year_of,
    fiscal_year_start,
    selling_days,
)
from salesplan.org.models import Company, Holiday


def test_a_february_year_is_named_after_the_year_it_ends_in():
    assert fiscal_year_start(2027, 2) == date(2026, 2, 1)
    assert fiscal_year_end(2027, 2) == date(2027, 1, 31)
    assert fiscal_year_of(date(2026, 1, 31), 2) == 2026
    assert fiscal_year_of(date(2026, 2, 1), 2) == 2027
    assert fiscal_year_of(date(2026, 12, 31), 2) == 2027


def test_a_january_year_is_the_calendar_year():
    assert (fiscal_year_start(2026, 1), fiscal_year_end(2026, 1)) == (
        date(2026, 1, 1), date(2026, 12, 31))
    assert fiscal_year_of(date(2026, 12, 31), 1) == 2026


def test_quarters_and_months_of_a_february_year():
    quarters = fiscal_quarters(2027, 2)
    assert [(q.start, q.end) for q in quarters] == [
        (date(2026, 2, 1), date(2026, 4, 30)), (date(2026, 5, 1), date(2026, 7, 31)),
        (date(2026, 8, 1), date(2026, 10, 31)), (date(2026, 11, 1), date(2027, 1, 31))]
    months = fiscal_months(2027, 2)
    assert months[0].start == date(2026, 2, 1) and months[0].end == date(2026, 2, 28)
    assert months[11].start == date(2027, 1, 1) and months[11].end == date(2027, 1, 31)
    assert fiscal_month_of(date(2026, 3, 15), 2).number == 2


def test_leap_february_has_29_days():
    assert fiscal_months(2029, 2)[0].end == date(2028, 2, 29)


def test_selling_days_skip_weekends_and_holidays():
    # March 2026: 22 weekdays; Good Friday 3 April is outside, 17 March (a Tuesday) inside,
    # 14 March is a Saturday and must not be subtracted twice.
    holidays = [date(2026, 3, 17), date(2026, 3, 14), date(2026, 4, 3)]
    assert selling_days(date(2026, 3, 1), date(2026, 3, 31), range(5)) == 22
    assert selling_days(date(2026, 3, 1), date(2026, 3, 31), range(5), holidays) == 21
    # A six-day week counts Saturdays.
    assert selling_days(date(2026, 3, 1), date(2026, 3, 31), range(6)) == 26
    assert selling_days(date(2026, 3, 2), date(2026, 3, 1), range(5)) == 0


def test_the_company_calendar_reads_the_settings(db):
    company = Company.current()
    company.fiscal_year_start_month = 2
    company.working_days = "0,1,2,3"
    company.save()
    Holiday.objects.create(company=company, date=date(2026, 2, 2), name="Founders' day")
    calendar = CompanyCalendar.current()
    assert calendar.year_bounds(2027) == (date(2026, 2, 1), date(2027, 1, 31))
    # February 2026: Mondays to Thursdays = 16, less the holiday on Monday 2nd.
    assert calendar.selling_days(date(2026, 2, 1), date(2026, 2, 28)) == 15


@given(day=st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)),
       start_month=st.integers(min_value=1, max_value=12))
def test_every_day_falls_in_exactly_one_month_of_its_fiscal_year(day, start_month):
    year = fiscal_year_of(day, start_month)
    months = fiscal_months(year, start_month)
    assert sum(m.contains(day) for m in months) == 1
    assert months[0].start == fiscal_year_start(year, start_month) <= day
    assert all(b.start - a.end == timedelta(days=1)
               for a, b in zip(months[:-1], months[1:], strict=True))


@given(start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
       days=st.integers(min_value=0, max_value=400), split=st.integers(min_value=0),
       weekdays=st.sets(st.integers(min_value=0, max_value=6)))
def test_selling_days_add_up_over_consecutive_periods(start, days, split, weekdays):
    end = start + timedelta(days=days)
    middle = start + timedelta(days=split % (days + 1))
    whole = selling_days(start, end, weekdays)
    assert whole == (selling_days(start, middle, weekdays)
                     + selling_days(middle + timedelta(days=1), end, weekdays))
    assert whole == sum(1 for i in range(days + 1)
                        if (start + timedelta(days=i)).weekday() in weekdays)
