"""Sign-on in the permission registry: admins map the provider's groups, set the policy
and reset anyone's two-factor authentication; everyone sets up or switches off their own.
"""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    MARKETING,
    REP,
    register,
    register_operations,
)

ADMINS = {ADMIN: ALL}
EVERYONE = {ADMIN: ALL, MANAGER: ALL, REP: ALL, MARKETING: ALL, EXECUTIVE: ALL}

register("group_mapping", "view", ADMINS, doc="see how the provider's groups map to roles")
register("group_mapping", "manage", ADMINS,
         doc="change how the provider's groups map to roles and teams")
register("sign_on_policy", "view", ADMINS, doc="see the sign-on policy")
register("sign_on_policy", "manage", ADMINS, doc="change the sign-on policy")
# Personal: each user's own second factor, which the read-only executive sets up too.
register("two_factor", "enrol", EVERYONE, personal=True,
         doc="set up two-factor authentication for yourself")
register("two_factor", "disable", EVERYONE, personal=True,
         doc="switch off your own two-factor authentication")
register("two_factor", "reset", ADMINS, doc="reset another user's two-factor authentication")

register_operations("""
GET    /signon/mappings                         group_mapping.view
POST   /signon/mappings                         group_mapping.manage
PATCH  /signon/mappings/{id}                    group_mapping.manage
DELETE /signon/mappings/{id}                    group_mapping.manage
GET    /signon/policy                           sign_on_policy.view
PUT    /signon/policy                           sign_on_policy.manage
GET    /signon/two-factor                       two_factor.enrol
POST   /signon/users/{id}/two-factor/reset      two_factor.reset
""")
