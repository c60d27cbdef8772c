"""The organisation in the permission registry: people and teams.

Everyone signed in reads the people and the team tree (owners are picked from them).
Administrators invite people, change roles, teams and managers, deactivate and
reactivate them, send password resets and end their sessions, and build the team tree.
A person keeps their own selling profile (hours, days, home base); a manager keeps those
of the people they answer for.
"""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    MARKETING,
    REP,
    register,
    register_operations,
    register_scope,
)

EVERYONE = {ADMIN: ALL, MANAGER: ALL, REP: ALL, MARKETING: ALL, EXECUTIVE: ALL}
ADMINS = {ADMIN: ALL}


def _self(user, person) -> bool:
    return person.pk == user.pk


def _answers_for(user, person) -> bool:
    ids = user.visible_owner_ids
    return ids is None or person.pk in ids


register_scope("person", "self", _self)
register_scope("person", "answers_for", _answers_for)

register("person", "view", EVERYONE, doc="see the company's people")
register("person", "invite", ADMINS, doc="invite people (administrators only)")
register("person", "change", ADMINS,
         doc="change a person's role, team or manager (administrators only)")
register("person", "change_profile",
         {ADMIN: ALL, MANAGER: "answers_for", REP: "self", MARKETING: "self"},
         doc="change this person's selling profile")
register("person", "deactivate", ADMINS,
         doc="deactivate or reactivate people (administrators only)")
register("person", "end_sessions", ADMINS, doc="end a person's sessions (administrators only)")
register("team", "view", EVERYONE, doc="see the teams")
register("team", "manage", ADMINS, doc="build and change the team tree (administrators only)")

register_operations("""
GET    /people                          person.view
POST   /people                          person.invite
GET    /people/{user_id}                person.view
PATCH  /people/{user_id}                person.change
PUT    /people/{user_id}/profile        person.change_profile
POST   /people/{user_id}/invitation     person.invite
DELETE /people/{user_id}/invitation     person.invite
POST   /people/{user_id}/password-reset person.change
DELETE /people/{user_id}/sessions       person.end_sessions
GET    /people/{user_id}/handover       person.deactivate
POST   /people/{user_id}/deactivate     person.deactivate
POST   /people/{user_id}/reactivate     person.deactivate
GET    /teams                           team.view
POST   /teams                           team.manage
GET    /teams/{team_id}                 team.view
PATCH  /teams/{team_id}                 team.manage
""")
