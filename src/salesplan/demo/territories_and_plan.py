"""The demo company's territory alignment and sales plan, built through the territory and
planning services after the CRM rows are loaded, so those pages open populated.

Territories: the four regions (rules by state), their teams beneath (the team's states),
and one leaf per rep (a contiguous run of the team's three-digit ZIP prefixes, balanced by
the number of ZIP codes), plus a "Healthcare specialists" vertical overlay. The plan: the
current fiscal year's bookings at last year's won bookings × 1.1, phased by seasonality,
allocated to regions, teams and reps by prior-period share, approved and active.
"""

import random
from collections import Counter
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from salesplan.core.fiscal import CompanyCalendar
from salesplan.org.models import Team, User
from salesplan.planning import scope as plan_scope
from salesplan.planning import services as plans
from salesplan.planning.models import AllocationMethod, Level, Measure, Objective, Plan
from salesplan.territories import services as territories
from salesplan.territories.assignment import run_full_assignment
from salesplan.territories.models import (
    AccountTerritory,
    Alignment,
    MemberRole,
    Territory,
    TerritoryMember,
    TerritoryType,
)
from salesplan.territories.selectors import coverage

from .geography import REGIONS, places
from .org import DemoOrg

# Above this many accounts the demo skips territories and plan: assignment and the
# prior-period allocations would add minutes to a load test that does not need them.
MAX_ACCOUNTS = 200_000
ALIGNMENT_NAME = "FY alignment"
OVERLAY_INDUSTRIES = ("Healthcare", "Pharmaceuticals")
GROWTH = Decimal("1.1")


def build_territories_and_plan(org: DemoOrg, *, accounts: int, today: date,
                               log: Callable[[str], None] = lambda s: None) -> None:
    """Territories then plan; skipped (and said so) for very large demos."""
    if accounts > MAX_ACCOUNTS:
        log(f"Skipped territories and the sales plan ({accounts:,} accounts > "
            f"{MAX_ACCOUNTS:,}).")
        return
    rng = random.Random(accounts)
    alignment = build_alignment(org, today=today)
    moved = align_owners_with_territories(alignment)
    violations = count_owner_violations(alignment)
    log(f"Territories: {alignment.territories.count()} in {alignment.name!r}; "
        f"{moved:,} accounts handed to their territory's rep; "
        f"{violations:,} left with a rep outside their territory.")
    plan = build_plan(org, today=today, rng=rng)
    log(f"Sales plan: {plan.name} ({plan.get_status_display().lower()}).")
    log(build_plan_operations(plan, org, today=today, rng=rng))


# --- territories -------------------------------------------------------------------------


def _zip_prefixes_by_team() -> dict[str, list[tuple[str, int]]]:
    """Team -> its three-digit ZIP prefixes in order, with how many ZIP codes each has."""
    team_of = {state: team for teams in REGIONS.values() for team, states in teams.items()
               for state in states}
    counts: dict[str, Counter] = {}
    for place in places():
        counts.setdefault(team_of[place.state], Counter())[place.zip_code[:3]] += 1
    return {team: sorted(c.items()) for team, c in counts.items()}


