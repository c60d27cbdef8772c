"""The feature apps' permission matrix, generated from the registry.

Each operation below names its API route and its registry entry, and builds the record it
acts on for a given owner. The test sends it as every actor for every owner:

actors   admin, the manager of the record's team (West), the manager of another region
         (North), the rep who owns the record (west_rep), his teammate (west_rep2),
         marketing, the executive
owners   own (west_rep), teammate's (west_rep2), another team's (east_rep), another
         region's (north_rep), and a missing record

The expected answer is what the registry says (`core.registry.refusal_status`): 404 for a
record of a kind the actor reads but not this one (and for a missing one), 403 for an
action the actor may not take, the operation's success status otherwise. Where refused,
the record's row (and the rows the operation would touch) must be unchanged.

The expectations come from the registry on purpose: the registry is the product decision
(reviewed in one place, with the findings' regression tests in test_findings_*.py); this
matrix proves that every endpoint listed enforces exactly what it says.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from decimal import Decimal as D
from itertools import count
from typing import Any

from django.db import models
from django.utils import timezone

from salesplan.collab.models import Comment
from salesplan.core.clock import company_today
from salesplan.core.registry import NONE, REGISTRY, refusal_status, scope_for
from salesplan.customers.models import Account, Lead
from salesplan.health.models import AccountHealth
from salesplan.marketing import routing
from salesplan.marketing.models import LeadHandoff, MarketingPolicy
from salesplan.org.models import Role, Team, User
from salesplan.planning import services as planning
from salesplan.planning.models import Plan
from salesplan.scoring.models import LeadScore
from salesplan.territories import services as territories
from salesplan.territories.models import (
    Alignment,
    BoundaryException,
    BoundaryRule,
    Territory,
    TerritoryMember,
)
from salesplan.visits.models import PlannedVisit, VisitProfile
from tests.factories import make_account, make_lead, make_team, make_user

ACTORS = ("admin", "team_manager", "other_region_manager", "rep_owner", "rep_teammate",
          "marketing", "executive")
OWNERS = ("own", "teammate", "other_team", "other_region", "missing")
OWNER_USER = {"own": "west_rep", "teammate": "west_rep2", "other_team": "east_rep",
              "other_region": "north_rep"}
ACTOR_USER = {"admin": "admin", "team_manager": "west_manager",
              "other_region_manager": "north_manager", "rep_owner": "west_rep",
              "rep_teammate": "west_rep2", "marketing": "marketer", "executive": "executive"}
MISSING = 999_999
_seq = count(1)
_years = count(2000)


@dataclass
class World:
    """The shared org plus a second region (North), an active territory map with one
    territory per rep, and the records the operations act on."""

    org: Any
    north_manager: Any
    north_rep: Any
    alignment: Alignment
    territory_of: dict[str, Territory]

    def user(self, name: str):
        return getattr(self, name, None) or getattr(self.org, name)


def build_world(org) -> World:
    north = make_team("North")
    north_manager = make_user(Role.MANAGER, north, username="northmgr")
    north.manager = north_manager
    north.save()
    north_rep = make_user(Role.REP, north, username="northrep")
    admin = org.admin
    alignment = territories.create_alignment(by=admin, name="Matrix map")
    world = World(org, north_manager, north_rep, alignment, {})
    for index, (owner, username) in enumerate(OWNER_USER.items()):
        territory = territories.create_territory(alignment, by=admin,
                                                 data={"name": f"T {owner}"})
        territories.create_rule(territory, by=admin, conditions=[
            {"field": "postal_code", "op": "prefix", "values": [f"{index + 1}0"]}])
        territories.add_member(territory, by=admin, user=world.user(username))
        world.territory_of[owner] = territory
    territories.activate_alignment(alignment, by=admin)
    MarketingPolicy.current()
    return world


@dataclass(frozen=True)
class Target:
    """What one operation acts on: the object the registry judges, the URL's id and the
    rows that must not change when the request is refused."""

    obj: models.Model | None
    pk: int
    rows: Callable[[], Any]
    params: dict = field(default_factory=dict)  # other ids in the path
    versioned: models.Model | None = None  # whose version the request sends, if not obj


def _rows(model, **lookup) -> Callable[[], Any]:
    return lambda: list(model.objects.filter(**lookup).values().order_by("pk"))


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # with {pk}
    entry: tuple[str, str]
    make: Callable[[World, Any], Target]
    body: Callable[[World, Any, Target], dict | None] = lambda world, owner, target: None
    ok: int = 200
    lookup: str | None = None  # the resource whose record the URL names, if another

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    def expected(self, user, target: Target | None) -> int:
        resource, action = self.entry
        if target is None:  # a missing record
            kind = self.lookup or resource
            if (kind, "view") in REGISTRY.entries and scope_for(user, kind, "view") != NONE:
                return 404
            return 403 if scope_for(user, resource, action) == NONE else 404
        return refusal_status(user, resource, action, target.obj) or self.ok


# --- the records -----------------------------------------------------------------------


def _territory(world: World, owner) -> Target:
    territory = world.territory_of[owner]
    return Target(territory, territory.pk, _rows(Territory, pk=territory.pk))


def _territory_with_children(world: World, owner) -> Target:
    territory = world.territory_of[owner]

    def rows():
        return (_rows(Territory, pk=territory.pk)(),
                _rows(BoundaryRule, territory=territory)(),
                _rows(TerritoryMember, territory=territory)())
    return Target(territory, territory.pk, rows)


def _rule(world: World, owner) -> Target:
    territory = world.territory_of[owner]
    rule = territory.rules.get()
    return Target(territory, rule.pk, _rows(BoundaryRule, territory=territory))


def _member(world: World, owner) -> Target:
    territory = world.territory_of[owner]
    member = territory.members.get()
    return Target(territory, member.pk, _rows(TerritoryMember, territory=territory))


def _exception(world: World, owner) -> Target:
    rep = world.user(OWNER_USER[owner])
    account = make_account(rep, name=f"Outside {next(_seq)}", postal_code="99999")
    exception = BoundaryException.objects.create(
        rep=rep, account=account, reason="Matrix", requested_by=rep,
        until=company_today() + timedelta(days=30))
    return Target(exception, exception.pk, _rows(BoundaryException, pk=exception.pk))


def _draft(world: World, owner) -> Target:
    from salesplan.territories.assignment import run_full_assignment

    draft = territories.create_alignment(by=world.org.admin, name=f"Draft {next(_seq)}",
                                         copy_from=world.alignment)
    run_full_assignment(draft)
    draft.refresh_from_db()
    return Target(draft, draft.pk, _rows(Alignment, pk__gte=0))


def _fingerprint(world: World, target: Target | None) -> str:
    """The fingerprint of a preview an admin drew of the draft's activation."""
    from salesplan.territories.activation import preview_activation

    if target is None:
        return "no.preview"
    return preview_activation(target.obj, by=world.org.admin, ownership="move").fingerprint


