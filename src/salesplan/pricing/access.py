"""Who may read and change the catalogue and its prices.

Everyone who works in Salesplan reads the catalogue, price books, rules, tax and exchange
rates (a rep needs them to quote); only admins change them. Pricing lines for an account
also needs the account to be visible to the user.
"""

from django.core.exceptions import PermissionDenied


def can_read(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def can_edit(user) -> bool:
    return can_read(user) and user.is_admin


def require_read(user) -> None:
    if not can_read(user):
        raise PermissionDenied("You may not read the catalogue.")


def require_edit(user) -> None:
    """Raise PermissionDenied unless the user is an admin (services call this first)."""
    if not can_edit(user):
        raise PermissionDenied("Only an admin may change the catalogue and its prices.")
