"""Who may see and change which plan.

Admins do anything. Managers create and edit plans for the teams they answer for (their
team subtree) and see the company plan; reps see the plans of their own team and the
teams above it, but only their own objectives; executives and marketing read every plan.
A plan is approved by an admin or by a manager of a team above the plan's team, never by
its own owner.
"""

from django.db.models import Q, QuerySet

from salesplan.core.registry import allowed, require
from salesplan.org.models import Role, Team, User
from salesplan.org.selectors import managed_team_ids, team_parents

from .models import Plan

READ_EVERYTHING = {Role.EXECUTIVE, Role.MARKETING}


def team_ancestor_ids(team_id: int | None) -> list[int]:
    parents = team_parents()
    ids: list[int] = []
    while team_id is not None and team_id not in ids:
        ids.append(team_id)
        team_id = parents.get(team_id)
    return ids


def visibility_rule(user) -> Q | None:
    """Which plans the user sees, as a filter; None means none at all."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_admin or user.role in READ_EVERYTHING:
        return Q()
    above = Q(team__isnull=True) | Q(team_id__in=team_ancestor_ids(user.team_id))
    if user.role == Role.MANAGER:
        # A manager reads what their reps read (the company plan and the teams above),
        # and every plan of the teams they answer for.
        managed = managed_team_ids(user)
        return (above | Q(team_id__in=_ancestors_of(managed)) | Q(team_id__in=managed)
                | Q(owner=user))
    return above


def _ancestors_of(team_ids) -> set[int]:
    parents = team_parents()
    found: set[int] = set()
    for team_id in team_ids:
        current = parents.get(team_id)
        while current is not None and current not in found:
            found.add(current)
            current = parents.get(current)
    return found


def visible_plans(user: User) -> QuerySet[Plan]:
    """The plans the user may open; every plan read starts here."""
    return Plan.objects.visible_to(user).select_related("team", "owner")


def sees_every_objective(user: User) -> bool:
    """Reps see only their own lines; everyone else who sees the plan sees it whole."""
    return user.is_admin or user.role != Role.REP


def edits(user: User, plan: Plan) -> bool:
    """The "managed" scope of the registry's plan entries: a manager's own plans and
    those of the teams they manage."""
    if plan.team_id is None:
        return plan.owner_id == user.pk
    return plan.owner_id == user.pk or plan.team_id in managed_team_ids(user)


def approves(user: User, plan: Plan) -> bool:
    """The "above" scope: a manager of a team above the plan's team, not its owner."""
    if plan.owner_id == user.pk or plan.team_id is None:
        return False
    parent_id = plan.team.parent_id if plan.team else None
    return parent_id is not None and parent_id in managed_team_ids(user)


# Thin names over the permission registry (planning/permissions.py), used by services,
# views and templates.


def can_edit(user: User, plan: Plan) -> bool:
    return allowed(user, "plan", "change", plan)


def can_create_for(user: User, team: Team | None) -> bool:
    if team is None:
        return allowed(user, "team_plan", "create") and user.is_admin
    return allowed(user, "team_plan", "create", team)


def can_approve(user: User, plan: Plan) -> bool:
    return allowed(user, "plan", "approve", plan)


def require_edit(user: User, plan: Plan) -> None:
    require(user, "plan", "change", plan)


def can_reopen(user: User, plan: Plan) -> bool:
    return allowed(user, "plan", "reopen", plan)


def require_reopen(user: User, plan: Plan) -> None:
    require(user, "plan", "reopen", plan)
