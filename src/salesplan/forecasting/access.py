"""Who sees and changes which forecasts.

Reps see and submit their own; managers see the reps and teams they answer for
(`org.selectors.managed_team_ids`) and adjust those teams' figures; executives and
admins see everything (admins may also adjust). Marketing has no forecasts.
"""

from django.core.exceptions import PermissionDenied

from salesplan.core.registry import allowed
from salesplan.org.models import Role, Team, User
from salesplan.org.selectors import managed_team_ids


def sees_all(user: User) -> bool:
    return user.is_authenticated and (user.is_admin or user.role == Role.EXECUTIVE)


def visible_team_ids(user: User) -> set[int] | None:
    """Teams whose roll-up the user sees; None means all of them."""
    if sees_all(user):
        return None
    if user.role == Role.MANAGER:
        return set(managed_team_ids(user))
    return set()


def visible_rep_ids(user: User) -> set[int] | None:
    """Reps whose submissions the user sees; None means everyone's."""
    if sees_all(user):
        return None
    if user.role == Role.MANAGER:
        ids = set(User.objects.filter(team_id__in=managed_team_ids(user))
                  .values_list("pk", flat=True))
        return ids | {user.pk}
    if user.role == Role.MARKETING:
        return set()
    return {user.pk}


# Thin names over the registry's forecast entries (forecasting/permissions.py).


def may_submit(user: User) -> bool:
    return allowed(user, "forecast", "submit")


def may_adjust(user: User, team: Team) -> bool:
    return allowed(user, "forecast_adjustment", "create", team)


def require_adjust(user: User, team: Team) -> None:
    if not may_adjust(user, team):
        raise PermissionDenied(f"You may not adjust the forecast of {team}.")


def may_take_snapshot(user: User) -> bool:
    return allowed(user, "forecast", "snapshot")


def may_read_calibration(user: User) -> bool:
    return allowed(user, "forecast", "view")
