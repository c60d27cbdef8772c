"""Routing new leads: to the territory whose rules cover the lead's address and
industry (the same rule engine that assigns accounts), then to one of the territory's
owners by round-robin or least-loaded, never past a rep's capacity. A lead nobody can
take waits in the queue with the reason, and every decision is logged on the lead."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from salesplan.core.audit import record_changes
from salesplan.customers.models import Lead, LeadStatus
from salesplan.engines.territory_rules import account_facts
from salesplan.org.models import User
from salesplan.territories.assignment import compiled_index
from salesplan.territories.models import (
    Alignment,
    MemberRole,
    Territory,
    TerritoryType,
)
from salesplan.territories.selectors import current_members

from .models import (
    LeadEvent,
    LeadHandoff,
    MarketingPolicy,
    RepCapacity,
    RoundRobinCursor,
    RoutingMethod,
    Stage,
)

# Leads that still take a rep's time, counted against capacity.
OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.QUALIFIED)
# Which territory type owns a lead when several types claim it.
TYPE_PREFERENCE = (TerritoryType.GEOGRAPHIC, TerritoryType.VERTICAL, TerritoryType.OVERLAY,
                   TerritoryType.NAMED_ACCOUNT)


@dataclass
class RoutingDecision:
    """Where routing sent a lead: a rep in a territory, or the queue with a reason."""

    territory: Territory | None
    rep: User | None
    message: str

    @property
    def queued(self) -> bool:
        return self.rep is None


def lead_facts(lead: Lead) -> tuple:
    """The lead as the rule engine sees an account (leads have no county, tier or
    revenue; rules on those never claim a lead)."""
    return account_facts((lead.pk, lead.country, lead.state, "", lead.postal_code,
                          lead.industry, "", lead.employees, None))


def covering_territory(lead: Lead, alignment: Alignment) -> tuple[Territory | None, str]:
    """The territory the alignment's rules give the lead, and why (or why none)."""
    out = compiled_index(alignment).assign([lead_facts(lead)])
    by_kind = {kind: (tid, reason) for _, tid, kind, reason in out.assignments}
    for kind in TYPE_PREFERENCE:
        if kind in by_kind:
            tid, reason = by_kind[kind]
            return Territory.objects.get(pk=tid), reason
    if out.conflicts:
        names = Territory.objects.filter(pk__in=out.conflicts[0][2]).values_list("name",
                                                                                flat=True)
        return None, "Territories tie for this lead: " + ", ".join(sorted(names))
    place = " ".join(p for p in (lead.country, lead.state, lead.postal_code) if p) or "none"
    return None, f"No territory of {alignment.name} covers this lead (address: {place})."


def territory_owners(territory: Territory) -> tuple[Territory | None, list[int]]:
    """The active owners of the territory, or of the nearest ancestor that has some."""
    current: Territory | None = territory
    seen: set[int] = set()
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        ids = list(current_members().filter(
            territory=current, role=MemberRole.OWNER, user__is_active=True)
            .order_by("user_id").values_list("user_id", flat=True).distinct())
        if ids:
            return current, ids
        current = current.parent
    return None, []


def open_lead_counts(user_ids: list[int]) -> dict[int, int]:
    rows = (Lead.objects.filter(owner_id__in=user_ids, status__in=OPEN_LEAD_STATUSES)
            .values_list("owner_id").annotate(n=Count("id")).order_by())
    counts = dict.fromkeys(user_ids, 0)
    counts.update({owner: n for owner, n in rows})
    return counts


def capacities(user_ids: list[int], policy: MarketingPolicy) -> dict[int, int]:
    caps = dict.fromkeys(user_ids, policy.default_capacity)
    caps.update(RepCapacity.objects.filter(user_id__in=user_ids)
                .values_list("user_id", "max_open_leads"))
    return caps


def pick_rep(territory: Territory, candidates: list[int], counts: dict[int, int],
             method: str) -> int:
    """One of the candidates (ids ascending): the next after the last one served, or the
    one holding fewest open leads (lowest id on a tie)."""
    if method == RoutingMethod.LEAST_LOADED:
        return min(candidates, key=lambda uid: (counts[uid], uid))
    cursor, _ = RoundRobinCursor.objects.select_for_update().get_or_create(territory=territory)
    last = cursor.last_user_id or 0
    chosen = next((uid for uid in candidates if uid > last), candidates[0])
    cursor.last_user_id = chosen
    cursor.save(update_fields=["last_user"])
    return chosen


