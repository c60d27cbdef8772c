"""Plans in the permission registry (the rules themselves are planning.access's).

Everyone reads the plans that planning.access.visibility_rule shows them: the company
plan and the plans of the teams above their own (reps and managers alike), the plans of
the teams a manager answers for, every plan for admins, executives and marketing. A
manager changes the plans of the teams they manage; a plan is approved by an admin or
by a manager of a team above the plan's team, never by its owner; reps commit to the
plans they work in, marketing to the plans it feeds.
"""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    MARKETING,
    REP,
    VISIBLE,
    register,
    register_operations,
    register_scope,
)
from salesplan.org.selectors import managed_team_ids

MANAGED, ABOVE, FOR_TEAM, RETURNABLE = "managed", "above", "for_team", "returnable"


def _managed(user, plan) -> bool:
    from .access import edits

    return edits(user, plan)


def _above(user, plan) -> bool:
    from .access import approves

    return approves(user, plan)


def _for_team(user, team) -> bool:

    return team is not None and team.pk in managed_team_ids(user)


register_scope("plan", MANAGED, _managed)
register_scope("plan", ABOVE, _above)
register_scope("plan", RETURNABLE, lambda user, plan: _above(user, plan) or _managed(user, plan))
register_scope("team_plan", FOR_TEAM, _for_team)

register("plan", "view", {ADMIN: ALL, MANAGER: VISIBLE, REP: VISIBLE, MARKETING: VISIBLE,
                          EXECUTIVE: ALL}, doc="see this plan")
register("team_plan", "create", {ADMIN: ALL, MANAGER: FOR_TEAM},
         doc="create plans for teams you do not manage (you may create plans only for "
             "the teams you manage)")
register("plan", "change", {ADMIN: ALL, MANAGER: MANAGED}, doc="change this plan")
register("plan", "approve", {ADMIN: ALL, MANAGER: ABOVE},
         doc="approve this plan: an admin or a manager of a team above the plan's team "
             "approves it, never its owner")
register("plan", "return", {ADMIN: ALL, MANAGER: RETURNABLE}, doc="return this plan")
register("plan", "reopen", {ADMIN: ALL, MANAGER: MANAGED},
         doc="reopen this closed plan (whoever may close it)")
register("plan", "commit", {REP: VISIBLE}, doc="commit to this plan (only its reps)")
register("plan", "commit_marketing", {ADMIN: ALL, MARKETING: VISIBLE},
         doc="submit marketing commitments (only marketing)")

_READ = ("/plans", "/plans/{plan_id}", "/plans/{plan_id}/objectives",
         "/plans/{plan_id}/revisions", "/plans/{plan_id}/revisions/{number}",
         "/plans/{plan_id}/revisions/{number}/changes", "/plans/{plan_id}/commitments",
         "/plans/{plan_id}/reconciliation", "/plans/{plan_id}/plan-vs-actual",
         "/plans/{plan_id}/activity-plan", "/plans/{plan_id}/effort-runs",
         "/plans/{plan_id}/effort-runs/{run_id}", "/plans/{plan_id}/judgements",
         "/plans/{plan_id}/capacity",
         "/plans/{plan_id}/evaluation", "/plans/{plan_id}/alerts", "/plans/{plan_id}/reviews",
         "/plans/{plan_id}/reviews/{review_id}",
         "/plans/{plan_id}/reviews/{review_id}/compare/{other_id}")
_CHANGE = ("PATCH /plans/{plan_id}", "DELETE /plans/{plan_id}", "POST /plans/{plan_id}/submit",
           "POST /plans/{plan_id}/activate", "POST /plans/{plan_id}/close",
           "POST /plans/{plan_id}/targets", "POST /plans/{plan_id}/allocate",
           "POST /plans/{plan_id}/effort-runs", "POST /plans/{plan_id}/effort-runs/{run_id}/apply",
           "PATCH /plans/{plan_id}/effort-runs/{run_id}",
           "PUT /plans/{plan_id}/judgements",
           "POST /plans/{plan_id}/resources/{resource_id}/leave",
           "POST /plans/{plan_id}/evaluate", "POST /plans/{plan_id}/reviews",
           "POST /plans/{plan_id}/replan", "POST /plans/{plan_id}/allocate/preview",
           "POST /plans/{plan_id}/replan/preview",
           "POST /plans/{plan_id}/changes/{job_id}/undo/preview",
           "POST /plans/{plan_id}/changes/apply")
register_operations("\n".join(
    [f"GET {path} plan.view" for path in _READ]
    + [f"{op} plan.change" for op in _CHANGE]
    + ["POST /plans team_plan.create",
       "POST /plans/{plan_id}/approve plan.approve",
       "POST /plans/{plan_id}/return plan.return",
       "POST /plans/{plan_id}/reopen plan.reopen",
       "POST /plans/{plan_id}/commitments plan.commit",
       "POST /plans/{plan_id}/marketing-commitments plan.commit_marketing"]))
