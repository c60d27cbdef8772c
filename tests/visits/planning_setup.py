"""Getting a rep ready to plan, as the visit tests need it: a router that settles quickly,
a frequency for the tier, and the rep's home base and working hours."""

from datetime import time
from decimal import Decimal

from salesplan.visits import planner, services


def ready_to_plan(org, rep, *, home: tuple[str, str], visits_per_month: int,
                  tier: str = "smb") -> None:
    config = planner.settings()
    config.solver_solutions = 10
    config.save()
    services.create_rule(by=org.admin, data={"tier": tier,
                                             "visits_per_month": Decimal(visits_per_month)})
    rep.home_latitude, rep.home_longitude = Decimal(home[0]), Decimal(home[1])
    rep.work_starts, rep.work_ends = time(8, 0), time(17, 0)
    rep.save()
