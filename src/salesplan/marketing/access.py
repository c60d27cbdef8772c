"""Who may do what in marketing: thin names over the permission registry's marketing
entries (see permissions.py), read by services, views and the API."""

from salesplan.core.registry import allowed, require


def can_manage(user) -> bool:
    return allowed(user, "campaign", "manage")


def can_view_campaigns(user) -> bool:
    return allowed(user, "campaign", "view")


def can_view_results(user) -> bool:
    """Attribution, ROI, feedback: aggregate figures for marketing and management."""
    return allowed(user, "campaign_results", "view")


def can_work_queue(user) -> bool:
    return allowed(user, "lead_queue", "view")


def require_manage(user) -> None:
    require(user, "campaign", "manage")


def require_view_campaigns(user) -> None:
    require(user, "campaign", "view")


def require_view_results(user) -> None:
    require(user, "campaign_results", "view")


def require_set_capacity(user) -> None:
    require(user, "rep_capacity", "change")


def require_work_queue(user) -> None:
    require(user, "lead_queue", "view")
