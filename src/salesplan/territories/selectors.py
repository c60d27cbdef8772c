"""Reads about territories: who covers what, the violations list, what-if comparisons."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Q

from salesplan.core.clock import company_today
from salesplan.customers.models import Account
from salesplan.org.models import Role
from salesplan.pipeline.models import Opportunity, StageKind

from .models import (
    AccountTerritory,
    Alignment,
    BoundaryException,
    Territory,
    TerritoryMember,
    TerritoryType,
)

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


def scope_version() -> int:
    return cache.get_or_set("territory-scope-version", 1, None) or 1


def bump_scope_version() -> None:
    """Forget cached territory scopes (membership, hierarchy or activation changed)."""
    try:
        cache.incr("territory-scope-version")
    except ValueError:
        cache.set("territory-scope-version", 2, None)


def member_territory_ids(user) -> list[int]:
    """Active-alignment territories the user currently works, with those below them.
    Cached briefly: every visibility check asks."""
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


def territory_account_scope(user):
    """Visibility provider: the ids of the accounts assigned to the user's territories."""
    if getattr(user, "role", None) in (Role.MARKETING,) or user.visible_owner_ids is None:
        return None
    ids = member_territory_ids(user)
    if not ids:
        return None
    return AccountTerritory.objects.filter(territory_id__in=ids).values("account_id")


def has_approved_exception(user_id: int, account_id: int, on: date | None = None) -> bool:
    return BoundaryException.objects.filter(
        rep_id=user_id, account_id=account_id, status=BoundaryException.Status.APPROVED,
        until__gte=on or company_today()).exists()


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


def current_memberships(user):
    """The user's territory seats that have not ended (today's or later)."""
    return TerritoryMember.objects.filter(user=user).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=company_today()))
