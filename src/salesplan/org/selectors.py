"""Reads about the organisation: team trees and whose records a user may see."""

from django.core.cache import cache

from salesplan.core.request_memo import remembered
from salesplan.core.shared_versions import current_version, new_version

from .models import Role, Team, User


def team_parents() -> dict[int, int | None]:
    """Each team's parent (None at the top); read once per page."""
    return remembered("team-parents", lambda: dict(Team.objects.values_list("id", "parent_id")))


def _team_children() -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = {}
    for tid, parent_id in team_parents().items():
        children.setdefault(parent_id, []).append(tid)
    return children


def team_subtree_ids(team_id: int) -> list[int]:
    """The team and every team below it, at any depth."""
    children = remembered("team-children", _team_children)
    result, stack = [], [team_id]
    while stack:
        current = stack.pop()
        result.append(current)
        stack.extend(children.get(current, []))
    return result


def managed_team_ids(user: User) -> list[int]:
    """Teams a manager answers for: those they manage and their own, with all sub-teams."""
    return list(remembered(("managed-teams", user.pk, user.team_id),
                           lambda: _managed_team_ids(user)))


def _managed_team_ids(user: User) -> list[int]:
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
    return list(remembered(("visible-owners", user.pk), lambda: _visible_owner_ids(user)))


def _visible_owner_ids(user: User) -> list[int]:
    key = f"visible-owners:{user.pk}:{team_tree_version()}"
    ids = cache.get(key)
    if ids is None:
        team_ids = managed_team_ids(user)
        ids = sorted(
            set(User.objects.filter(team_id__in=team_ids).values_list("id", flat=True))
            | reports_below(user.pk) | {user.pk}
        )
        cache.set(key, ids, 300)
    return ids


def reports_below(user_id: int) -> set[int]:
    """Everyone who reports to the user, directly or further down the manager chain."""
    below: dict[int | None, list[int]] = {}
    for uid, manager_id in User.objects.filter(manager__isnull=False).values_list(
            "id", "manager_id"):
        below.setdefault(manager_id, []).append(uid)
    found: set[int] = set()
    stack = list(below.get(user_id, []))
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(below.get(current, []))
    return found


def people(*, search: str = "", status: str = ""):
    """The company's people for the People page and the API, with team and manager."""
    from django.db.models import Q

    rows = User.objects.select_related("team", "manager").order_by("last_name", "first_name",
                                                                   "username", "id")
    if search:
        rows = rows.filter(Q(username__icontains=search) | Q(email__icontains=search)
                           | Q(first_name__icontains=search) | Q(last_name__icontains=search))
    if status == "active":
        rows = rows.filter(is_active=True)
    elif status == "deactivated":
        rows = rows.filter(is_active=False)
    return rows


def team_tree() -> list[tuple[Team, int]]:
    """Every team in tree order with its depth, for the Teams page and pickers."""
    teams = list(Team.objects.select_related("manager", "parent").order_by("name"))
    children: dict[int | None, list[Team]] = {}
    for team in teams:
        children.setdefault(team.parent_id, []).append(team)
    result: list[tuple[Team, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for team in children.get(parent_id, []):
            result.append((team, depth))
            walk(team.pk, depth + 1)

    walk(None, 0)
    return result


def team_tree_version() -> str:
    return current_version("team-tree")


def bump_team_tree_version() -> None:
    """Forget cached team trees and visible owners (teams, managers or people changed),
    in every server process."""
    new_version("team-tree")


def manager_chain(user: User) -> list[User]:
    """The managers above a user, nearest first. A person's own `manager` comes first,
    then theirs, and so on; where someone names no manager, the chain goes on through
    their team's manager (unless that is them) and the manager of each team above.
    Inactive managers are skipped; a loop in the data ends the chain."""
    chain: list[User] = []
    person: User | None = user
    seen_people: set[int] = set()
    while person is not None and person.pk not in seen_people:
        seen_people.add(person.pk)
        if person.manager_id is not None:
            person = person.manager
            if person is not None and person.pk != user.pk and person.is_active \
                    and person not in chain:
                chain.append(person)
            continue
        for manager in _team_managers_above(person):
            if manager.pk != user.pk and manager not in chain:
                chain.append(manager)
        break
    return chain


def _team_managers_above(user: User) -> list[User]:
    """The active managers of the user's team and of each team above it, nearest first."""
    found: list[User] = []
    team, seen = user.team, set()
    while team is not None and team.pk not in seen:
        seen.add(team.pk)
        manager = team.manager
        if manager is not None and manager.pk != user.pk and manager.is_active:
            found.append(manager)
        team = team.parent
    return found
