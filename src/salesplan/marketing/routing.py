"""Routing new leads: to the territory whose rules cover the lead's address and
industry (the same rule engine that assigns accounts), then to one of the territory's
owners by round-robin or least-loaded, never past a rep's capacity. A lead nobody can
take waits in the queue with the reason, and every decision is logged on the lead."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from salesplan.core.audit import record_changes
from salesplan.core.clock import company_today
from salesplan.customers.models import Lead, LeadStatus
from salesplan.engines.territory_rules import account_facts
from salesplan.org.models import User
from salesplan.territories import selectors as territory_reads
from salesplan.territories.models import Alignment
from salesplan.territories.selectors import TerritoryType

from . import notices
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

    territory_id: int | None
    rep_id: int | None
    message: str

    @property
    def queued(self) -> bool:
        return self.rep_id is None


@dataclass
class RoutingMap:
    """The active alignment as routing needs it: each territory's name and parent, and
    its current owners. Built once and reused until the rules or the members change."""

    alignment: Alignment
    territories: dict[int, tuple[str, int | None]]
    owners: dict[int, list[int]]
    names: dict[int, str]


_maps: dict[tuple, RoutingMap] = {}
MAP_SECONDS = 60  # also re-read after a minute, for people deactivated meanwhile


def routing_map(alignment: Alignment) -> RoutingMap:
    today = company_today()
    members = territory_reads.current_members(today).filter(territory__alignment=alignment)
    stamp = members.aggregate(n=Count("id"), changed=Max("updated_at"))
    key = (alignment.pk, alignment.rules_token, today, stamp["n"], stamp["changed"],
           int(time.monotonic() // MAP_SECONDS))
    found = _maps.get(key)
    if found is not None:
        return found
    tree = territory_reads.territory_parents(alignment)
    owners: dict[int, list[int]] = {}
    for tid, uid in territory_reads.current_owner_pairs(members):
        owners.setdefault(tid, []).append(uid)
    user_ids = {uid for ids in owners.values() for uid in ids}
    names = {user.pk: str(user) for user in User.objects.filter(pk__in=user_ids)}
    _maps.clear()
    _maps[key] = RoutingMap(alignment, tree, owners, names)
    return _maps[key]


def territory_owners(territory_id: int, rmap: RoutingMap) -> tuple[int | None, list[int]]:
    """The active owners of the territory, or of the nearest ancestor that has some."""
    current: int | None = territory_id
    seen: set[int] = set()
    while current is not None and current not in seen:
        seen.add(current)
        if rmap.owners.get(current):
            return current, rmap.owners[current]
        current = rmap.territories[current][1]
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


def pick_rep(territory_id: int, candidates: list[int], counts: dict[int, int],
             method: str, last: int = 0) -> int:
    """One of the candidates (ids ascending): the next after `last`, the one served last
    (round-robin), or the one holding fewest open leads (lowest id on a tie)."""
    if method == RoutingMethod.LEAST_LOADED:
        return min(candidates, key=lambda uid: (counts[uid], uid))
    return next((uid for uid in candidates if uid > last), candidates[0])


class Router:
    """Routing decisions for a batch of leads, each exactly as if the leads were routed
    one after another: the rules are matched for the whole batch at once, the owners'
    open-lead counts, capacities and round-robin positions are read once, and every
    decision updates them before the next. `save()` writes the round-robin positions."""

    def __init__(self, policy: MarketingPolicy):
        self.policy = policy
        self.alignment = territory_reads.active_alignment()
        self.rmap = routing_map(self.alignment) if self.alignment is not None else None
        self.counts: dict[int, int] = {}
        self.caps: dict[int, int] = {}
        self.cursors: dict[int, int] = {}
        self.moved_cursors: set[int] = set()

    def decide_all(self, leads: list[Lead]) -> list[RoutingDecision]:
        if self.rmap is None:
            return [RoutingDecision(None, None, "There is no active territory alignment.")
                    for _ in leads]
        covering = covering_territories(leads, self.rmap)
        self._load(self.rmap, [tid for tid, _ in covering if tid is not None])
        return [self._decide(self.rmap, lead, tid, reason)
                for lead, (tid, reason) in zip(leads, covering, strict=True)]

    def _load(self, rmap: RoutingMap, territory_ids: list[int]) -> None:
        """Counts, capacities and cursors of the owners these territories route to."""
        staffed = {found for found, _ in (territory_owners(tid, rmap) for tid in territory_ids)
                   if found is not None}
        owners = sorted({uid for tid in staffed for uid in rmap.owners[tid]})
        new = [uid for uid in owners if uid not in self.counts]
        if new:
            self.counts.update(open_lead_counts(new))
            self.caps.update(capacities(new, self.policy))
        wanted = [tid for tid in staffed if tid not in self.cursors]
        if wanted and self.policy.routing_method == RoutingMethod.ROUND_ROBIN:
            cursors = RoundRobinCursor.objects.filter(territory_id__in=wanted)
            if connection.vendor != "sqlite":  # SQLite already runs one writer at a time
                cursors = cursors.select_for_update()
            found = dict(cursors.values_list("territory_id", "last_user_id"))
            for tid in wanted:
                self.cursors[tid] = found.get(tid) or 0

    def _decide(self, rmap: RoutingMap, lead: Lead, territory_id: int | None,
                reason: str) -> RoutingDecision:
        if territory_id is None:
            return RoutingDecision(None, None, reason)
        name = rmap.territories[territory_id][0]
        staffed, owners = territory_owners(territory_id, rmap)
        if staffed is None:
            return RoutingDecision(territory_id, None,
                                   f"{name} ({reason}) has no current owner.")
        staffed_name = rmap.territories[staffed][0]
        counts, caps = self.counts, self.caps
        eligible = [uid for uid in owners if counts[uid] < caps[uid]]
        if not eligible:
            return RoutingDecision(staffed, None, (
                f"Every owner of {staffed_name} is at capacity ("
                + ", ".join(f"{counts[u]}/{caps[u]}" for u in owners) + " open leads)."))
        method = self.policy.routing_method
        rep_id = pick_rep(staffed, eligible, counts, method,
                          last=self.cursors.get(staffed, 0))
        if method == RoutingMethod.ROUND_ROBIN:
            self.cursors[staffed] = rep_id
            self.moved_cursors.add(staffed)
        via = "" if staffed == territory_id else f" via {staffed_name}"
        label = RoutingMethod(method).label.lower()
        decision = RoutingDecision(staffed, rep_id, (
            f"{name}{via} ({reason}); {label} chose {rmap.names[rep_id]} "
            f"({counts[rep_id]}/{caps[rep_id]} open leads)."))
        self._count_move(lead, rep_id)
        return decision

    def _count_move(self, lead: Lead, rep_id: int) -> None:
        """The lead now counts against its new owner (and no longer its old one)."""
        if lead.pk is not None and lead.status in OPEN_LEAD_STATUSES:
            if lead.owner_id in self.counts:
                self.counts[lead.owner_id] -= 1
        if lead.status in OPEN_LEAD_STATUSES:
            self.counts[rep_id] += 1

    def save(self) -> None:
        """Write the round-robin positions the decisions moved (one statement)."""
        RoundRobinCursor.objects.bulk_create(
            [RoundRobinCursor(territory_id=tid, last_user_id=self.cursors[tid])
             for tid in sorted(self.moved_cursors)],
            update_conflicts=True, unique_fields=["territory"], update_fields=["last_user"])
        self.moved_cursors.clear()


def covering_territories(leads: list[Lead], rmap: RoutingMap) -> list[tuple[int | None, str]]:
    """For each lead, the territory the alignment's rules give it and why (or why none),
    matched for all the leads in one pass of the rule index."""
    facts = [account_facts((i, lead.country, lead.state, "", lead.postal_code, lead.industry,
                            "", lead.employees, None)) for i, lead in enumerate(leads)]
    out = territory_reads.compiled_index(rmap.alignment).assign(facts)
    claims: dict[int, dict[str, tuple[int, str]]] = {}
    for i, tid, kind, reason in out.assignments:
        claims.setdefault(i, {})[kind] = (tid, reason)
    ties: dict[int, tuple[int, ...]] = {}
    for i, _, territories in out.conflicts:
        ties.setdefault(i, territories)
    result: list[tuple[int | None, str]] = []
    for i, lead in enumerate(leads):
        by_kind = claims.get(i, {})
        preferred = next((k for k in TYPE_PREFERENCE if k in by_kind), None)
        if preferred is not None:
            result.append(by_kind[preferred])
        elif i in ties:
            names = sorted(rmap.territories[t][0] for t in ties[i])
            result.append((None, "Territories tie for this lead: " + ", ".join(names)))
        else:
            place = " ".join(p for p in (lead.country, lead.state, lead.postal_code) if p)
            result.append((None, f"No territory of {rmap.alignment.name} covers this lead "
                                 f"(address: {place or 'none'})."))
    return result


def decide(lead: Lead, policy: MarketingPolicy) -> RoutingDecision:
    """Route one lead (see Router) and move its territory's round-robin position."""
    router = Router(policy)
    decision = router.decide_all([lead])[0]
    router.save()
    return decision