def _account(world: World, owner) -> Target:
    account = make_account(world.user(OWNER_USER[owner]), name=f"Matrix Co {next(_seq)}")
    return Target(account, account.pk, lambda: (
        _rows(Account, pk=account.pk)(), _rows(AccountHealth, pk=account.pk)(),
        _rows(Comment, target_id=account.pk)()))


def _account_to_email(world: World, owner) -> Target:
    from salesplan.activities.models import Activity
    from salesplan.mail.models import EmailMessage

    account = make_account(world.user(OWNER_USER[owner]), name=f"Mailed Co {next(_seq)}")
    return Target(account, account.pk, lambda: (
        _rows(EmailMessage, account=account.pk)(), _rows(Activity, account=account.pk)()))


def _email_body(world, owner, target) -> dict:
    return {"record": "account", "record_id": target.pk if target else MISSING,
            "to": "buyer@example.com", "subject": "Hello",
            "body": "For {{ account.name }}"}


def _comment(world: World, owner) -> Target:
    from salesplan.collab import services as collab

    rep = world.user(OWNER_USER[owner])
    comment = collab.post_comment(make_account(rep, name=f"Talked Co {next(_seq)}"), by=rep,
                                  body="Matrix comment")
    return Target(comment, comment.pk, _rows(Comment, pk=comment.pk))


def _lead(world: World, owner) -> Target:
    lead = make_lead(world.user(OWNER_USER[owner]), last_name=f"Matrix {next(_seq)}")
    return Target(lead, lead.pk, lambda: (_rows(Lead, pk=lead.pk)(),
                                          _rows(LeadScore, pk=lead.pk)()))