def split_prefixes(prefixes: list[tuple[str, int]], parts: int) -> list[list[str]]:
    """Cut an ordered list of (prefix, weight) into `parts` contiguous runs of about equal
    weight, none empty (as long as there are enough prefixes)."""
    total = sum(w for _, w in prefixes)
    runs: list[list[str]] = [[] for _ in range(parts)]
    done = 0
    for i, (prefix, weight) in enumerate(prefixes):
        part = min(parts - 1, done * parts // max(total, 1))
        # Leave at least one prefix for each later part.
        part = max(part, parts - (len(prefixes) - i))
        part = min(part, parts - 1)
        runs[part].append(prefix)
        done += weight
    return runs


def _territory(alignment, by, name, parent=None, type_=TerritoryType.GEOGRAPHIC,
               conditions=None) -> Territory:
    territory = territories.create_territory(alignment, by=by, data={
        "name": name, "parent": parent, "type": type_})
    territories.create_rule(territory, by=by, conditions=conditions)
    return territory


@transaction.atomic
def build_alignment(org: DemoOrg, *, today: date) -> Alignment:
    """Create, assign and activate the demo's alignment (by the admin)."""
    admin = User.objects.get(username="admin")
    start = CompanyCalendar.current().year_bounds(CompanyCalendar.current().year_of(today))[0]
    alignment = territories.create_alignment(
        by=admin, name=ALIGNMENT_NAME,
        description="Regions by state, teams below them, one ZIP-prefix territory per rep.")
    prefixes = _zip_prefixes_by_team()

    def member(territory, user, role):
        territories.add_member(territory, by=admin, user=user, role=role, start_date=start)

    for region, teams in REGIONS.items():
        region_team = Team.objects.select_related("manager").get(name=f"{region} region")
        region_t = _territory(alignment, admin, f"{region} region", conditions=[
            {"field": "state", "op": "in", "values": [s for ss in teams.values() for s in ss]}])
        member(region_t, region_team.manager, MemberRole.MANAGER)
        for team_name, states in teams.items():
            team = Team.objects.select_related("manager").get(name=team_name)
            team_t = _territory(alignment, admin, team_name, parent=region_t, conditions=[
                {"field": "state", "op": "in", "values": list(states)}])
            member(team_t, team.manager, MemberRole.MANAGER)
            reps = org.reps_by_team[team_name]
            for rep, run in zip(reps, split_prefixes(prefixes[team_name], len(reps)),
                                strict=True):
                leaf = _territory(alignment, admin, f"{team_name}: {rep.get_full_name()}",
                                  parent=team_t, conditions=[
                                      # A ZIP prefix can straddle two teams' states.
                                      {"field": "state", "op": "in", "values": list(states)},
                                      {"field": "postal_code", "op": "prefix", "values": run}])
                member(leaf, rep, MemberRole.OWNER)
                member(leaf, region_team.manager, MemberRole.MANAGER)
    overlay = _territory(alignment, admin, "Healthcare specialists",
                         type_=TerritoryType.VERTICAL, conditions=[
                             {"field": "industry", "op": "in", "values": list(OVERLAY_INDUSTRIES)}])
    member(overlay, org.reps[-1], MemberRole.OVERLAY)
    run_full_assignment(alignment)  # what the assignment job runs, here synchronously
    territories.activate_alignment(alignment, by=admin)
    alignment.refresh_from_db()
    return alignment


# One account in this many keeps its off-territory owner, so the violations list has
# something to fix; the rest follow their territory, as a real book of business would.
KEEP_VIOLATION_EVERY = 50


def align_owners_with_territories(alignment: Alignment) -> int:
    """Give each leaf geographic territory's accounts (and their contacts, deals and
    activities) to the territory's owner. Seeding, so it writes rows directly rather than
    through the services, which would audit every one of thousands of reassignments."""
    from salesplan.activities.models import Activity
    from salesplan.customers.models import Account, Contact
    from salesplan.pipeline.models import Opportunity

    owners = dict(TerritoryMember.objects.filter(
        territory__alignment=alignment, territory__type=TerritoryType.GEOGRAPHIC,
        territory__children__isnull=True, role=MemberRole.OWNER,
    ).values_list("territory_id", "user_id"))
    moved = 0
    with transaction.atomic():
        for territory_id, user_id in owners.items():
            account_ids = [a for a in AccountTerritory.objects.filter(
                alignment=alignment, territory_id=territory_id).values_list(
                "account_id", flat=True) if a % KEEP_VIOLATION_EVERY]
            for start in range(0, len(account_ids), 500):
                chunk = account_ids[start:start + 500]
                moved += Account.objects.filter(pk__in=chunk).update(owner_id=user_id)
                for model in (Contact, Opportunity, Activity):
                    model.objects.filter(account_id__in=chunk).update(owner_id=user_id)
        _give_every_rep_a_day(set(owners.values()))
    return moved


def _give_every_rep_a_day(rep_ids: set[int]) -> None:
    """Moving books between reps can leave one with nothing due today or overdue; add a
    call today and an overdue task on one of their accounts so "My day" shows work."""
    from datetime import time, timedelta

    from salesplan.activities.models import Activity
    from salesplan.core.clock import company_datetime, company_today
    from salesplan.customers.models import Account

    start = company_datetime(company_today(), time.min)
    end = start + timedelta(days=1)
    rows = []
    for rep_id in sorted(rep_ids):
        open_items = Activity.objects.filter(owner_id=rep_id, done=False)
        account_id = Account.objects.filter(owner_id=rep_id).values_list(
            "pk", flat=True).order_by("pk").first()
        if account_id is None:
            continue
        if not open_items.filter(due_at__gte=start, due_at__lt=end).exists():
            rows.append(Activity(kind="call", subject="Check in on open order", owner_id=rep_id,
                                 account_id=account_id, duration_minutes=15,
                                 due_at=start + timedelta(hours=14)))
        if not open_items.filter(due_at__lt=start).exists():
            rows.append(Activity(kind="task", subject="Send revised quote", owner_id=rep_id,
                                 account_id=account_id,
                                 due_at=start - timedelta(days=2, hours=-9)))
    Activity.objects.bulk_create(rows)


def count_owner_violations(alignment: Alignment) -> int:
    """Accounts whose owner covers none of the account's territories (the demo hands
    accounts to reps of the right team at random, so most fall outside the rep's ZIPs)."""
    covered, _ = coverage(alignment)
    claimed: dict[int, set[int]] = {}
    rows = AccountTerritory.objects.filter(alignment=alignment).values_list(
        "account_id", "territory_id", "account__owner_id")
    owners: dict[int, int] = {}
    for account_id, territory_id, owner_id in rows.iterator(chunk_size=20_000):
        claimed.setdefault(account_id, set()).add(territory_id)
        owners[account_id] = owner_id
    return sum(1 for account_id, tids in claimed.items()
               if not tids & covered.get(owners[account_id], set()))


# --- sales plan --------------------------------------------------------------------------


def _allocate(parent: Objective, *, by: User, to: str) -> list[Objective]:
    """By prior-period share; evenly where nobody below booked anything last year."""
    try:
        return plans.allocate(parent, by=by, to=to, method=AllocationMethod.PRIOR_PERIOD)
    except ValidationError:
        return plans.allocate(parent, by=by, to=to, method=AllocationMethod.EVEN)


@transaction.atomic
def build_plan(org: DemoOrg, *, today: date, rng: random.Random) -> Plan:
    """The whole sales team's plan for this fiscal year: the admin starts it for the Sales
    team (so the VP, its manager, owns it), the VP sets and allocates the target and
    submits it, the admin approves it (no one manages a team above Sales), the VP
    activates it; then a few reps commit."""
    admin, vp = User.objects.get(username="admin"), User.objects.get(username="vp")
    calendar = CompanyCalendar.current()
    year = calendar.year_of(today)
    sales = Team.objects.get(name="Sales", parent=None)
    plan = plans.create_plan(by=admin, name=f"FY{year} sales plan", fiscal_year=year,
                             team=sales)
    last_year = plan_scope.won_bookings(plan, *calendar.year_bounds(year - 1))
    won = last_year.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    target = (won * GROWTH).quantize(Decimal("1")) or Decimal("1000000")
    try:
        top = plans.set_plan_target(plan, by=vp, measure=Measure.BOOKINGS, total=target,
                                    phasing="history")
    except ValidationError:  # no history to learn seasonality from (a tiny demo)
        top = plans.set_plan_target(plan, by=vp, measure=Measure.BOOKINGS, total=target)
    for region in _allocate(top, by=vp, to="teams"):
        for team in _allocate(region, by=vp, to="teams"):
            _allocate(team, by=vp, to="reps")
    plan = plans.submit_plan(plan, by=vp)
    plan = plans.approve_plan(plan, by=admin)
    plan = plans.activate_plan(plan, by=vp)
    _commit_some_reps(plan, org, rng)
    return plan


def _commit_some_reps(plan: Plan, org: DemoOrg, rng: random.Random) -> None:
    """The first rep of each team commits to their target, give or take a tenth."""
    for reps in org.reps_by_team.values():
        rep = reps[0]
        objective = Objective.objects.filter(plan=plan, level=Level.REP, rep=rep,
                                             measure=Measure.BOOKINGS).first()
        if objective is None:
            continue
        targets = dict(objective.months.values_list("month", "target"))
        factor = Decimal(str(round(rng.uniform(0.9, 1.1), 2)))
        plans.submit_commitment(plan, by=rep, measure=Measure.BOOKINGS, months=[
            (targets.get(m, Decimal(0)) * factor).quantize(Decimal("0.01"))
            for m in range(1, 13)])


# --- running the plan: resources, effort, evaluation, a review ---------------------------


def _add_resources(plan: Plan, org: DemoOrg, *, today: date, rng: random.Random) -> int:
    """Every rep a seat (a few with a week's leave), one planned hire per team starting
    next month with a 25/50/75% ramp-up, and a travel and a programme budget."""
    from datetime import timedelta

    from salesplan.planning import resources
    from salesplan.planning.models import BudgetCategory

    vp = plan.owner
    seats = 0
    for team_name, reps in org.reps_by_team.items():
        for i, rep in enumerate(reps):
            seat = resources.add_resource(plan, by=vp, user=rep,
                                          calls_per_day=rng.choice([6, 8, 10]))
            seats += 1
            if i % 3 == 0:
                start = today + timedelta(days=rng.randrange(10, 120))
                resources.add_leave(seat, by=vp, start=start, end=start + timedelta(days=4),
                                    note="Holiday")
        team = reps[0].team if reps else None
        resources.add_resource(plan, by=vp, name=f"New rep ({team_name})", team=team,
                               start_date=resources.next_month_start(today), ramp=[25, 50, 75])
        seats += 1
    for month in range(1, 13):
        resources.add_budget_line(plan, by=vp, category=BudgetCategory.TRAVEL,
                                  description="Customer visits", month=month,
                                  amount=Decimal(rng.randrange(8, 15) * 1000))
        if month % 3 == 1:
            resources.add_budget_line(plan, by=vp, category=BudgetCategory.MARKETING,
                                      description="Quarterly field event", month=month,
                                      amount=Decimal(25000))
    return seats


def build_plan_operations(plan: Plan, org: DemoOrg, *, today: date,
                          rng: random.Random) -> str:
    """Resources, an effort allocation run applied as the reps' activity targets, an
    evaluation that raises alerts, and this month's review."""
    from salesplan.planning import effort, evaluation, reviews
    from salesplan.planning.models import RunStatus

    seats = _add_resources(plan, org, today=today, rng=rng)
    vp = plan.owner
    run = effort.start_run(plan, by=vp, background=False, params={
        "basis": "account", "margin_rate": "0.35", "cost_per_hour": "45",
        "min_calls_by_tier": {"strategic": "1"}, "bootstrap_iterations": 50})
    applied = ""
    # A small company's history can leave every rep at zero calls (no curve fitted); such
    # a call plan has nothing to apply, and apply_run refuses it.
    has_calls = run.status == RunStatus.SUCCEEDED and any(
        rep["calls_per_month"] for rep in run.result["reps"])
    if has_calls:
        effort.apply_run(run, by=vp, reason="Call plan from the effort optimiser.")
        applied = ", applied as activity targets"
    elif run.status == RunStatus.SUCCEEDED:
        applied = ", with no calls to apply"
    alerts = evaluation.evaluate_plan(plan, as_of=today)
    reviews.create_review(plan, by=vp, as_of=today,
                          notes="Monthly review: pipeline coverage and pacing by team.",
                          decisions="Hold the plan; follow up with the teams off track.")
    return (f"Plan operations: {seats} seats; effort run {run.get_status_display().lower()}"
            f"{applied} ({run.message}); {len(alerts)} alerts; one review.")
