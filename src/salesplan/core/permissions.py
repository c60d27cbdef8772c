"""The CRM core's entries in the permission registry (core.registry): role × resource ×
action for accounts, contacts, leads, opportunities and activities.

Scopes: ALL (any record), VISIBLE (records the visibility rule shows the user),
OWN (records the user owns), NONE. "create" uses ALL/NONE only.
The feature apps declare their own entries in their `permissions.py`; `require`,
`has_permission` and `scope_for` here are the registry's, for every resource.
"""

from salesplan.core.roles import Role

from . import registry as _registry
from .registry import ALL, NONE, OWN, VISIBLE

__all__ = ["ALL", "NONE", "OWN", "VISIBLE", "PERMISSIONS", "can_assign_owner", "has_permission",
           "require", "scope_for"]

RESOURCES = ("account", "contact", "lead", "opportunity", "activity")
ACTIONS = ("view", "create", "change", "delete")

_CRM = {"view": VISIBLE, "create": ALL, "change": VISIBLE}

PERMISSIONS: dict[str, dict[str, dict[str, str]]] = {
    Role.ADMIN: {r: {a: ALL for a in ACTIONS} for r in RESOURCES},
    Role.MANAGER: {r: {**_CRM, "delete": VISIBLE} for r in RESOURCES},
    Role.REP: {
        "account": {**_CRM, "delete": NONE},
        "contact": {**_CRM, "delete": OWN},
        "lead": {**_CRM, "delete": OWN},
        "opportunity": {**_CRM, "delete": NONE},
        "activity": {**_CRM, "delete": OWN},
    },
    Role.MARKETING: {
        "account": {a: NONE for a in ACTIONS},
        # Contacts are read for campaign audiences; sales owns the relationship.
        "contact": {"view": ALL, "create": NONE, "change": NONE, "delete": NONE},
        "lead": {"view": ALL, "create": ALL, "change": ALL, "delete": ALL},
        "opportunity": {a: NONE for a in ACTIONS},
        "activity": {"view": VISIBLE, "create": ALL, "change": VISIBLE, "delete": OWN},
    },
    Role.EXECUTIVE: {r: {"view": ALL, "create": NONE, "change": NONE, "delete": NONE}
                     for r in RESOURCES},
}


# Declared into the registry from the table above, one entry per resource × action.
for _resource in RESOURCES:
    for _action in ACTIONS:
        _registry.register(
            _resource, _action,
            {str(role): PERMISSIONS[role][_resource][_action] for role in PERMISSIONS},
            doc=f"{_action} this {_resource}")

# Starting a bulk action on a list (change owner or stage, delete, add to a campaign,
# export, fix boundary violations). Each row is still checked by its own entry (change,
# delete) and refused alone; an action may need more (a campaign's "manage"). Marketing
# works the lists it reads: contacts and leads.
for _resource in ("account", "contact", "lead", "opportunity"):
    _registry.register(
        _resource, "bulk_change",
        {str(role): NONE if role == Role.EXECUTIVE or (
            role == Role.MARKETING and _resource in ("account", "opportunity")) else ALL
         for role in PERMISSIONS},
        doc=f"start a bulk action on {_resource} rows (each row checked on its own)")

_registry.register("pipeline", "view", {str(role): ALL for role in PERMISSIONS},
                   doc="see the pipelines")
_registry.register("profile", "view", {str(role): ALL for role in PERMISSIONS}, personal=True,
                   doc="see your profile")
# Which jobs one follows (one's own; an admin's, everyone's) is core.jobs' rule.
_registry.register("background_job", "view", {str(role): ALL for role in PERMISSIONS},
                   personal=True, doc="follow background jobs")
_registry.register("search", "view", {str(role): ALL for role in PERMISSIONS},
                   doc="search the records you may see")

_CRM_OPERATIONS = []
for _resource in RESOURCES:
    _plural = {"opportunity": "opportunities", "activity": "activities"}.get(
        _resource, f"{_resource}s")
    _CRM_OPERATIONS += [f"GET /{_plural} {_resource}.view", f"POST /{_plural} {_resource}.create",
                        f"GET /{_plural}/{{id}} {_resource}.view",
                        f"PATCH /{_plural}/{{id}} {_resource}.change",
                        f"DELETE /{_plural}/{{id}} {_resource}.delete",
                        f"GET /{_plural}/{{id}}/audit {_resource}.view"]
_registry.register_operations("\n".join([
    *_CRM_OPERATIONS,
    *[f"GET /{plural}/facets {resource}.view" for resource, plural in (
        ("account", "accounts"), ("contact", "contacts"), ("lead", "leads"),
        ("opportunity", "opportunities"))],
    "POST /leads/{id}/convert lead.change", "GET /leads/{id}/duplicates lead.view",
    "POST /opportunities/{id}/move opportunity.change",
    "POST /accounts/bulk account.bulk_change", "POST /opportunities/bulk opportunity.bulk_change",
    "POST /contacts/bulk contact.bulk_change", "POST /leads/bulk lead.bulk_change",
    "GET /opportunities/{id}/history opportunity.view",
    "POST /activities/{id}/complete activity.change",
    "GET /me profile.view", "GET /pipelines pipeline.view", "GET /search search.view",
    "GET /jobs background_job.view", "GET /jobs/{job_id} background_job.view"]))

scope_for = _registry.scope_for
has_permission = _registry.allowed
require = _registry.require


def can_assign_owner(user, owner) -> bool:
    """Reps own what they create; managers assign within their teams; admins anywhere."""
    if owner is None:
        return False
    if not owner.is_active:
        return False
    ids = user.visible_owner_ids
    return ids is None or owner.pk in ids
