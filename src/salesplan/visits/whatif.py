"""What if a rep's home base or territories changed: their horizon planned twice in
memory — as things are, and with the change — and the two plans' figures side by side
(visits planned, visits left unmet, the share of the working day spent driving, km).
Both start from where the rep stands, as a planning run does: visits in the horizon
already checked in or done count and are not planned again. Both plans come from the
same planner with the same settings, budget and seed, so the difference is the change's
alone. Nothing is written."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError

from salesplan.core.clock import company_today
from salesplan.core.permissions import require
from salesplan.customers.models import Account
from salesplan.engines import visit_planning as engine
from salesplan.org.models import User
from salesplan.territories import selectors as territory_reads

from . import planner, selectors
from .models import VisitSettings
from .services import checked_position


@dataclass(frozen=True)
class PlanFigures:
    """What one plan of a rep's horizon comes to."""

    accounts: int
    required: int  # visits the accounts' frequencies ask for over the horizon
    done: int  # of those, visits already checked in or done: not planned again
    planned: int
    unmet: int
    travel_minutes: Decimal
    working_minutes: int
    km: Decimal

    @property
    def driving_share(self) -> Decimal | None:
        if not self.working_minutes:
            return None
        return (self.travel_minutes / self.working_minutes).quantize(Decimal("0.001"))


@dataclass(frozen=True)
class VisitWhatIf:
    """A rep's horizon as planned today (`before`) and with the change (`after`)."""

    rep: User
    start: date
    days: int
    home_before: engine.Place
    home_after: engine.Place
    before: PlanFigures
    after: PlanFigures
    changes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WhatIfChange:
    """The change to try: a home base (coordinates, or an account's address) and/or the
    territories whose accounts the rep would work instead of their own."""

    latitude: Decimal | None = None
    longitude: Decimal | None = None
    home_account_id: int | None = None
    territory_ids: list[int] | None = None

    @property
    def is_empty(self) -> bool:
        return (self.latitude is None and self.home_account_id is None
                and self.territory_ids is None)


def what_if(by: User, rep_id: int | None, change: WhatIfChange, *, start: date | None = None,
            days: int | None = None) -> VisitWhatIf:
    """Plan the rep's horizon as it is and with the change, in memory; a rep may ask only
    about themselves (another rep is not found)."""
    require(by, "visit_plan", "what_if")
    rep = selectors.rep_for(by, rep_id)
    if change.is_empty:
        raise ValidationError({"latitude": "Give a new home base or territories to compare "
                                           "with today's plan."})
    config = planner.settings()
    start = start or company_today()
    days = days or config.horizon_days
    if not 1 <= days <= 91:
        raise ValidationError({"days": "Compare between 1 and 91 days."})
    home = _new_home(by, change)
    current = planner.rep_accounts(rep)
    changes = []
    accounts = current
    if change.territory_ids is not None:
        accounts, names = _territory_accounts(by, change.territory_ids)
        changes.append(f"works the accounts of {', '.join(names)} ({len(accounts)} accounts "
                       f"instead of {len(current)})")
    if home is not None:
        changes.append(f"home base at {home.lat:.5f}, {home.lon:.5f}")
    before, home_before = _plan(rep, current, start, days, config, None)
    after, home_after = _plan(rep, accounts, start, days, config, home)
    return VisitWhatIf(rep, start, days, home_before, home_after, before, after, changes)


def _new_home(by: User, change: WhatIfChange) -> engine.Place | None:
    if change.home_account_id is not None:
        if change.latitude is not None or change.longitude is not None:
            raise ValidationError({"home_account_id": "Give coordinates or an account for "
                                                      "the home base, not both."})
        account = Account.objects.visible_to(by).filter(pk=change.home_account_id).first()
        if account is None:
            raise ValidationError({"home_account_id": f"No account with id "
                                                      f"{change.home_account_id}."})
        place = planner.place_of(account)
        if place is None:
            raise ValidationError({"home_account_id": f"{account.name} has no coordinates "
                                                      "to start the day from."})
        return place
    lat, lon = checked_position(change.latitude, change.longitude)
    if lat is None or lon is None:
        return None
    return engine.Place(float(lat), float(lon))


def _territory_accounts(by: User, territory_ids: list[int]) -> tuple[list[Account], list[str]]:
    """The accounts (that the user sees) of the territories and those below them."""
    if not territory_ids:
        raise ValidationError({"territory_ids": "Choose at least one territory."})
    found = territory_reads.territories_by_id(territory_ids)
    for tid in territory_ids:
        territory = found.get(tid)
        if territory is None or not territory_reads.can_open_territory(by, territory):
            raise ValidationError({"territory_ids": f"No territory with id {tid}."})
    below: set[int] = set()
    for territory in found.values():
        below |= territory_reads.descendants([territory.pk], territory.alignment_id)
    accounts = list(Account.objects.visible_to(by)
                    .filter(pk__in=territory_reads.accounts_in(below))
                    .exclude(lifecycle="former").order_by("pk"))
    return accounts, sorted(t.name for t in found.values())


def _plan(rep: User, accounts: list[Account], start: date, days: int, config: VisitSettings,
          home: engine.Place | None) -> tuple[PlanFigures, engine.Place]:
    # As a planning run does: what the rep has already visited counts and stays.
    wanted = planner.visits_to_plan(rep, accounts, start, days, config)
    calendar = planner.rep_calendar(rep, start, days, config, accounts)
    if home is not None:
        calendar = replace(calendar, home=home)
    plan = engine.plan_rep(calendar, wanted.left, engine.horizon_days(start, days),
                           travel=planner.travel_model(config),
                           matrix=planner.matrix_source(config),
                           budget=engine.Budget(solutions=config.solver_solutions))
    figures = PlanFigures(
        accounts=len(accounts), required=wanted.asked, done=wanted.done,
        planned=plan.planned, unmet=len(plan.unmet),
        travel_minutes=Decimal(str(round(sum(d.travel_minutes for d in plan.days), 1))),
        working_minutes=sum(d.working_minutes for d in plan.days),
        km=Decimal(str(round(sum(d.travel_km for d in plan.days), 1))))
    return figures, calendar.home
