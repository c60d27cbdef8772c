"""Writes to the team tree: create, rename, move a team under another (never under
itself or a team below it), set its manager. Admins only (org/permissions.py)."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from salesplan.core import audit
from salesplan.core.records import apply_update
from salesplan.core.registry import require

from .models import Team, User
from .selectors import bump_team_tree_version, team_subtree_ids

TEAM_FIELDS = {"name", "parent", "manager"}


def _check(by: User | None, action: str, team: Team | None = None) -> None:
    if by is not None:
        require(by, "team", action, team)


def _clean_name(name: str, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the team."})
    if len(name) > 120:
        raise ValidationError({"name": "Keep the name under 120 characters."})
    rows = Team.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    if rows.exists():
        raise ValidationError({"name": f"There is already a team called {name}."})
    return name


def _check_parent(team: Team, parent: Team | None) -> None:
    if parent is None or team.pk is None:
        return
    if parent.pk in team_subtree_ids(team.pk):
        where = "itself" if parent.pk == team.pk else f"{parent.name}, which is below it"
        raise ValidationError({"parent": f"{team.name} cannot move under {where}: the tree "
                                         "would go round in a circle."})


def _check_manager(manager: User | None) -> None:
    if manager is not None and not manager.is_active:
        raise ValidationError({"manager": f"{manager} is deactivated."})


@transaction.atomic
def create_team(*, by: User | None, name: str, parent: Team | None = None,
                manager: User | None = None) -> Team:
    """A new team, at the top or under `parent`."""
    _check(by, "manage")
    _check_manager(manager)
    team = Team(name=_clean_name(name), parent=parent, manager=manager)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError as exc:
        raise ValidationError({"name": f"There is already a team called {team.name}."}) from exc
    audit.record_created(team, by)
    bump_team_tree_version()
    return team


@transaction.atomic
def update_team(team: Team, *, by: User | None, data: dict,
                expected_version: int | None) -> dict:
    """Rename the team, move it under another (or to the top: parent None), or set its
    manager."""
    _check(by, "manage", team)
    data = dict(data)
    if "name" in data:
        data["name"] = _clean_name(data["name"], exclude_pk=team.pk)
    if "parent" in data:
        _check_parent(team, data["parent"])
    if "manager" in data:
        _check_manager(data["manager"])
    changes = apply_update(team, data, by=by, allowed=TEAM_FIELDS,
                           expected_version=expected_version)
    if changes:
        bump_team_tree_version()
    return changes


def move_team(team: Team, *, by: User | None, parent: Team | None,
              expected_version: int | None) -> dict:
    return update_team(team, by=by, data={"parent": parent}, expected_version=expected_version)
