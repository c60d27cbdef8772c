"""Saved views in the permission registry: everyone keeps views of their own lists (the
executive too: a view changes no selling record); a manager (or an admin) may share a
view with their team. A user sees their own views and those shared with their team."""

from salesplan.core.registry import (
    ADMIN,
    EXECUTIVE,
    MANAGER,
    MARKETING,
    OWN,
    REP,
    register,
    register_scope,
)

MINE_OR_TEAM = "mine_or_team"


def _mine_or_team(user, view) -> bool:
    return view.owner_id == user.pk or (
        view.shared and view.team_id is not None and view.team_id == user.team_id)


register_scope("saved_view", MINE_OR_TEAM, _mine_or_team)
register("saved_view", "view", dict.fromkeys((ADMIN, MANAGER, REP, MARKETING, EXECUTIVE),
                                             MINE_OR_TEAM),
         doc="see your own saved views and those shared with your team")
register("saved_view", "manage", dict.fromkeys((ADMIN, MANAGER, REP, MARKETING, EXECUTIVE),
                                               OWN), personal=True,
         doc="save, rename and delete your own views")
register("saved_view", "share", {ADMIN: OWN, MANAGER: OWN}, personal=True,
         doc="share your view with your team (managers and admins)")
