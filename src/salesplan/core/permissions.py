"""Who may do what: one table of role × resource × action, read by every write path.

Scopes: ALL (any record), VISIBLE (records the visibility rule shows the user),
OWN (records the user owns), NONE. "create" uses ALL/NONE only.
The permission tests are generated from this same table.
"""

from django.core.exceptions import PermissionDenied

from salesplan.core.roles import Role

ALL, VISIBLE, OWN, NONE = "all", "visible", "own", "none"

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


def scope_for(user, resource: str, action: str) -> str:
    if not user.is_authenticated or not user.is_active:
        return NONE
    role = Role.ADMIN if user.is_superuser else user.role
    return PERMISSIONS.get(role, {}).get(resource, {}).get(action, NONE)


def has_permission(user, resource: str, action: str, obj=None) -> bool:
    scope = scope_for(user, resource, action)
    if scope == NONE:
        return False
    if scope == ALL or obj is None:
        return True
    if scope == OWN:
        return getattr(obj, "owner_id", None) == user.pk
    return type(obj).objects.visible_to(user).filter(pk=obj.pk).exists()


def require(user, resource: str, action: str, obj=None) -> None:
    """Raise PermissionDenied unless the user may act; services call this first."""
    if not has_permission(user, resource, action, obj):
        raise PermissionDenied(f"You may not {action} this {resource}.")


def can_assign_owner(user, owner) -> bool:
    """Reps own what they create; managers assign within their teams; admins anywhere."""
    if owner is None:
        return False
    if not owner.is_active:
        return False
    ids = user.visible_owner_ids
    return ids is None or owner.pk in ids
