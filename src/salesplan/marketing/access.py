"""Who may do what in marketing: one place, read by services, views and the API.

Marketing users and admins manage campaigns, forms and the policy; managers and
executives read campaigns, attribution and feedback; reps read campaigns. A lead's
handoff is moved by whoever may change the lead (its owner, the owner's managers,
admins); marketing may only send a recycled lead back to sales.
"""

from django.core.exceptions import PermissionDenied

from salesplan.org.models import Role


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def can_manage(user) -> bool:
    return _active(user) and (user.is_admin or user.role == Role.MARKETING)


def can_view_campaigns(user) -> bool:
    return _active(user)


def can_view_results(user) -> bool:
    """Attribution, ROI, feedback: aggregate figures for marketing and management."""
    return _active(user) and (user.is_admin or user.role in (
        Role.MARKETING, Role.MANAGER, Role.EXECUTIVE))


def can_work_queue(user) -> bool:
    return _active(user) and (user.is_admin or user.role in (Role.MARKETING, Role.MANAGER))


def require_manage(user) -> None:
    if not can_manage(user):
        raise PermissionDenied("Only marketing users and admins may change campaigns and forms.")


def require_view_campaigns(user) -> None:
    if not can_view_campaigns(user):
        raise PermissionDenied("You may not see campaigns.")


def require_view_results(user) -> None:
    if not can_view_results(user):
        raise PermissionDenied("Only marketing, managers, executives and admins see "
                               "campaign results.")


def require_work_queue(user) -> None:
    if not can_work_queue(user):
        raise PermissionDenied("Only marketing, managers and admins work the routing queue.")
