"""Field visits in the permission registry.

A rep sees and changes only their own visits (checks in and out, skips, moves); a
manager those of the people in their teams; an admin everyone's; the executive reads.
Planning a horizon is for admins and managers (a manager plans the reps they see).
Visit settings and frequency rules are company-wide: everyone reads them, an admin (and,
for the rules, a manager) changes them. An account's visit profile (opening hours, its
own frequency) is changed by whoever works the account.
"""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    MARKETING,
    OWN,
    REP,
    VISIBLE,
    register,
    register_operations,
    register_scope,
)

ACCOUNT_SEEN = "account_seen"


def _account_seen(user, profile) -> bool:
    """A visit profile follows its account: whoever sees the account sees it."""
    from salesplan.customers.models import Account

    return Account.objects.visible_to(user).filter(pk=profile.account_id).exists()


register_scope("visit_profile", ACCOUNT_SEEN, _account_seen)

register("visit", "view", {ADMIN: ALL, MANAGER: VISIBLE, REP: OWN, EXECUTIVE: ALL},
         doc="see this visit (reps see their own)")
register("visit", "change", {ADMIN: ALL, MANAGER: VISIBLE, REP: OWN},
         doc="check in, check out, skip or move this visit (only its rep or their manager)")
register("visit_plan", "view", {ADMIN: ALL, MANAGER: ALL, REP: ALL, EXECUTIVE: ALL},
         doc="see visit coverage and workload")
register("visit_plan", "run", {ADMIN: ALL, MANAGER: ALL},
         doc="plan reps' visits (admins and managers)")
register("visit_plan", "what_if", {ADMIN: ALL, MANAGER: ALL, REP: ALL},
         doc="compare a rep's visit plan with another home base or other territories "
             "(reps only their own; nothing is written)")
register("visit_settings", "view", {r: ALL for r in (ADMIN, MANAGER, REP, MARKETING,
                                                      EXECUTIVE)},
         doc="see the visit-planning settings")
register("visit_settings", "change", {ADMIN: ALL},
         doc="change the visit-planning settings (only an admin may)")
register("visit_rule", "view", {r: ALL for r in (ADMIN, MANAGER, REP, MARKETING, EXECUTIVE)},
         doc="see the visit frequency rules")
register("visit_rule", "change", {ADMIN: ALL, MANAGER: ALL},
         doc="change the visit frequency rules (admins and managers)")
register("visit_profile", "view", {ADMIN: ALL, MANAGER: ACCOUNT_SEEN, REP: ACCOUNT_SEEN,
                                   MARKETING: ACCOUNT_SEEN, EXECUTIVE: ALL},
         doc="see how this account is visited")
register("visit_profile", "change", {ADMIN: ALL, MANAGER: ACCOUNT_SEEN, REP: ACCOUNT_SEEN},
         doc="change how this account is visited")

register_operations("""
GET    /visits/settings                        visit_settings.view
PATCH  /visits/settings                        visit_settings.change
GET    /visits/visits                          visit.view
GET    /visits/today                           visit.view
GET    /visits/visits/{id}                     visit.view
POST   /visits/visits/{id}/check-in            visit.change
POST   /visits/visits/{id}/check-out           visit.change
POST   /visits/visits/{id}/skip                visit.change
POST   /visits/visits/{id}/move                visit.change
POST   /visits/plans                           visit_plan.run
GET    /visits/accounts/{id}/profile           visit_profile.view
PUT    /visits/accounts/{id}/profile           visit_profile.change
GET    /visits/coverage                        visit_plan.view
GET    /visits/workload                        visit_plan.view
POST   /visits/what-if                         visit_plan.what_if
""")
