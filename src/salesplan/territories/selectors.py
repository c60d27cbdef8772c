"""Reads about territories: who covers what, the violations list, what-if comparisons,
and what the pages and the API show (each limited to what the user may see).

With `territories.services` this is the app's public interface: other apps read
territories through these functions, not through its models.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.db.models.functions import Mod

from salesplan.core.clock import company_date, company_today
from salesplan.core.errors import NotFound
from salesplan.core.listing import capped_count
from salesplan.core.registry import ALL, allowed, require, scope_for
from salesplan.core.request_memo import remembered
from salesplan.core.shared_versions import current_version, new_version
from salesplan.customers.models import Account
from salesplan.org.models import Role, User
from salesplan.pipeline.models import Opportunity, StageKind

from .assignment import compiled_index, rule_q
from .models import (
    AccountTerritory,
    Alignment,
    BoundaryException,
    BoundaryRule,
    MemberRole,
    NamedAccount,
    OptimisationRun,
    Realignment,
    Territory,
    TerritoryGoal,
    TerritoryMember,
    TerritoryType,
)

__all__ = [  # what other apps use: the reads below, and the names they need to read them
    "MemberRole", "TerritoryType", "account_territories", "accounts_in", "active_alignment",
    "can_open_territory",
    "compiled_index", "coverage", "current_members", "current_owner_pairs", "descendants",
    "goal_totals", "overlay_memberships", "subtree_ids", "territories_by_id", "territories_of",
    "territory", "territory_name_of_accounts", "territory_names", "territory_pairs",
    "territory_parents", "top_territories",
    "child_territories", "violations", "alignment_history", "alignment_on",
]

VIEW_ROLES = (Role.ADMIN, Role.MANAGER, Role.REP, Role.EXECUTIVE)


def active_alignment() -> Alignment | None:
    return Alignment.objects.filter(status=Alignment.Status.ACTIVE).first()


def current_members(on: date | None = None):
    on = on or company_today()
    return TerritoryMember.objects.filter(
        Q(start_date__lte=on), Q(end_date__isnull=True) | Q(end_date__gte=on))


def can_open_territory(user, territory: Territory) -> bool:
    """Reps open the pages of their own territories (and those below them) only: a
    neighbour's members, goal, bookings and potential are not theirs to see. Admins,
    managers and executives plan across the whole map."""
    if user.is_admin or user.role != Role.REP:
        return True
    own = current_members().filter(user=user, territory__alignment_id=territory.alignment_id
                                   ).values_list("territory_id", flat=True)
    return territory.pk in descendants(list(own), territory.alignment_id)


def descendants(territory_ids, alignment_id: int) -> set[int]:
    """The territories and every territory below them."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for tid, parent_id in Territory.objects.filter(alignment_id=alignment_id).values_list(
            "id", "parent_id"):
        children[parent_id].append(tid)
    result, stack = set(), list(territory_ids)
    while stack:
        current = stack.pop()
        if current not in result:
            result.add(current)
            stack.extend(children[current])
    return result


def scope_version() -> str:
    return current_version("territory-scope")


def bump_scope_version() -> None:
    """Forget cached territory scopes (membership, hierarchy or activation changed), in
    every server process."""
    new_version("territory-scope")


def member_territory_ids(user) -> list[int]:
    """Active-alignment territories the user currently works, with those below them.
    Cached briefly, and read once per page: every visibility check asks."""
    return list(remembered(("territory-scope", user.pk),
                           lambda: _member_territory_ids(user)))


def _member_territory_ids(user) -> list[int]:
    key = f"territory-scope:{user.pk}:{scope_version()}:{company_today().isoformat()}"
    ids = cache.get(key)
    if ids is None:
        alignment = active_alignment()
        ids = []
        if alignment is not None:
            direct = current_members().filter(
                user_id=user.pk, territory__alignment=alignment).values_list(
                "territory_id", flat=True)
            ids = sorted(descendants(direct, alignment.pk)) if direct else []
        cache.set(key, ids, 300)
    return ids


