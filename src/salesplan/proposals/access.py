"""Who may see, change and approve which quote.

A quote is seen by whoever sees its opportunity and changed by whoever may change the
opportunity (reps their own deals, managers their teams', admins all; executives read
only). Approvals go by the level a rule names: the manager of the quote owner's team
(or any manager above it), the manager of the team above (a director), or an admin. No
one approves their own quote, except an admin.
"""

from django.core.exceptions import PermissionDenied

from salesplan.core.errors import NotFound
from salesplan.core.permissions import has_permission
from salesplan.org.models import Role, Team, User
from salesplan.org.selectors import managed_team_ids

from .models import Approval, ApproverLevel, Quote


def visible_quotes(user: User):
    """Every read of quotes starts here."""
    return Quote.objects.visible_to(user)


def get_quote(user: User, pk: int) -> Quote:
    try:
        return visible_quotes(user).select_related(
            "opportunity", "opportunity__account", "owner").get(pk=pk)
    except (Quote.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(f"No quote with id {pk}.") from exc


def can_change(user: User, quote: Quote) -> bool:
    return has_permission(user, "opportunity", "change", quote.opportunity)


def require_change(user: User, quote: Quote) -> None:
    if not can_change(user, quote):
        raise PermissionDenied("You may not change this quote.")


def _owner_team(quote: Quote) -> Team | None:
    owner = quote.opportunity.owner
    return owner.team


def can_decide(user: User, approval: Approval, quote: Quote) -> bool:
    """May this user approve or reject this approval of this quote?"""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_admin:
        return True
    if user.role != Role.MANAGER or approval.approver == ApproverLevel.ADMIN:
        return False
    if quote.owner_id == user.pk or quote.opportunity.owner_id == user.pk:
        return False
    team = _owner_team(quote)
    if team is None:
        return False
    if approval.approver == ApproverLevel.DIRECTOR:
        if team.parent_id is None:
            return False
        team_id = team.parent_id
    else:
        team_id = team.pk
    return team_id in managed_team_ids(user)


def require_decide(user: User, approval: Approval, quote: Quote) -> None:
    if not can_decide(user, approval, quote):
        raise PermissionDenied(
            f"This approval needs {approval.get_approver_display().lower()}; you may not "
            "decide it.")


def require_admin(user: User, what: str) -> None:
    if not (user.is_authenticated and user.is_active and user.is_admin):
        raise PermissionDenied(f"Only administrators may change {what}.")