def routed_state(decision: RoutingDecision, now: datetime, policy: MarketingPolicy) -> dict:
    """The handoff fields a decision sets."""
    if decision.queued:
        return {"territory_id": decision.territory_id, "queued": True,
                "queue_reason": decision.message[:300]}
    return {"territory_id": decision.territory_id, "queued": False, "queue_reason": "",
            "routed_at": now, "sla_due_at": now + timedelta(hours=policy.sla_hours),
            "first_touch_at": None, "escalated_at": None}


def decision_event_fields(decision: RoutingDecision) -> dict:
    """The lead event that records a decision, as field values (the capture intake
    writes them without building model instances)."""
    return {"kind": LeadEvent.Kind.QUEUED if decision.queued else LeadEvent.Kind.ROUTED,
            "territory_id": decision.territory_id, "assigned_to_id": decision.rep_id,
            "message": decision.message[:500]}


def decision_event(lead: Lead, decision: RoutingDecision, now: datetime, by) -> LeadEvent:
    return LeadEvent(lead=lead, at=now, by=by, **decision_event_fields(decision))


@transaction.atomic
def route_committed_lead(lead_id: int, *, by=None, route: bool = False) -> None:
    """Route a new lead nobody was named to own, once it is committed (a routing failure
    never undoes it; it then waits for `salesplan marketing route` like an imported one)."""
    if not route:
        return
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is not None:
        route_lead(lead, by=by)