# Up to this many territory accounts are named to the database one by one (a rep's
# territory); more stay a subquery: compiling and planning thousands of ids (a manager's
# territories, 5,000 accounts at 100,000) cost the web process more than it saved.
LISTED_ACCOUNTS = 1_000


def territory_account_scope(user):
    """Visibility provider: the ids of the accounts assigned to the user's territories.

    A list when there are few (read once per page), else a query. Given a subquery,
    PostgreSQL cannot tell how many deals it names: "owned by the rep, or on one of
    these accounts" became a read of the whole deals table (0.9 s for a rep's deal list
    at 500,000 deals), where with the ids listed it reads the owner and account indexes
    (0.1 s)."""
    if getattr(user, "role", None) in (Role.MARKETING,) or user.visible_owner_ids is None:
        return None
    ids = member_territory_ids(user)
    if not ids:
        return None
    query = AccountTerritory.objects.filter(territory_id__in=ids).values("account_id")
    listed = remembered(("territory-accounts", tuple(ids)), lambda: list(
        query.order_by("account_id").values_list("account_id", flat=True)[
            :LISTED_ACCOUNTS + 1]))
    return listed if len(listed) <= LISTED_ACCOUNTS else query


def has_approved_exception(user_id: int, account_id: int, on: date | None = None) -> bool:
    return BoundaryException.objects.filter(
        rep_id=user_id, account_id=account_id, status=BoundaryException.Status.APPROVED,
        until__gte=on or company_today()).exists()


def alignment_history() -> list[tuple[date, int]]:
    """(first day, alignment) of every activation, oldest first (company dates)."""
    return [(company_date(at), alignment_id) for alignment_id, at in
            Realignment.objects.order_by("changed_at", "id")
            .values_list("alignment_id", "changed_at")]


def alignment_on(day: date, history: list[tuple[date, int]]) -> int | None:
    """The alignment in effect on `day`: the last one activated on or before it (the
    active one for a day before any recorded activation)."""
    chosen = None
    for first, alignment_id in history:
        if first <= day:
            chosen = alignment_id
    if chosen is None:
        active = active_alignment()
        return active.pk if active else None
    return chosen


def territory_pairs(account_ids: list[int], alignment_id: int) -> list[tuple[int, int]]:
    """(account, territory) of these accounts' assignments in the alignment."""
    return list(AccountTerritory.objects.filter(alignment_id=alignment_id,
                                                account_id__in=account_ids)
                .values_list("account_id", "territory_id"))


def overlay_memberships(territory_ids: list[int], first: date, last: date
                        ) -> list[tuple[int, int, date, date | None]]:
    """(territory, user, start, end) of the overlay memberships of these territories that
    cover any day from `first` to `last` (an open end runs on)."""
    return list(TerritoryMember.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=first), role=MemberRole.OVERLAY,
        territory_id__in=territory_ids, start_date__lte=last)
        .values_list("territory_id", "user_id", "start_date", "end_date"))


def account_territories(account_id: int, alignment: Alignment | None = None):
    alignment = alignment or active_alignment()
    if alignment is None:
        return AccountTerritory.objects.none()
    return AccountTerritory.objects.filter(alignment=alignment, account_id=account_id
                                           ).select_related("territory")


# --- violations ----------------------------------------------------------------------