def _queued_lead(world: World, owner) -> Target:
    lead = make_lead(world.user(OWNER_USER[owner]), last_name=f"Waiting {next(_seq)}",
                     state="ZZ", country="US")
    routing.route_lead(lead)
    return Target(lead, lead.pk, lambda: (_rows(Lead, pk=lead.pk)(),
                                          _rows(LeadHandoff, lead=lead)()))


TEAM_OF = {"own": "west", "teammate": "west", "other_team": "east", "other_region": None}


def _plan(world: World, owner) -> Target:
    team = getattr(world.org, TEAM_OF[owner]) if TEAM_OF[owner] else world.north_manager.team
    plan = planning.create_plan(by=world.org.admin, name=f"Plan {next(_seq)}",
                                fiscal_year=2000 + next(_years) % 100, team=team)
    return Target(plan, plan.pk, _rows(Plan, pk=plan.pk))


def _submittable_plan(world: World, owner) -> Target:
    target = _plan(world, owner)
    assert target.obj is not None
    planning.submit_plan(target.obj, by=world.org.admin)
    return target


def _closed_plan(world: World, owner) -> Target:
    target = _submittable_plan(world, owner)
    assert target.obj is not None
    for step in (planning.approve_plan, planning.activate_plan, planning.close_plan):
        step(Plan.objects.get(pk=target.pk), by=world.org.admin)
    return Target(Plan.objects.get(pk=target.pk), target.pk, target.rows)


def _plan_with_target(world: World, owner) -> Target:
    """A plan with a bookings target of 1,200 for its year; refused requests leave its
    objectives and their months as they were."""
    from salesplan.planning.models import MonthlyTarget, Objective

    target = _plan(world, owner)
    planning.set_plan_target(target.obj, by=world.org.admin, measure="bookings",
                             total=Decimal("1200"))

    def rows():
        return (target.rows(), _rows(Objective, plan_id=target.pk)(),
                _rows(MonthlyTarget, objective__plan_id=target.pk)())
    return Target(Plan.objects.get(pk=target.pk), target.pk, rows)


def _plan_with_change(world: World, owner) -> Target:
    """A plan whose target an admin allocated through a previewed change (`job`)."""
    from salesplan.core.jobs import run_job
    from salesplan.planning import changes

    target = _plan_with_target(world, owner)
    top = target.obj.objectives.get()
    preview = changes.preview_allocation(top, by=world.org.admin, to="reps", method="even")
    job = changes.confirm(target.obj, by=world.org.admin, token=preview.token,
                          version=Plan.objects.get(pk=target.pk).version)
    run_job(job.pk, changes.apply_change)
    return Target(Plan.objects.get(pk=target.pk), target.pk, target.rows, {"job": job.pk})


def _replan_body(world: World, owner, target: Target | None) -> dict:
    from salesplan.core.fiscal import CompanyCalendar

    year = target.obj.fiscal_year if target else 2030
    return {"measure": "bookings", "reason": "Matrix",
            "as_of": CompanyCalendar.current().months(year)[5].start.isoformat()}


def _quote(world: World, owner) -> Target:
    from salesplan.proposals.models import Quote

    from ..proposals.conftest import stored_quote

    # A 15% discount: above the rep's 10%, so submitting asks the team manager.
    quote = stored_quote(world.user(OWNER_USER[owner]), [("RT-100", "10", "100", "15", "60")])
    return Target(quote, quote.pk, _rows(Quote, pk=quote.pk))


def _approval(world: World, owner) -> Target:
    from salesplan.proposals import services as proposals
    from salesplan.proposals.models import Approval

    quote = _quote(world, owner).obj
    assert quote is not None
    proposals.submit_quote(quote, by=quote.owner)
    approval = Approval.objects.get(quote_version__quote=quote)
    return Target(approval, quote.pk, lambda: _rows(Approval, pk=approval.pk)(),
                  params={"approval": approval.pk}, versioned=quote)


def _group_mapping(world: World, owner) -> Target:
    from salesplan.signon.models import GroupMapping

    mapping = GroupMapping.objects.create(group=f"matrix-{next(_seq)}", role=Role.REP)
    return Target(mapping, mapping.pk, _rows(GroupMapping, pk=mapping.pk))


