"""Demo: the report rollups built once, a saved report per team manager (shared with the
team) and a weekly email delivery of it, all through the reports services."""

import random
from collections.abc import Callable
from datetime import date, time, timedelta

from salesplan.core.clock import company_datetime
from salesplan.metrics import rollup
from salesplan.org.models import Role, User
from salesplan.reports import services
from salesplan.reports.scope import current_period


def build(org, *, accounts: int, today: date, rng: random.Random,
          log: Callable[[str], None]) -> None:
    if accounts > 200_000:
        log("Reports: rollups left to `salesplan reports rebuild` at this size.")
        return
    counts = rollup.rebuild()
    from salesplan.core.fiscal import CompanyCalendar

    quarter = current_period("quarter", CompanyCalendar.current(), today).code
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    first_run = company_datetime(monday, time(7))
    saved = 0
    for manager in User.objects.filter(role=Role.MANAGER, is_active=True).order_by("id"):
        report = services.save_report(by=manager, name="Team bookings this quarter",
                                      report="bookings", filters={"period": quarter,
                                                                  "by": "owner"}, shared=True)
        if manager.email:
            services.schedule_report(by=manager, saved_report=report,
                                     recipients=[manager.email], frequency="weekly",
                                     fmt=rng.choice(["xlsx", "pdf"]), first_run=first_run)
        saved += 1
    log(f"Reports: rollups of {counts['opportunities']:,} opportunities and "
        f"{counts['activities']:,} activities; {saved} saved team reports.")