@dataclass
class Violation:
    """A record whose owner does not work the account's territory."""

    kind: str  # "account" or "opportunity"
    record_id: int
    name: str
    account_id: int
    owner_id: int
    territory_id: int
    territory_owner_id: int | None

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def coverage(alignment: Alignment) -> tuple[dict[int, set[int]], dict[int, int]]:
    """user id -> territories they cover (with those below), and territory -> owner id."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for tid, parent_id in Territory.objects.filter(alignment=alignment).values_list(
            "id", "parent_id"):
        children[parent_id].append(tid)
    covered: dict[int, set[int]] = defaultdict(set)
    owners: dict[int, int] = {}
    for tid, user_id, role in current_members().filter(territory__alignment=alignment
                                                       ).values_list("territory_id", "user_id",
                                                                     "role"):
        stack = [tid]
        while stack:
            current = stack.pop()
            if current not in covered[user_id]:
                covered[user_id].add(current)
                stack.extend(children[current])
        if role == "owner":
            owners.setdefault(tid, user_id)
    return covered, owners


TYPE_ORDER: list[str] = [TerritoryType.GEOGRAPHIC, TerritoryType.NAMED_ACCOUNT,
                         TerritoryType.VERTICAL, TerritoryType.OVERLAY]


VIOLATION_CHUNK = 5_000


def violations(user, *, limit: int = 500, account_ids=None) -> list[Violation]:
    """Accounts and open opportunities (visible to the user) whose owner is not a
    member of any of the account's territories and holds no approved exception.

    Records are read in id order a chunk at a time, each chunk with its accounts'
    territories, until `limit` are found: the first page of a million-account list
    costs a few chunks, not the whole table."""
    alignment = active_alignment()
    if alignment is None:
        return []
    covered, owners = coverage(alignment)
    exceptions = set(BoundaryException.objects.filter(
        status=BoundaryException.Status.APPROVED, until__gte=company_today()
    ).values_list("rep_id", "account_id"))

    def territories_of(ids) -> dict[int, list[tuple[int, str]]]:
        found: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for account_id, tid, kind in AccountTerritory.objects.filter(
                alignment=alignment, account_id__in=ids).values_list(
                "account_id", "territory_id", "type"):
            found[account_id].append((tid, kind))
        return found

    def breaks(territories, owner_id: int, account_id: int) -> tuple[int, int | None] | None:
        mine = territories.get(account_id)
        if not mine or (owner_id, account_id) in exceptions:
            return None
        user_covers = covered.get(owner_id, set())
        if any(tid in user_covers for tid, _ in mine):
            return None
        primary = min(mine, key=lambda t: TYPE_ORDER.index(t[1]))[0]
        return primary, owners.get(primary)

    found: list[Violation] = []
    accounts = Account.objects.visible_to(user)
    opportunities = Opportunity.objects.visible_to(user).filter(status=StageKind.OPEN)
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
        opportunities = opportunities.filter(account_id__in=account_ids)
    for chunk in _chunks_by_pk(accounts.values_list("pk", "name", "owner_id")):
        territories = territories_of([row[0] for row in chunk])
        for pk, name, owner_id in chunk:
            hit = breaks(territories, owner_id, pk)
            if hit:
                found.append(Violation("account", pk, name, pk, owner_id, hit[0], hit[1]))
                if len(found) >= limit:
                    return found
    for chunk in _chunks_by_pk(opportunities.values_list("pk", "name", "account_id",
                                                         "owner_id")):
        territories = territories_of({row[2] for row in chunk})
        for pk, name, account_id, owner_id in chunk:
            hit = breaks(territories, owner_id, account_id)
            if hit:
                found.append(Violation("opportunity", pk, name, account_id, owner_id, *hit))
                if len(found) >= limit:
                    return found
    return found


def _chunks_by_pk(rows):
    """Rows (pk first) in pk order, VIOLATION_CHUNK at a time, by keyset."""
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last).order_by("pk")[:VIOLATION_CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1][0]


# --- what-if -------------------------------------------------------------------------


def what_if(draft: Alignment, base: Alignment | None = None, *, sample_size: int = 200):
    """Accounts that move between territories if the draft replaced `base` (by default the
    active alignment), with their potential and open pipeline, and the before/after
    balance of every territory. Territories are matched across alignments by name."""
    from .whatif import WhatIf, compare

    base = base or active_alignment()
    if base is None:
        return WhatIf()
    for alignment in (draft, base):
        alignment.refresh_from_db(fields=["rules_version", "assigned_version"])
        if not alignment.results_current:
            raise ValidationError({"alignment": f"The assignment of {alignment.name} is out of "
                                                "date; run it before comparing."})
    return compare(draft, base, sample_size=sample_size)


def pending_exceptions(user, *, limit: int = 10) -> tuple[list[BoundaryException], int]:
    """Boundary exceptions still waiting for a decision, of the reps whose records the
    user sees (everyone's for admins and executives): the oldest `limit` and how many."""
    rows = BoundaryException.objects.filter(status=BoundaryException.Status.REQUESTED)
    ids = user.visible_owner_ids
    if ids is not None:
        rows = rows.filter(rep_id__in=ids)
    oldest = list(rows.select_related("rep", "account").order_by("created_at", "id")[:limit])
    return oldest, rows.count()


# --- what the pages and the API show ------------------------------------------------------

RESOURCE_OF = {Territory: "territory", BoundaryException: "boundary_exception"}


def visible_record(model, pk: int, user, related: tuple[str, ...] = ()):
    """A record of the territory map if the user may view it (the registry's view entry
    for its kind), else None: missing and hidden look alike."""
    require(user, "alignment", "view")
    rows = model.objects.select_related(*related) if related else model.objects.all()
    found = rows.filter(pk=pk).first()
    resource = RESOURCE_OF.get(model)
    if found is None or (resource and not allowed(user, resource, "view", found)):
        return None
    return found


def alignments(user) -> list[Alignment]:
    require(user, "alignment", "view")
    return list(Alignment.objects.all())


def recent_realignments(user, limit: int = 10) -> list[Realignment]:
    require(user, "alignment", "view")
    return list(Realignment.objects.select_related("alignment", "previous",
                                                   "changed_by")[:limit])


def tree(alignment: Alignment) -> list[dict]:
    """Nested nodes {territory, count, children} for the whole alignment; a node counts
    the accounts of its territory and of every territory below it."""
    counts = dict(AccountTerritory.objects.filter(alignment=alignment).order_by()
                  .values("territory_id").annotate(n=Count("id")).values_list("territory_id", "n"))
    children: dict[int | None, list[Territory]] = defaultdict(list)
    for territory in Territory.objects.filter(alignment=alignment).order_by("name"):
        children[territory.parent_id].append(territory)

    def nodes(parent_id, depth=0):
        if depth > 50:  # the services refuse cycles; this only guards the page
            return []
        found = []
        for t in children[parent_id]:
            below = nodes(t.pk, depth + 1)
            total = counts.get(t.pk, 0) + sum(node["count"] for node in below)
            found.append({"territory": t, "count": total, "children": below})
        return found
    return nodes(None)


def map_points(user, alignment: Alignment, territory_ids=None, *,
               most: int) -> tuple[list[tuple], int, int]:
    """(latitude, longitude, territory id, territory name) of the visible accounts with
    coordinates, in the given territories or else the geographic ones; at most `most`,
    sampled evenly by id. Returns the points, how many there are in all, and the step."""
    rows = AccountTerritory.objects.filter(
        alignment=alignment, account__in=Account.objects.visible_to(user),
        account__latitude__isnull=False, account__longitude__isnull=False)
    if territory_ids is not None:
        rows = rows.filter(territory_id__in=territory_ids)
    else:
        rows = rows.filter(type=TerritoryType.GEOGRAPHIC)
    total = rows.count()
    step = max(1, -(-total // most))
    if step > 1:
        rows = rows.annotate(bucket=Mod("account_id", step)).filter(bucket=0)
    points = list(rows.order_by("account_id").values_list(
        "account__latitude", "account__longitude", "territory_id", "territory__name")[:most])
    return points, total, step


def assigned_accounts(user, territory_ids):
    """The assignments of the accounts the user may see in these territories."""
    return AccountTerritory.objects.filter(
        territory_id__in=territory_ids, account__in=Account.objects.visible_to(user)
    ).select_related("account", "account__owner", "territory")


def ancestors(territory: Territory) -> list[Territory]:
    """The territories above this one, the top first."""
    chain, current, seen = [], territory.parent, set()
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        chain.append(current)
        current = current.parent
    return list(reversed(chain))


def children(territory: Territory):
    return territory.children.order_by("name")


def rules(territory: Territory) -> list:
    """The territory's rules in the order they are tried."""
    return list(territory.rules.all())


def visible_territories(user):
    """The territories whose pages the user may open (a rep: their own, and below)."""
    require(user, "territory", "view")
    if scope_for(user, "territory", "view") == ALL:
        return Territory.objects.all()
    own: dict[int, list[int]] = defaultdict(list)
    for territory_id, alignment_id in current_members().filter(user=user).values_list(
            "territory_id", "territory__alignment_id"):
        own[alignment_id].append(territory_id)
    ids: set[int] = set()
    for alignment_id, territory_ids in own.items():
        ids |= descendants(territory_ids, alignment_id)
    return Territory.objects.filter(pk__in=ids)


def get_territory(user, pk: int) -> Territory:
    """The territory if the user may open it; NotFound alike for missing and hidden."""
    found = visible_record(Territory, pk, user)
    if found is None:
        raise NotFound(f"No territory with id {pk}.")
    return found


def rule_rows(user):
    """The boundary rules of the territories the user may open, in the order tried."""
    return BoundaryRule.objects.filter(territory__in=visible_territories(user))


def member_rows(user):
    """Memberships (current and ended) of the territories the user may open."""
    return TerritoryMember.objects.filter(
        territory__in=visible_territories(user)).select_related("user").order_by(
        "-end_date", "role", "start_date", "id")


def named_account_rows(user):
    """Named accounts (ids only) of the territories the user may open: whoever plans a
    territory sees what is named into it (the pages show names of accounts they see)."""
    return NamedAccount.objects.filter(territory__in=visible_territories(user))


def members(territory: Territory):
    """Everyone who works or worked the territory, current and ended."""
    return TerritoryMember.objects.filter(territory=territory).select_related("user").order_by(
        "-end_date", "role", "start_date", "id")


def current_member_ids(territory: Territory) -> set[int]:
    return set(current_members().filter(territory=territory).values_list("pk", flat=True))


def named_accounts(user, territory: Territory, limit: int = 100) -> list[NamedAccount]:
    """The territory's named accounts (in or kept out) that the user may see."""
    return list(territory.named_accounts.select_related("account").filter(
        account__in=Account.objects.visible_to(user))[:limit])


def goals_with_attainment(territory: Territory, *, newest_first: bool = False,
                          limit: int | None = None) -> list[TerritoryGoal]:
    """The territory's goals and its children's, each with `attainment` (one walk of
    the map for the whole list)."""
    from .goals import attainments

    order = ("-period_start" if newest_first else "period_start", "territory__name")
    rows = TerritoryGoal.objects.filter(
        territory__in=[territory, *territory.children.all()]).select_related(
        "territory").order_by(*order)
    found = list(rows[:limit] if limit else rows)
    for goal, reached in zip(found, attainments(found), strict=True):
        goal.attainment = reached  # type: ignore[attr-defined]
    return found


def rule_coverage(combine: str, conditions: list[dict]) -> tuple[int, bool]:
    """How many accounts a rule would cover (capped, for the rule editor's live count)."""
    return capped_count(Account.objects.filter(rule_q(combine, conditions)))


def visible_account(user, pk) -> Account | None:
    return Account.objects.visible_to(user).filter(pk=pk).first()


def exceptions(user, status: str | None = None):
    """Boundary exceptions: reps see their own, managers their teams', admins all."""
    require(user, "alignment", "view")
    rows = BoundaryException.objects.select_related("rep", "account", "approved_by")
    ids = user.visible_owner_ids
    if ids is not None:
        rows = rows.filter(rep_id__in=ids)
    if status in BoundaryException.Status.values:
        rows = rows.filter(status=status)
    return rows


def violation_rows(found: list[Violation]) -> list[dict]:
    """Violations as dicts with the owner, the territory's owner and its name."""
    users = User.objects.in_bulk({v.owner_id for v in found}
                                 | {v.territory_owner_id for v in found if v.territory_owner_id})
    names = dict(Territory.objects.filter(pk__in={v.territory_id for v in found})
                 .values_list("pk", "name"))
    return [{**v.as_dict(), "owner": users.get(v.owner_id),
             "territory_owner": users.get(v.territory_owner_id),
             "territory_name": names.get(v.territory_id, "")} for v in found]


def account_count_in(alignment: Alignment, territory_ids) -> int:
    """How many accounts these territories of the alignment hold (each once)."""
    return (AccountTerritory.objects.filter(alignment=alignment, territory_id__in=list(
        territory_ids)).values("account_id").distinct().count())


def optimisation_runs(alignment: Alignment, limit: int = 10) -> list[OptimisationRun]:
    return list(OptimisationRun.objects.filter(source=alignment)
                .select_related("job", "draft")[:limit])


# --- for other apps: plain reads of the map (the callers limit them to their user) -------


def territory(pk: int) -> Territory | None:
    return Territory.objects.filter(pk=pk).first()


def territories_of(alignment_id: int | None):
    """An alignment's territories by name (none without an alignment)."""
    if alignment_id is None:
        return Territory.objects.none()
    return Territory.objects.filter(alignment_id=alignment_id).order_by("name")


def territories_by_id(ids) -> dict[int, Territory]:
    return Territory.objects.in_bulk(set(ids))


def territory_names() -> dict[int, str]:
    """Every territory's name by id (all alignments)."""
    return dict(Territory.objects.values_list("id", "name"))


def territory_parents(alignment: Alignment) -> dict[int, tuple[str, int | None]]:
    """Each territory of the alignment: id -> (name, parent id)."""
    return {tid: (name, parent) for tid, name, parent in Territory.objects.filter(
        alignment=alignment).values_list("id", "name", "parent_id")}


def top_territories(alignment: Alignment):
    return alignment.territories.filter(parent=None)


def child_territories(territory_id: int | None):
    return Territory.objects.filter(parent_id=territory_id)


def subtree_ids(territory_id: int) -> list[int]:
    """The territory and every territory below it."""
    alignment_id = Territory.objects.values_list("alignment_id", flat=True).get(pk=territory_id)
    return sorted(descendants([territory_id], alignment_id))


def territory_name_of_accounts(account_ids, alignment: Alignment | None = None
                               ) -> dict[int, str]:
    """Each account's territory in the alignment (the active one by default), by name."""
    alignment = alignment or active_alignment()
    if alignment is None:
        return {}
    return dict(AccountTerritory.objects.filter(alignment=alignment, account_id__in=account_ids)
                .order_by("account_id", "territory_id").values_list("account_id",
                                                                    "territory__name"))


def accounts_in(territory_ids):
    """The ids of the accounts assigned to these territories (a subquery)."""
    return AccountTerritory.objects.filter(territory_id__in=territory_ids).values("account_id")


def current_owner_pairs(members):
    """(territory id, user id) of the active owners among current memberships `members`."""
    return (members.filter(role=MemberRole.OWNER, user__is_active=True)
            .order_by("territory_id", "user_id").values_list("territory_id", "user_id")
            .distinct())


def goal_totals(territory_ids, *, currency: str, start: date, end: date) -> dict[int, Decimal]:
    """Each territory's goals in a currency overlapping the period, summed."""
    return dict(TerritoryGoal.objects.filter(
        territory_id__in=territory_ids, currency=currency, period_start__lte=end,
        period_end__gte=start).values("territory_id").annotate(s=Sum("amount"))
        .values_list("territory_id", "s"))


def current_memberships(user):
    """The user's territory seats that have not ended (today's or later)."""
    return TerritoryMember.objects.filter(user=user).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=company_today()))
