"""Reads about the organisation: team trees and whose records a user may see."""

from django.core.cache import cache

from .models import Role, Team, User


def team_subtree_ids(team_id: int) -> list[int]:
    """The team and every team below it, at any depth."""
    children: dict[int | None, list[int]] = {}
    for tid, parent_id in Team.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(tid)
    result, stack = [], [team_id]
    while stack:
        current = stack.pop()
        result.append(current)
        stack.extend(children.get(current, []))
    return result


def managed_team_ids(user: User) -> list[int]:
    """Teams a manager answers for: those they manage and their own, with all sub-teams."""
    roots = set(Team.objects.filter(manager=user).values_list("id", flat=True))
    if user.team_id:
        roots.add(user.team_id)
    ids: set[int] = set()
    for root in roots:
        ids.update(team_subtree_ids(root))
    return sorted(ids)


def visible_owner_ids(user: User) -> list[int] | None:
    """Owners whose records the user sees by ownership alone. None means all records.

    Cached briefly per user: every list and detail page asks, and teams change rarely.
    """
    if user.is_admin or user.role == Role.EXECUTIVE:
        return None
    if user.role != Role.MANAGER:
        return [user.pk]
    key = f"visible-owners:{user.pk}:{team_tree_version()}"
    ids = cache.get(key)
    if ids is None:
        team_ids = managed_team_ids(user)
        ids = sorted(
            set(User.objects.filter(team_id__in=team_ids).values_list("id", flat=True)) | {user.pk}
        )
        cache.set(key, ids, 300)
    return ids


def team_tree_version() -> int:
    return cache.get_or_set("team-tree-version", 1, None) or 1


def bump_team_tree_version() -> None:
    try:
        cache.incr("team-tree-version")
    except ValueError:
        cache.set("team-tree-version", 2, None)


def manager_chain(user: User) -> list[User]:
    """The managers above a user, nearest first: their team's manager (unless that is
    them), then the manager of each team above; inactive managers are skipped."""
    chain: list[User] = []
    team, seen = user.team, set()
    while team is not None and team.pk not in seen:
        seen.add(team.pk)
        manager = team.manager
        if manager is not None and manager.pk != user.pk and manager.is_active \
                and manager not in chain:
            chain.append(manager)
        team = team.parent
    return chain
