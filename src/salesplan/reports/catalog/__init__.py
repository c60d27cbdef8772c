"""The catalogue of performance reports: one definition per report."""

from django.core.exceptions import ValidationError

from salesplan.core.errors import NotFound
from salesplan.metrics import rollup

from .attainment import attainment_report
from .base import ReportDefinition, ReportResult, Row
from .performance import (
    OPPORTUNITY_GROUPS,
    activities_report,
    bookings_report,
    deal_size_report,
    funnel_report,
    leaderboard_report,
    pipeline_report,
    product_mix_report,
    sales_cycle_report,
    stage_conversion_report,
    territory_report,
    win_rate_report,
)

SALES = ("rep", "manager", "executive", "admin")
EVERYONE = (*SALES, "marketing")

REPORTS: dict[str, ReportDefinition] = {d.key: d for d in (
    ReportDefinition("pipeline", "Pipeline", "Open deals closing in the period by stage, owner, "
                     "team, territory or pipeline.", pipeline_report,
                     ("stage", *OPPORTUNITY_GROUPS)),
    ReportDefinition("bookings", "Bookings", "Won deals with the previous period and the same "
                     "period last year.", bookings_report, OPPORTUNITY_GROUPS),
    ReportDefinition("attainment", "Attainment", "Bookings against the plan's targets.",
                     attainment_report),
    ReportDefinition("win_rate", "Win rate", "Won against lost, by count and amount.",
                     win_rate_report, OPPORTUNITY_GROUPS),
    ReportDefinition("sales_cycle", "Sales cycle", "Days from first stage to close, from the "
                     "recorded stage history.", sales_cycle_report, OPPORTUNITY_GROUPS),
    ReportDefinition("deal_size", "Deal size", "Average won deal against the previous period.",
                     deal_size_report, OPPORTUNITY_GROUPS),
    ReportDefinition("stage_conversion", "Stage conversion", "How far deals created in the "
                     "period got, stage by stage.", stage_conversion_report),
    ReportDefinition("funnel", "Funnel", "Leads → converted → opportunities → won.",
                     funnel_report, audience=EVERYONE),
    ReportDefinition("activities", "Activities", "Volume and mix of activities per rep.",
                     activities_report, ("owner", "team")),
    ReportDefinition("leaderboard", "Leaderboard", "Reps ranked by bookings.",
                     leaderboard_report),
    ReportDefinition("territory", "Territories", "Bookings and pipeline by territory.",
                     territory_report),
    ReportDefinition("product_mix", "Product mix", "Bookings by type of sale and product.",
                     product_mix_report),
)}


def get_report(key: str) -> ReportDefinition:
    report = REPORTS.get(key)
    if report is None:
        raise NotFound(f"No report named {key!r}.")
    return report


def run_report(key: str, user, filters, by: str = "", naive: bool = False) -> ReportResult:
    """Run a report as `user`; the grouping must be one the report offers."""
    report = get_report(key)
    if by and report.groupings and by not in report.groupings:
        raise ValidationError({"by": f"{report.title} groups by "
                                     f"{', '.join(report.groupings)}, not {by!r}."})
    if naive:
        return report.compute(user, filters, by or report.default_by, naive=True)
    with rollup.one_refresh():
        return report.compute(user, filters, by or report.default_by, naive=False)


__all__ = ["REPORTS", "ReportDefinition", "ReportResult", "Row", "get_report", "run_report"]
