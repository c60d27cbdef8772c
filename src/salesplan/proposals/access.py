"""Who may see, change and approve which quote.

A quote is seen by whoever sees its opportunity and changed by whoever may change the
opportunity (reps their own deals, managers their teams', admins all; executives read
only). Each approval step is addressed to a person (see permissions.py): only they sign
it, or an admin acting for them. No one approves their own quote, except an admin.
"""

from django.core.exceptions import PermissionDenied

from salesplan.core.errors import NotFound
from salesplan.core.registry import allowed, refusal_status, require
from salesplan.org.models import User

from .models import Approval, Quote


def visible_quotes(user: User):
    """Every read of quotes starts here."""
    return Quote.objects.visible_to(user)


def get_quote(user: User, pk: int) -> Quote:
    try:
        return visible_quotes(user).select_related(
            "opportunity", "opportunity__account", "owner").get(pk=pk)
    except (Quote.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(f"No quote with id {pk}.") from exc


# Thin names over the registry's quote entries (proposals/permissions.py).


def can_change(user: User, quote: Quote) -> bool:
    return allowed(user, "quote", "change", quote)


def require_change(user: User, quote: Quote) -> None:
    require(user, "quote", "change", quote)


def can_decide(user: User, approval: Approval, quote: Quote) -> bool:
    """May this user approve or reject this approval of this quote?"""
    return allowed(user, "quote_approval", "decide", approval)


def require_decide(user: User, approval: Approval, quote: Quote) -> None:
    if refusal_status(user, "quote_approval", "decide", approval) == 404:
        raise NotFound(f"No approval with id {approval.pk}.")
    if not can_decide(user, approval, quote):
        who = approval.assignee or "an administrator"
        raise PermissionDenied(f"This approval step is addressed to {who}; only they (or an "
                               "administrator acting for them) may decide it.")


def require_admin(user: User, what: str) -> None:
    if not allowed(user, "quote_settings", "change"):
        raise PermissionDenied(f"Only administrators may change {what}.")