def _two_factor_user(world: World, owner) -> Target:
    from django.utils import timezone

    from salesplan.signon.models import TotpDevice

    user = world.org.west_rep
    TotpDevice.objects.update_or_create(user=user, defaults={
        "secret": "JBSWY3DPEHPK3PXP", "confirmed_at": timezone.now()})
    return Target(user, user.pk, _rows(TotpDevice, user=user))


# --- the operations ---------------------------------------------------------------------

T = "/territories"
OPERATIONS: list[Operation] = [
    Operation("GET", T + "/{pk}", ("territory", "view"), _territory),
    Operation("PATCH", T + "/{pk}", ("territory", "change"), _territory,
              lambda world, owner, target: {"priority": 7}),
    Operation("DELETE", T + "/{pk}", ("territory", "delete"), _territory_with_children, ok=204),
    Operation("POST", T + "/{pk}/rules", ("territory", "manage_rules"), _territory,
              lambda world, owner, target: {"conditions": [
                  {"field": "postal_code", "op": "prefix",
                   "values": [f"8{target.pk if target else 0}"]}]},
              ok=201),
    Operation("DELETE", T + "/rules/{pk}", ("territory", "manage_rules"), _rule, ok=204),
    Operation("POST", T + "/{pk}/members", ("territory", "manage_members"), _territory,
              lambda world, owner, target: {
                  "user_id": world.user(OWNER_USER[owner]).pk if owner in OWNER_USER
                  else world.org.west_rep.pk, "role": "overlay"}, ok=201),
    Operation("DELETE", T + "/members/{pk}", ("territory", "manage_members"), _member, ok=204),
    Operation("POST", T + "/exceptions/{pk}/approve", ("boundary_exception", "decide"),
              _exception, lambda world, owner, target: {"note": "ok"}),
    Operation("POST", T + "/exceptions/{pk}/reject", ("boundary_exception", "decide"),
              _exception, lambda world, owner, target: {"note": "no"}),
    Operation("POST", "/marketing/queue/{pk}/assign", ("lead_queue", "assign"), _queued_lead,
              lambda world, owner, target: {"rep_id": (target.obj.owner_id if target
                                                       else world.org.west_rep.pk)}),
    Operation("POST", "/collab/comments", ("comment", "create"), _account,
              lambda world, owner, target: {"target": "account",
                                            "target_id": target.pk if target else MISSING,
                                            "body": "From the matrix"}, ok=201),
    Operation("PATCH", "/collab/comments/{pk}", ("comment", "change"), _comment,
              lambda world, owner, target: {"body": "Edited by the matrix"}),
    Operation("DELETE", "/collab/comments/{pk}", ("comment", "delete"), _comment, ok=204),
    Operation("POST", "/mail/preview", ("email", "send"), _account_to_email, _email_body),
    Operation("POST", "/mail/send", ("email", "send"), _account_to_email, _email_body, ok=201),
    Operation("POST", "/health/accounts/{pk}/recompute", ("account_health", "recompute"),
              _account),
    Operation("POST", "/scoring/leads/{pk}/rescore", ("lead_score", "rescore"), _lead),
    Operation("GET", "/plans/{pk}", ("plan", "view"), _plan),
    Operation("POST", "/plans/{pk}/submit", ("plan", "change"), _plan),
    Operation("POST", "/plans/{pk}/approve", ("plan", "approve"), _submittable_plan,
              lambda world, owner, target: {}),
    Operation("POST", "/plans/{pk}/reopen", ("plan", "reopen"), _closed_plan),
    Operation("POST", "/quotes/{pk}/submit", ("quote", "change"), _quote),
    Operation("POST", "/quotes/{pk}/approvals/{approval}/approve", ("quote_approval", "decide"),
              _approval, lambda world, owner, target: {"comment": "Fine"}, lookup="quote"),
    Operation("POST", "/marketing/leads/{pk}/accept", ("lead_handoff", "move"), _lead,
              lambda world, owner, target: {}),
    Operation("DELETE", "/plans/{pk}", ("plan", "change"), _plan, ok=204),
    Operation("POST", "/plans/{pk}/allocate/preview", ("plan", "change"), _plan_with_target,
              lambda world, owner, target: {
                  "objective_id": target.obj.objectives.get().pk if target else MISSING,
                  "to": "reps", "method": "even"}),
    Operation("POST", "/plans/{pk}/replan/preview", ("plan", "change"), _plan_with_target,
              _replan_body),
    Operation("POST", "/plans/{pk}/changes/{job}/undo/preview", ("plan", "change"),
              _plan_with_change, lambda world, owner, target: {}),
    # A preview is drawn for one user: whoever may change the plan reaches the check of
    # the preview itself (this one is no preview: 422); the rest are refused first.
    Operation("POST", "/plans/{pk}/changes/apply", ("plan", "change"), _plan_with_target,
              lambda world, owner, target: {"preview": "not-a-preview"}, ok=422),
]

