"""Forecasts in the permission registry.

Reps submit their own forecast and managers theirs; a manager adjusts the teams they
answer for ("managed"), an admin any team; admins and managers take snapshots and
refresh the calibration; everyone but marketing reads forecasts (each the scope that
forecasting.access gives them).
"""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    REP,
    register,
    register_operations,
    register_scope,
)
from salesplan.org.selectors import managed_team_ids

MANAGED = "managed"


def _managed_team(user, team) -> bool:

    return team.pk in managed_team_ids(user)


register_scope("forecast_adjustment", MANAGED, _managed_team)

READERS = {ADMIN: ALL, MANAGER: ALL, REP: ALL, EXECUTIVE: ALL}
register("forecast", "view", READERS, doc="see forecasts")
register("forecast", "submit", {MANAGER: ALL, REP: ALL},
         doc="submit forecasts (reps and managers submit their own)")
register("forecast_adjustment", "create", {ADMIN: ALL, MANAGER: MANAGED},
         doc="adjust this team's forecast")
register("forecast", "snapshot", {ADMIN: ALL, MANAGER: ALL},
         doc="take forecast snapshots (admins and managers)")

register_operations("""
GET    /forecasts/calibration          forecast.view
GET    /forecasts/weighted-pipeline    forecast.view
GET    /forecasts/submissions          forecast.view
POST   /forecasts/submissions          forecast.submit
GET    /forecasts/rollup               forecast.view
POST   /forecasts/adjustments          forecast_adjustment.create
GET    /forecasts/adjustments          forecast.view
POST   /forecasts/calibration/refresh  forecast.snapshot
GET    /forecasts/snapshots            forecast.view
POST   /forecasts/snapshots            forecast.snapshot
GET    /forecasts/statistical          forecast.view
GET    /forecasts/accuracy             forecast.view
""")