@transaction.atomic  # round-robin cursors are locked for the decision and its record
def route_lead(lead: Lead, *, by=None, policy: MarketingPolicy | None = None,
               now: datetime | None = None) -> RoutingDecision:
    """Route one lead and record the decision: its owner, its handoff's territory and
    SLA clock, or its place in the queue."""
    policy = policy or MarketingPolicy.current()
    now = now or timezone.now()
    handoff, _ = LeadHandoff.objects.get_or_create(
        lead=lead, defaults={"stage_changed_at": now, "source": lead.source})
    decision = decide(lead, policy)
    if decision.rep_id is None:
        for key, value in routed_state(decision, now, policy).items():
            setattr(handoff, key, value)
        handoff.save(update_fields=["queued", "queue_reason", "territory"])
        decision_event(lead, decision, now, by).save()
        return decision
    assign(lead, handoff, decision.rep_id, territory_id=decision.territory_id, by=by, now=now,
           policy=policy, message=decision.message)
    return decision


def assign(lead: Lead, handoff: LeadHandoff, rep_id: int, *, territory_id: int | None, by,
           now: datetime, policy: MarketingPolicy, message: str) -> None:
    """Give the lead to the rep and start its first-touch clock."""
    if lead.owner_id != rep_id:
        old_owner = lead.owner
        Lead.objects.filter(pk=lead.pk).update(owner_id=rep_id, version=lead.version + 1,
                                               updated_at=now)
        lead.owner_id, lead.version = rep_id, lead.version + 1
        record_changes(lead, {"owner": (old_owner, lead.owner)}, by)
    decision = RoutingDecision(territory_id, rep_id, message)
    for key, value in routed_state(decision, now, policy).items():
        setattr(handoff, key, value)
    if handoff.stage not in (Stage.MQL, Stage.SAL, Stage.SQL):
        handoff.stage, handoff.stage_changed_at, handoff.reason = Stage.MQL, now, ""
    handoff.save()
    decision_event(lead, decision, now, by).save()
    notices.lead_routed(lead, handoff)


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