def _person(world: World, owner) -> Target:
    person = world.user(OWNER_USER[owner])
    return Target(person, person.pk, _rows(User, pk=person.pk))


def _team(world: World, owner) -> Target:
    team = make_team(f"Matrix team {next(_seq)}")
    return Target(team, team.pk, _rows(Team, pk__gte=0))


PROFILE = {"time_zone": "Europe/Berlin", "work_starts": "08:00", "work_ends": "16:30",
           "working_days": [0, 1, 2, 3, 4], "home_address": "Matrix street 1",
           "home_latitude": "52.5", "home_longitude": "13.4"}

OPERATIONS += [
    Operation("GET", "/people/{pk}", ("person", "view"), _person),
    Operation("PATCH", "/people/{pk}", ("person", "change"), _person,
              lambda world, owner, target: {"title": "Matrix title"}),
    Operation("PUT", "/people/{pk}/profile", ("person", "change_profile"), _person,
              lambda world, owner, target: PROFILE),
    Operation("GET", "/people/{pk}/handover", ("person", "deactivate"), _person),
    Operation("DELETE", "/people/{pk}/sessions", ("person", "end_sessions"), _person),
]



def _visit(world: World, owner) -> Target:
    """A planned visit of the owner's, today, to an account of theirs."""
    rep = world.user(OWNER_USER[owner])
    account = make_account(rep, name=f"Visited {next(_seq)}", latitude=48.85, longitude=2.35)
    visit = PlannedVisit.objects.create(owner=rep, account=account, day=company_today(),
                                        sequence=1)
    return Target(visit, visit.pk, _rows(PlannedVisit, owner=rep))


def _visit_profile(world: World, owner) -> Target:
    """An account of the owner's, whose visit profile the URL names (not saved yet)."""
    account = make_account(world.user(OWNER_USER[owner]), name=f"Profiled {next(_seq)}")
    return Target(VisitProfile(account=account), account.pk,
                  _rows(VisitProfile, account=account))


def _next_monday() -> str:
    today = company_today()
    return (today + timedelta(days=7 - today.weekday())).isoformat()


V = "/visits"
OPERATIONS += [
    Operation("GET", V + "/visits/{pk}", ("visit", "view"), _visit),
    Operation("POST", V + "/visits/{pk}/check-in", ("visit", "change"), _visit,
              lambda world, owner, target: {}),
    Operation("POST", V + "/visits/{pk}/skip", ("visit", "change"), _visit,
              lambda world, owner, target: {"reason": "Matrix"}),
    Operation("POST", V + "/visits/{pk}/move", ("visit", "change"), _visit,
              lambda world, owner, target: {"day": _next_monday(), "reason": "Matrix"}),
    Operation("GET", V + "/accounts/{pk}/profile", ("visit_profile", "view"), _visit_profile),
    Operation("PUT", V + "/accounts/{pk}/profile", ("visit_profile", "change"),
              _visit_profile, lambda world, owner, target: {"visits_per_month": "2"}),
]


def _statement(world: World, owner) -> Target:
    """A pay statement of the owner with one line (pay is private: a rep sees only theirs)."""
    from salesplan.compensation.models import CompLine, CompPeriod, CompStatement

    year = 1800 + next(_seq)
    period = CompPeriod.objects.create(name=f"P{year}", starts=date(year, 1, 1),
                                       ends=date(year, 1, 31))
    statement = CompStatement.objects.create(rep=world.user(OWNER_USER[owner]), period=period,
                                             calculated_at=timezone.now())
    CompLine.objects.create(statement=statement, position=1, kind="commission",
                            component="all", label="Commission", amount=D("10.00"),
                            rule="flat 1%")
    return Target(statement, statement.pk, _rows(CompStatement, pk=statement.pk))


