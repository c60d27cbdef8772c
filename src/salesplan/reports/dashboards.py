"""Role-specific home dashboards, built from the reports, plus cards other apps offer.

An app offers a card by defining `salesplan.<app>.selectors.dashboard_card(user)`
(returning the card's context, or None when it has nothing for this user) and a template
`<app>/_dashboard_card.html` that renders it as `card`.
"""

import importlib
import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string

from .catalog import ReportResult, run_report
from .scope import ReportFilters, current_period, parse_filters

logger = logging.getLogger(__name__)

CARD_APPS = ("forecasting", "health", "quality", "marketing")

# (report, grouping, heading) per role; the period is the current fiscal quarter.
LAYOUTS: dict[str, list[tuple[str, str, str]]] = {
    "rep": [("attainment", "", "My attainment"), ("pipeline", "stage", "My pipeline"),
            ("win_rate", "month", "My win rate by month"),
            ("activities", "owner", "My activities")],
    "manager": [("bookings", "owner", "Team bookings"), ("attainment", "", "Attainment"),
                ("pipeline", "stage", "Team pipeline"), ("leaderboard", "", "Leaderboard"),
                ("activities", "owner", "Activity by rep")],
    "executive": [("bookings", "team", "Bookings by team"),
                  ("pipeline", "team", "Pipeline by team"),
                  ("win_rate", "team", "Win rate by team"),
                  ("territory", "", "Territories"), ("funnel", "", "Funnel")],
    "marketing": [("funnel", "", "Lead to won funnel"),
                  ("pipeline", "pipeline_kind", "Pipeline by type of sale"),
                  ("bookings", "month", "Bookings by month")],
}
LAYOUTS["admin"] = LAYOUTS["executive"]


@dataclass
class ReportCard:
    heading: str
    result: ReportResult
    by: str

    @property
    def rows(self):
        return self.result.rows[:10]


@dataclass
class AppCard:
    app: str
    html: str


@cache
def card_providers() -> dict[str, Any]:
    """The apps that offer a dashboard card: a `dashboard_card` selector and a template."""
    found = {}
    for app in CARD_APPS:
        try:
            module = importlib.import_module(f"salesplan.{app}.selectors")
        except ImportError:
            continue
        provider = getattr(module, "dashboard_card", None)
        if not callable(provider):
            continue
        try:
            get_template(f"{app}/_dashboard_card.html")
        except TemplateDoesNotExist:
            continue
        found[app] = provider
    return found


def app_cards(user, request=None) -> list[AppCard]:
    """The other apps' cards for this user, rendered; a card that fails is logged and
    left out rather than taking the dashboard down."""
    cards = []
    for app, provider in card_providers().items():
        try:
            context = provider(user)
            if context is None:
                continue
            html = render_to_string(f"{app}/_dashboard_card.html", {"card": context},
                                    request=request)
        except Exception:
            logger.exception("The %s dashboard card failed", app)
            continue
        cards.append(AppCard(app, html))
    return cards


def dashboard(user, params=None) -> tuple[ReportFilters, list[ReportCard]]:
    """The user's role's cards for the period asked (the current quarter by default)."""
    params = dict(params or {})
    if not params.get("period"):
        from salesplan.core.fiscal import CompanyCalendar

        params["period"] = current_period("quarter", CompanyCalendar.current()).code
    filters = parse_filters(params)
    layout = LAYOUTS.get("admin" if user.is_admin else user.role, LAYOUTS["rep"])
    cards = [ReportCard(heading, run_report(key, user, filters, by), by)
             for key, by, heading in layout]
    return filters, cards
