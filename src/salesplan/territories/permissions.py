"""Territories in the permission registry.

The map is the company's: creating, assigning, optimising and activating an alignment
is an admin's (or a user an admin granted it to). Within an alignment a manager
changes only their own part of the hierarchy ("managed"): the territories whose owners
and managers all belong to the teams they manage, and every territory below those.
A rep opens only their own territories' pages ("mine"); the what-if, which shows every
territory's accounts and workload, is for those who plan the whole map.
"""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    REP,
    allowed,
    register,
    register_operations,
    register_scope,
)

MANAGED, MINE, TEAM = "managed", "mine", "team"

VIEWERS = {ADMIN: ALL, MANAGER: ALL, REP: ALL, EXECUTIVE: ALL}
COMPANY_MAP = {ADMIN: ALL}
OWN_PART = {ADMIN: ALL, MANAGER: MANAGED}


def managed_territory_ids(user, alignment_id: int) -> set[int]:
    """The manager's part of one alignment's hierarchy (see the module docstring)."""
    from .models import MemberRole
    from .selectors import current_members, descendants

    people = user.visible_owner_ids
    if people is None:
        return _all_ids(alignment_id)
    staff: dict[int, set[int]] = {}
    for tid, uid in current_members().filter(
            territory__alignment_id=alignment_id,
            role__in=(MemberRole.OWNER, MemberRole.MANAGER)).values_list("territory_id",
                                                                         "user_id"):
        staff.setdefault(tid, set()).add(uid)
    mine = set(people)
    return descendants([tid for tid, users in staff.items() if users <= mine], alignment_id)


def _all_ids(alignment_id: int) -> set[int]:
    from .models import Territory

    return set(Territory.objects.filter(alignment_id=alignment_id).values_list("id", flat=True))


def _managed(user, territory) -> bool:
    # Whoever may change the whole map (an admin, or a user granted it) manages all of it.
    if allowed(user, "alignment", "change", territory.alignment):
        return True
    return territory.pk in managed_territory_ids(user, territory.alignment_id)


def _mine(user, territory) -> bool:
    from .selectors import can_open_territory

    return can_open_territory(user, territory)


def _rep_in_team(user, exception) -> bool:
    ids = user.visible_owner_ids
    return ids is None or exception.rep_id in ids


register_scope("territory", MANAGED, _managed)
register_scope("territory", MINE, _mine)
register_scope("boundary_exception", TEAM, _rep_in_team)
register_scope("boundary_exception", "own", lambda user, exc: exc.rep_id == user.pk)

register("alignment", "view", VIEWERS, doc="see territory alignments")
for _action, _doc in (("create", "create a company-wide alignment"),
                      ("change", "change this alignment"),
                      ("assign", "run this alignment's assignment"),
                      ("optimise", "optimise the territory map"),
                      ("activate", "activate an alignment for the whole company")):
    register("alignment", _action, COMPANY_MAP, grantable=True, doc=_doc)
register("alignment_comparison", "view", {ADMIN: ALL, MANAGER: ALL, EXECUTIVE: ALL},
         doc="compare whole alignments")

register("territory", "view", {ADMIN: ALL, MANAGER: ALL, REP: MINE, EXECUTIVE: ALL},
         doc="see this territory")
for _action, _doc in (("create", "add a territory here"),
                      ("change", "change this territory"),
                      ("delete", "delete this territory"),
                      ("manage_rules", "change this territory's boundary rules"),
                      ("manage_members", "change who works this territory"),
                      ("name_accounts", "name accounts into this territory"),
                      ("set_goals", "set this territory's goals")):
    register("territory", _action, OWN_PART,
             doc=f"{_doc} (managers change only the territories their teams work)")

register("territory_violation", "view", {ADMIN: ALL, MANAGER: ALL, REP: ALL, EXECUTIVE: ALL})
register("territory_violation", "fix", {ADMIN: ALL, MANAGER: ALL},
         doc="fix boundary violations")
register("boundary_exception", "view", {ADMIN: ALL, MANAGER: TEAM, REP: "own", EXECUTIVE: ALL},
         doc="see this boundary exception")
register("boundary_exception", "request", {ADMIN: ALL, MANAGER: ALL, REP: ALL},
         doc="request boundary exceptions")
register("boundary_exception", "decide", {ADMIN: ALL, MANAGER: TEAM},
         doc="decide this exception (only the rep's manager or an admin)")

register_operations("""
GET    /territories/alignments                              alignment.view
POST   /territories/alignments                              alignment.create
GET    /territories/alignments/{id}                         alignment.view
PATCH  /territories/alignments/{id}                         alignment.change
POST   /territories/alignments/{id}/assign                  alignment.assign
GET    /territories/jobs/{job_id}                           alignment.view
POST   /territories/alignments/{id}/optimise                alignment.optimise
GET    /territories/optimisations/{id}                      alignment.view
POST   /territories/alignments/{id}/activate                alignment.activate
POST   /territories/alignments/{id}/activate/preview        alignment.activate
POST   /territories/alignments/{id}/activate/apply          alignment.activate
GET    /territories/alignments/{id}/what-if                 alignment_comparison.view
GET    /territories/alignments/{id}/conflicts               alignment.view
GET    /territories/alignments/{id}/territories             alignment.view
POST   /territories/alignments/{id}/territories             territory.create
GET    /territories/{id}                                    territory.view
PATCH  /territories/{id}                                    territory.change
DELETE /territories/{id}                                    territory.delete
GET    /territories/{id}/accounts                           territory.view
GET    /territories/{id}/size                               territory.view
POST   /territories/rules/preview                           alignment.view
GET    /territories/{id}/goals                              territory.view
POST   /territories/{id}/goals                              territory.set_goals
GET    /territories/violations                              territory_violation.view
POST   /territories/violations/fix                          territory_violation.fix
GET    /territories/exceptions                              boundary_exception.view
POST   /territories/exceptions                              boundary_exception.request
POST   /territories/exceptions/{exception_id}/approve       boundary_exception.decide
POST   /territories/exceptions/{exception_id}/reject        boundary_exception.decide
""")
