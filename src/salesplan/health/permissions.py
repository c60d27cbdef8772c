"""Account health in the permission registry: anyone who sees an account reads its health;
those who work accounts (not the read-only executive) score one again; admins and
managers recompute every account."""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    MARKETING,
    REP,
    VISIBLE,
    register,
    register_operations,
)

register("account_health", "view", {ADMIN: ALL, MANAGER: VISIBLE, REP: VISIBLE,
                                    MARKETING: VISIBLE, EXECUTIVE: ALL},
         doc="see this account's health")
register("account_health", "recompute", {ADMIN: ALL, MANAGER: VISIBLE, REP: VISIBLE},
         doc="score this account's health again")
register("account_health", "compute_all", {ADMIN: ALL, MANAGER: ALL},
         doc="recompute every account's health (admins and managers)")

register_operations("""
GET    /health/accounts/{id}               account_health.view
POST   /health/accounts/{id}/recompute     account_health.recompute
GET    /health/at-risk                     account_health.view
GET    /health/renewals                    account_health.view
POST   /health/compute                     account_health.compute_all
""")