def _dispute(world: World, owner) -> Target:
    from salesplan.compensation.models import CompDispute

    statement = _statement(world, owner).obj
    dispute = CompDispute.objects.create(statement=statement, line_position=1,
                                         line_label="Commission", line_amount=D("10.00"),
                                         raised_by=statement.rep, text="Too low")
    return Target(dispute, dispute.pk, _rows(CompDispute, pk=dispute.pk))


def _mbo_score(world: World, owner) -> Target:
    """A score of the owner's MBO in an open period of their own plan (so whoever may
    score it can change it)."""
    from salesplan.compensation.models import CompPeriod, CompPlan, MboScore, PlanStatus

    year = 1800 + next(_seq)
    rep = world.user(OWNER_USER[owner])
    period = CompPeriod.objects.create(name=f"P{year}", starts=date(year, 1, 1),
                                       ends=date(year, 1, 31))
    CompPlan.objects.create(
        name=f"MBO {year}", person=rep, starts=period.starts, ends=period.ends,
        effective_from=period.starts, status=PlanStatus.ACTIVE,
        definition={"mbos": [{"key": "nps", "label": "NPS", "target": "500"}]})
    score = MboScore.objects.create(rep=rep, period=period, component="nps",
                                    score_pct=D("40"))
    return Target(score, score.pk, _rows(MboScore, pk=score.pk))


OPERATIONS += [
    Operation("GET", "/comp/statements/{pk}", ("comp_statement", "view"), _statement),
    Operation("GET", "/comp/statements/{pk}/lines/1", ("comp_statement", "view"), _statement),
    Operation("POST", "/comp/statements/{pk}/lines/1/disputes", ("comp_dispute", "raise"),
              _statement, lambda world, owner, target: {"text": "Deal 7 is missing"}, ok=201,
              lookup="comp_statement"),
    Operation("POST", "/comp/disputes/{pk}/answer", ("comp_dispute", "answer"), _dispute,
              lambda world, owner, target: {"answer": "It closed in February"}),
    Operation("POST", "/comp/disputes/{pk}/resolve", ("comp_dispute", "answer"), _dispute,
              lambda world, owner, target: {"resolution": "Adjusted"}),
    Operation("PATCH", "/comp/mbo-scores/{pk}", ("comp_mbo_score", "score"), _mbo_score,
              lambda world, owner, target: {"score_pct": "90"}),
]

# Operations on the company's map: one record, not one per owner.
COMPANY_OPERATIONS: list[Operation] = [
    Operation("POST", T + "/alignments/{pk}/activate", ("alignment", "activate"), _draft,
              lambda world, owner, target: {"ownership": "move"}),
    Operation("POST", T + "/alignments/{pk}/activate/preview", ("alignment", "activate"), _draft,
              lambda world, owner, target: {"ownership": "move"}),
    Operation("POST", T + "/alignments/{pk}/activate/apply", ("alignment", "activate"), _draft,
              lambda world, owner, target: {"ownership": "move", "fingerprint": _fingerprint(
                  world, target)}, ok=202),
    Operation("POST", T + "/alignments/{pk}/assign", ("alignment", "assign"), _draft, ok=202),
    Operation("GET", T + "/alignments/{pk}/what-if", ("alignment_comparison", "view"), _draft,
              lookup="alignment"),
    Operation("PATCH", "/teams/{pk}", ("team", "manage"), _team,
              lambda world, owner, target: {"name": f"Renamed {next(_seq)}"}),
    Operation("PATCH", "/signon/mappings/{pk}", ("group_mapping", "manage"), _group_mapping,
              lambda world, owner, target: {"role": "manager"}),
    Operation("DELETE", "/signon/mappings/{pk}", ("group_mapping", "manage"), _group_mapping,
              ok=204),
    Operation("POST", "/signon/users/{pk}/two-factor/reset", ("two_factor", "reset"),
              _two_factor_user),
]
