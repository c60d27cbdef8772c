"""The demo company's calendar: US holidays, working days and fiscal quarters."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1))
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """Fixed-date holidays on a weekend are taken on the nearest weekday."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def us_holidays(year: int) -> list[tuple[date, str]]:
    """The holidays a typical US distributor closes for."""
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    return sorted([
        (_observed(date(year, 1, 1)), "New Year's Day"),
        (_nth_weekday(year, 1, 0, 3), "Martin Luther King Jr. Day"),
        (_nth_weekday(year, 2, 0, 3), "Presidents' Day"),
        (_last_weekday(year, 5, 0), "Memorial Day"),
        (_observed(date(year, 6, 19)), "Juneteenth"),
        (_observed(date(year, 7, 4)), "Independence Day"),
        (_nth_weekday(year, 9, 0, 1), "Labor Day"),
        (thanksgiving, "Thanksgiving"),
        (thanksgiving + timedelta(days=1), "Day after Thanksgiving"),
        (_observed(date(year, 12, 25)), "Christmas Day"),
    ])


def fiscal_quarter_end(day: date, fiscal_start_month: int) -> date:
    """Last day of the fiscal quarter containing `day`."""
    months_in = (day.month - fiscal_start_month) % 12
    end_month_index = (months_in // 3) * 3 + 3  # months after the fiscal year start
    month0 = (fiscal_start_month - 1 + end_month_index) % 12  # 0-based month after the end
    year = day.year + ((day.month - 1 + (end_month_index - months_in)) // 12)
    return date(year, month0 + 1, 1) - timedelta(days=1)


def is_fiscal_q4(day: date, fiscal_start_month: int) -> bool:
    return (day.month - fiscal_start_month) % 12 >= 9


class DayGrid:
    """Days as offsets from a reference "today" (0), with precomputed facts per day so the
    generator never calls the time-zone machinery per row: its date, whether it is a
    working day, the nearest working day on or before it, and local midnight in UTC."""

    def __init__(self, today: date, tz: ZoneInfo, first: int, last: int, holidays: set[date],
                 working_weekdays: set[int]):
        self.today, self.first, self.last = today, first, last
        utc = ZoneInfo("UTC")
        self.dates: dict[int, date] = {}
        self.midnight_utc: dict[int, datetime] = {}
        self.working: dict[int, bool] = {}
        self.workday_on_or_before: dict[int, int] = {}
        previous_workday = first
        for offset in range(first, last + 1):
            day = today + timedelta(days=offset)
            self.dates[offset] = day
            local = datetime(day.year, day.month, day.day, tzinfo=tz)
            self.midnight_utc[offset] = local.astimezone(utc).replace(tzinfo=None)
            works = day.weekday() in working_weekdays and day not in holidays
            self.working[offset] = works
            if works:
                previous_workday = offset
            self.workday_on_or_before[offset] = previous_workday

        self._midnight = [self.midnight_utc[o] for o in range(first, last + 1)]
        self._workday = [self.workday_on_or_before[o] for o in range(first, last + 1)]
        self._minutes = [timedelta(minutes=m) for m in range(24 * 60)]

    def workday(self, offset: int) -> int:
        """The nearest working day on or before `offset` (clamped to the grid)."""
        i = offset - self.first
        return self._workday[0 if i < 0 else min(i, len(self._workday) - 1)]

    def at(self, offset: int, minute_of_day: int) -> datetime:
        """Naive UTC datetime of a local wall-clock time on the given day."""
        i = offset - self.first
        return (self._midnight[0 if i < 0 else min(i, len(self._midnight) - 1)]
                + self._minutes[minute_of_day])
