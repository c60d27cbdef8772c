"""Reports in the permission registry: every role runs the reports of its audience over
the records it sees; saved reports and schedules are each user's own (personal, so the
read-only executive keeps them too); rebuilding the rollups is an admin's."""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    MARKETING,
    OWN,
    REP,
    register,
    register_operations,
)

EVERYONE = {ADMIN: ALL, MANAGER: ALL, REP: ALL, MARKETING: ALL, EXECUTIVE: ALL}
OWNERS = {ADMIN: ALL, MANAGER: OWN, REP: OWN, MARKETING: OWN, EXECUTIVE: OWN}

register("report", "view", EVERYONE, doc="run reports")
# Which saved reports one sees (one's own and those shared with one's teams) is the
# reports selectors' rule.
register("saved_report", "view", EVERYONE, personal=True, doc="see saved reports")
register("saved_report", "change", OWNERS, personal=True,
         doc="change this saved report (only the owner changes a saved report)")
register("report_rollup", "rebuild", {ADMIN: ALL},
         doc="rebuild the report rollups (only an admin)")

register_operations("""
GET    /reports/                      report.view
GET    /reports/drilldown             report.view
GET    /reports/{key}/run             report.view
POST   /reports/{key}/run             report.view   # runs a report; writes nothing
GET    /reports/{key}/export          report.view
GET    /reports/saved                 saved_report.view
POST   /reports/saved                 saved_report.change
GET    /reports/saved/{pk}            saved_report.view
PATCH  /reports/saved/{pk}            saved_report.change
DELETE /reports/saved/{pk}            saved_report.change
GET    /reports/schedules             saved_report.view
POST   /reports/schedules             saved_report.change
DELETE /reports/schedules/{pk}        saved_report.change
POST   /reports/rollups/rebuild       report_rollup.rebuild
""")