def decide(lead: Lead, policy: MarketingPolicy) -> RoutingDecision:
    alignment = Alignment.objects.filter(status=Alignment.Status.ACTIVE).first()
    if alignment is None:
        return RoutingDecision(None, None, "There is no active territory alignment.")
    territory, reason = covering_territory(lead, alignment)
    if territory is None:
        return RoutingDecision(None, None, reason)
    staffed, owners = territory_owners(territory)
    if staffed is None:
        return RoutingDecision(territory, None,
                               f"{territory.name} ({reason}) has no current owner.")
    counts = open_lead_counts(owners)
    caps = capacities(owners, policy)
    eligible = [uid for uid in owners if counts[uid] < caps[uid]]
    if not eligible:
        return RoutingDecision(staffed, None, (
            f"Every owner of {staffed.name} is at capacity ("
            + ", ".join(f"{counts[u]}/{caps[u]}" for u in owners) + " open leads)."))
    rep_id = pick_rep(staffed, eligible, counts, policy.routing_method)
    rep = User.objects.get(pk=rep_id)
    via = "" if staffed == territory else f" via {staffed.name}"
    method = RoutingMethod(policy.routing_method).label.lower()
    return RoutingDecision(staffed, rep, (
        f"{territory.name}{via} ({reason}); {method} chose {rep} "
        f"({counts[rep_id]}/{caps[rep_id]} open leads)."))


@transaction.atomic
def route_lead(lead: Lead, *, by=None, policy: MarketingPolicy | None = None,
               now: datetime | None = None) -> RoutingDecision:
    """Route one lead and record the decision: its owner, its handoff's territory and
    SLA clock, or its place in the queue."""
    policy = policy or MarketingPolicy.current()
    now = now or timezone.now()
    handoff, _ = LeadHandoff.objects.get_or_create(
        lead=lead, defaults={"stage_changed_at": now, "source": lead.source})
    decision = decide(lead, policy)
    if decision.rep is None:
        handoff.queued, handoff.queue_reason = True, decision.message[:300]
        handoff.territory = decision.territory
        handoff.save(update_fields=["queued", "queue_reason", "territory"])
        LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.QUEUED, at=now, by=by,
                                 territory=decision.territory, message=decision.message[:500])
        return decision
    assign(lead, handoff, decision.rep, territory=decision.territory, by=by, now=now,
           policy=policy, message=decision.message)
    return decision


def assign(lead: Lead, handoff: LeadHandoff, rep: User, *, territory: Territory | None, by,
           now: datetime, policy: MarketingPolicy, message: str) -> None:
    """Give the lead to the rep and start its first-touch clock."""
    if lead.owner_id != rep.pk:
        old_owner = lead.owner
        Lead.objects.filter(pk=lead.pk).update(owner=rep, version=lead.version + 1,
                                               updated_at=now)
        lead.owner, lead.version = rep, lead.version + 1
        record_changes(lead, {"owner": (old_owner, rep)}, by)
    handoff.territory = territory
    handoff.queued, handoff.queue_reason = False, ""
    handoff.routed_at = now
    handoff.sla_due_at = now + timedelta(hours=policy.sla_hours)
    handoff.first_touch_at = handoff.escalated_at = None
    if handoff.stage not in (Stage.MQL, Stage.SAL, Stage.SQL):
        handoff.stage, handoff.stage_changed_at, handoff.reason = Stage.MQL, now, ""
    handoff.save()
    LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.ROUTED, at=now, by=by,
                             territory=territory, assigned_to=rep, message=message[:500])


def unrouted_leads(limit: int | None = None):
    """Leads that never went through routing (created or imported elsewhere), newest
    first, and open leads waiting in the queue."""
    fresh = (Lead.objects.filter(handoff__isnull=True, status__in=OPEN_LEAD_STATUSES)
             .order_by("-created_at", "-id"))
    queued = Lead.objects.filter(handoff__queued=True).order_by("-created_at", "-id")
    return (fresh[:limit] if limit else fresh), (queued[:limit] if limit else queued)


def route_pending(*, by=None, include_queued: bool = True, limit: int | None = None) -> dict:
    """Route every lead not yet routed (and retry the queue): what the CLI and the queue
    page's button run."""
    policy = MarketingPolicy.current()
    fresh, queued = unrouted_leads(limit)
    routed = waiting = 0
    leads = list(fresh) + (list(queued) if include_queued else [])
    for lead in leads:
        if route_lead(lead, by=by, policy=policy).queued:
            waiting += 1
        else:
            routed += 1
    return {"routed": routed, "queued": waiting}

