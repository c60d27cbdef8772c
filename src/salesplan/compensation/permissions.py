"""Compensation in the permission registry. Pay is private: a rep sees only their own
statements, a manager those of the people in the teams they manage (and who report to
them), admins and the read-only executive everyone's. Admins run the calculation, close
periods, adjust and export payroll; a rep accepts their own plan and disputes their own
lines; managers and admins answer and resolve disputes on statements they see. A manager
scores the MBOs of the people they see by ownership (not their own); a rep reads their
own scores. The accrual (expected pay of the rest of the year) is for managers (their
people), admins and executives. A team's SPIFF contest standings are for its managers
(who turn them on) and admins and executives; its reps see them as far as the team's
setting allows."""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    OWN,
    REP,
    register,
    register_operations,
    register_scope,
)
from salesplan.org.selectors import managed_team_ids

TEAM = "team"
ASSIGNED = "assigned"
THEIR_PEOPLE = "their_people"
MANAGES = "manages"
OPTED_IN = "opted_in"


def in_team(user, obj) -> bool:
    """The record's rep is someone whose records the user sees by ownership."""
    ids = user.visible_owner_ids
    return ids is None or obj.owner_id in ids


def assigned(user, plan) -> bool:
    """The plan is for this person, or for their role and names nobody."""
    if plan.person_id is not None:
        return plan.person_id == user.pk
    return plan.role == user.role


def their_people(user, obj) -> bool:
    """Someone else whose records the user sees by ownership (nobody scores themselves)."""
    return obj.owner_id != user.pk and in_team(user, obj)


def manages(user, team) -> bool:
    """A team the user answers for as its manager (or one below it)."""
    return team.pk in managed_team_ids(user)


def opted_in(user, team) -> bool:
    """The user's own team, whose manager shows its contest standings to its reps."""
    setting = getattr(team, "contest_setting", None) if team.pk == user.team_id else None
    return bool(setting and setting.enabled and setting.visibility != "managers")


for resource in ("comp_statement", "comp_dispute", "comp_mbo_score", "comp_accrual"):
    register_scope(resource, TEAM, in_team)
register_scope("comp_mbo_score", THEIR_PEOPLE, their_people)
register_scope("comp_plan", ASSIGNED, assigned)
register_scope("comp_contest", MANAGES, manages)
register_scope("comp_contest", OPTED_IN, opted_in)

register("comp_plan", "view", {ADMIN: ALL, EXECUTIVE: ALL, MANAGER: ALL, REP: ASSIGNED},
         doc="see this compensation plan")
register("comp_plan", "manage", {ADMIN: ALL},
         doc="change compensation plans (only an admin may)")
register("comp_plan", "accept", {REP: ASSIGNED, MANAGER: ASSIGNED},
         doc="accept this plan (only the person it is for may)")
register("comp_period", "view", {ADMIN: ALL, EXECUTIVE: ALL, MANAGER: ALL, REP: ALL},
         doc="see the pay periods")
register("comp_period", "manage", {ADMIN: ALL},
         doc="calculate, close or export a pay period (only an admin may)")
register("comp_credit_rule", "view", {ADMIN: ALL, EXECUTIVE: ALL, MANAGER: ALL, REP: ALL},
         doc="see the crediting rules")
register("comp_credit_rule", "manage", {ADMIN: ALL},
         doc="change the crediting rules (only an admin may)")
register("comp_statement", "view", {ADMIN: ALL, EXECUTIVE: ALL, MANAGER: TEAM, REP: OWN},
         doc="see this pay statement")
register("comp_statement", "adjust", {ADMIN: ALL},
         doc="adjust a rep's pay (only an admin may)")
register("comp_statement", "split", {ADMIN: ALL},
         doc="split a deal's credit (only an admin may)")
register("comp_dispute", "view", {ADMIN: ALL, EXECUTIVE: ALL, MANAGER: TEAM, REP: OWN},
         doc="see this dispute")
register("comp_dispute", "raise", {REP: OWN, MANAGER: OWN},
         doc="dispute a line of this statement (only its rep may)")
register("comp_dispute", "answer", {ADMIN: ALL, MANAGER: TEAM},
         doc="answer or resolve this dispute (the rep's manager or an admin)")
register("comp_cost", "view", {ADMIN: ALL, EXECUTIVE: ALL},
         doc="see what a plan costs across the company")
register("comp_mbo_score", "view", {ADMIN: ALL, EXECUTIVE: ALL, MANAGER: TEAM, REP: OWN},
         doc="see this MBO score")
register("comp_mbo_score", "score", {ADMIN: ALL, MANAGER: THEIR_PEOPLE},
         doc="score a rep's MBOs for a period (their manager or an admin)")
register("comp_accrual", "view", {ADMIN: ALL, EXECUTIVE: ALL, MANAGER: TEAM},
         doc="see the pay expected for the rest of the year from the pipeline")
register("comp_contest", "view", {ADMIN: ALL, EXECUTIVE: ALL, MANAGER: MANAGES, REP: OPTED_IN},
         doc="see a team's SPIFF contest standings (a rep: as far as the team's setting "
             "shows them)")
register("comp_contest", "configure", {ADMIN: ALL, MANAGER: MANAGES},
         doc="turn a team's contest standings on or off and choose what its reps see")

# Plans, periods and crediting rules are declared where compensation/api.py installs
# them (record kit).
register_operations("""
POST   /comp/plans/{plan_id}/activate                      comp_plan.manage
POST   /comp/plans/{plan_id}/accept                        comp_plan.accept
POST   /comp/periods/{period_id}/calculate                 comp_period.manage
POST   /comp/periods/{period_id}/close                     comp_period.manage
GET    /comp/periods/{period_id}/payroll.csv               comp_period.manage
GET    /comp/periods/{period_id}/payroll.xlsx              comp_period.manage
GET    /comp/statements                                    comp_statement.view
GET    /comp/statements/{statement_id}                     comp_statement.view
GET    /comp/statements/{statement_id}/lines/{position}    comp_statement.view
POST   /comp/statements/{statement_id}/lines/{position}/disputes  comp_dispute.raise
POST   /comp/adjustments                                   comp_statement.adjust
PUT    /comp/deals/{opportunity_id}/splits                 comp_statement.split
GET    /comp/disputes                                      comp_dispute.view
POST   /comp/disputes/{dispute_id}/answer                  comp_dispute.answer
POST   /comp/disputes/{dispute_id}/resolve                 comp_dispute.answer
GET    /comp/what-if                                       comp_cost.view
GET    /comp/mbo-scores                                    comp_mbo_score.view
POST   /comp/mbo-scores                                    comp_mbo_score.score
PATCH  /comp/mbo-scores/{score_id}                         comp_mbo_score.score
GET    /comp/accrual                                       comp_accrual.view
GET    /comp/contests                                      comp_contest.view
GET    /comp/contests/{key}                                comp_contest.view
GET    /comp/contest-settings/{team_id}                    comp_contest.view
PUT    /comp/contest-settings/{team_id}                    comp_contest.configure
""")
