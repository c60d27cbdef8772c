"""Attainment: bookings against the bookings targets of the fiscal year's sales plans."""

from collections import defaultdict
from decimal import Decimal

from salesplan.core.fiscal import CompanyCalendar
from salesplan.pipeline.models import StageKind
from salesplan.planning.models import Level, Measure, MonthlyTarget, Plan, PlanStatus
from salesplan.planning.selectors import visible_objectives
from salesplan.ui import charts

from ..exporting import Column
from ..facts import ZERO, opportunity_totals
from ..scope import ReportFilters, filtered_owners
from .base import Labels, ReportResult, Row, percent

LIVE = (PlanStatus.APPROVED, PlanStatus.ACTIVE, PlanStatus.CLOSED)


def rep_targets(user, filters: ReportFilters) -> tuple[dict[int, Decimal], str | None, list[str]]:
    """Each visible rep's bookings target for the period's fiscal months, from the
    approved, active or closed plans of the fiscal year (a rep in two plans counts once:
    the plan of the smallest team wins). Returns the targets, the plans' currency and
    the plans' names."""
    calendar = CompanyCalendar.current()
    numbers = [m.number for m in calendar.months(filters.period.fiscal_year)
               if filters.period.start <= m.start <= filters.period.end]
    plans = list(Plan.objects.visible_to(user).filter(
        fiscal_year=filters.period.fiscal_year, status__in=LIVE).order_by("-team_id", "id"))
    owners = filtered_owners(user, filters)
    targets: dict[int, Decimal] = {}
    currency: str | None = None
    used: list[str] = []
    for plan in plans:
        objectives = visible_objectives(plan, user).filter(measure=Measure.BOOKINGS,
                                                            level=Level.REP)
        if owners is not None:
            objectives = objectives.filter(rep_id__in=owners)
        sums: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for rep_id, target in MonthlyTarget.objects.filter(
                objective__in=objectives, month__in=numbers).values_list(
                "objective__rep_id", "target"):
            sums[rep_id] += target
        fresh = {rep: t for rep, t in sums.items() if rep not in targets}
        if fresh:
            currency = currency or plan.currency
            if plan.currency != currency:
                continue  # never add targets in different currencies
            targets.update(fresh)
            used.append(str(plan))
    return targets, currency, used


def attainment_report(user, filters: ReportFilters, by: str = "",
                      naive: bool = False) -> ReportResult:
    targets, currency, plans = rep_targets(user, filters)
    currency = currency or filters.currency
    scoped = ReportFilters(filters.period, filters.team_id, filters.owner_id,
                           filters.territory_id, filters.pipeline_id, currency, filters.labels)
    won = opportunity_totals(user, scoped, basis="close", dims=("owner",),
                             statuses=(StageKind.WON,), naive=naive)
    labels = Labels()
    reps = set(targets) | {k[0] for k in won}
    rows = []
    total_target, total_booked = ZERO, ZERO
    for rep in sorted(reps, key=lambda r: labels.name("owner", r).lower()):
        target = targets.get(rep)
        booked = won.get((rep,)).amount if (rep,) in won else ZERO  # type: ignore[union-attr]
        total_target += target or ZERO
        total_booked += booked
        rows.append(Row([labels.name("owner", rep), target, booked,
                         percent(booked, target) if target else None,
                         (target - booked) if target is not None else None],
                        {"src": "opportunity", "basis": "close", "status": "won",
                         "owner": str(rep)}))
    rows.append(Row(["Total", total_target, total_booked, percent(total_booked, total_target),
                     total_target - total_booked],
                    {"src": "opportunity", "basis": "close", "status": "won"}, emphasis=True))
    body = rows[:-1]
    notes = [f"Targets from {', '.join(plans)}." if plans else
             f"No approved or active plan with bookings targets for FY"
             f"{filters.period.fiscal_year}."]
    notes.append("Bookings are won deals closing in the period, in the plan's currency.")
    return ReportResult(
        "attainment", "Attainment against plan", scoped, "owner",
        [Column("rep", "Rep"), Column("target", f"Target ({currency})", "money"),
         Column("bookings", f"Bookings ({currency})", "money"),
         Column("attainment", "Attainment", "percent"),
         Column("gap", f"Still to book ({currency})", "money")],
        rows, charts.bar_chart([r.values[0] for r in body],
                               {"Target": [r.values[1] for r in body],
                                "Bookings": [r.values[2] for r in body]},
                               title="Bookings against target"),
        "Bookings against target by rep", notes)
