"""Who may read and change the catalogue and its prices: thin names over the registry's
"catalogue" entries (pricing/permissions.py). Pricing lines for an account also needs
the account to be visible to the user."""

from salesplan.core.registry import allowed, require


def can_read(user) -> bool:
    return allowed(user, "catalogue", "view")


def can_edit(user) -> bool:
    return allowed(user, "catalogue", "change")


def require_read(user) -> None:
    require(user, "catalogue", "view")


def require_edit(user) -> None:
    """Raise PermissionDenied unless the user is an admin (services call this first)."""
    require(user, "catalogue", "change")
