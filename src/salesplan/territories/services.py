"""Every write to territories: alignments, the hierarchy, boundary rules, members,
assignment runs, activation, boundary exceptions and violation fixes.

Admins and sales managers manage territories; reps and executives read them. A rule or
territory change re-assigns at once only the accounts it could affect; a full run is a
background job.
"""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from salesplan.core import audit
from salesplan.core.clock import company_today
from salesplan.core.jobs import start_job
from salesplan.core.models import AuditEntry, BackgroundJob
from salesplan.core.records import claim_version
from salesplan.core.registry import allowed, require
from salesplan.customers.models import Account
from salesplan.engines.territory_rules import rules_may_overlap, validate_rule
from salesplan.inbox import services as inbox
from salesplan.inbox.models import Kind
from salesplan.org.models import Role, User
from salesplan.org.selectors import manager_chain
from salesplan.pipeline.models import Opportunity, StageKind

from . import assignment
from .models import (
    AccountTerritory,
    Alignment,
    BoundaryException,
    BoundaryRule,
    MemberRole,
    NamedAccount,
    Realignment,
    Territory,
    TerritoryMember,
    TerritoryType,
    new_token,
)
from .selectors import (
    active_alignment,
    bump_scope_version,
    has_approved_exception,
    member_territory_ids,
    violations,
    what_if,
)

# Account fields the rules read: editing one of them re-assigns the account.
RULE_FIELDS = {"country", "state", "county", "postal_code", "industry", "tier", "employees",
               "annual_revenue"}


# --- permissions ----------------------------------------------------------------------


def can_manage(user) -> bool:
    """Whether the user changes any part of the territory map (to show the controls);
    which part is the registry's "territory" entries' to say."""
    return allowed(user, "territory", "change")


def can_view(user) -> bool:
    return allowed(user, "alignment", "view")


def require_manage(user) -> None:
    require(user, "territory", "change")


def require_view(user) -> None:
    require(user, "alignment", "view")


def _require_editable(alignment: Alignment) -> None:
    if not alignment.is_editable:
        raise ValidationError({"alignment": f"{alignment.name} is archived and can no longer "
                                            "be changed; copy it into a new draft instead."})


def _rules_turn(alignment: Alignment) -> None:
    """Rule changes in one alignment take turns (requests on other threads or server
    processes wait here): the next position and the overlap check then read the rules
    as the change before left them."""
    Alignment.objects.select_for_update().filter(pk=alignment.pk).exists()


def _rules_changed(alignment: Alignment, affected: Q | None) -> None:
    """Note that the rules changed; if the alignment's results were current, re-assign
    only the accounts `affected` could cover (None: no account) so they stay current."""
    alignment.refresh_from_db()
    was_current = alignment.results_current
    Alignment.objects.filter(pk=alignment.pk).update(rules_version=F("rules_version") + 1,
                                                     rules_token=new_token())
    alignment.refresh_from_db()
    if was_current:
        if affected is not None:
            assignment.reassign(alignment, affected)
        Alignment.objects.filter(pk=alignment.pk).update(
            assigned_version=alignment.rules_version, assigned_at=timezone.now(),
            conflict_count=alignment.conflicts.count())
        alignment.refresh_from_db()
    bump_scope_version()


def _territory_q(territory: Territory) -> Q:
    """Every account a territory claims now or could claim under its rules."""
    q = Q(pk__in=AccountTerritory.objects.filter(territory=territory).values("account_id"))
    q |= Q(pk__in=NamedAccount.objects.filter(territory=territory).values("account_id"))
    for rule in territory.rules.all():
        q |= assignment.rule_q(rule.combine, rule.conditions)
    return q


# --- alignments -----------------------------------------------------------------------


@transaction.atomic
def create_alignment(*, by, name: str, description: str = "",
                     copy_from: Alignment | None = None) -> Alignment:
    """A new draft, empty or a copy of another alignment (hierarchy, rules, named
    accounts and members) to realign from."""
    require(by, "alignment", "create")
    if not (name or "").strip():
        raise ValidationError({"name": "Give the alignment a name."})
    alignment = Alignment.objects.create(name=name.strip(), description=description,
                                         based_on=copy_from, created_by=by)
    if copy_from is not None:
        _copy_territories(copy_from, alignment)
    audit.record_created(alignment, by)
    return alignment


def _copy_territories(source: Alignment, target: Alignment) -> None:
    mapping: dict[int, Territory] = {}
    pending = list(source.territories.order_by("id"))
    while pending:  # parents before children, whatever the ids
        remaining = []
        for old in pending:
            if old.parent_id and old.parent_id not in mapping:
                remaining.append(old)
                continue
            mapping[old.pk] = Territory.objects.create(
                alignment=target, parent=mapping.get(old.parent_id or 0), name=old.name,
                type=old.type, priority=old.priority, description=old.description,
                area_sq_km=old.area_sq_km)
        if len(remaining) == len(pending):
            break
        pending = remaining
    BoundaryRule.objects.bulk_create(
        BoundaryRule(territory=mapping[r.territory_id], position=r.position, combine=r.combine,
                     conditions=r.conditions)
        for r in BoundaryRule.objects.filter(territory__alignment=source))
    NamedAccount.objects.bulk_create(
        NamedAccount(territory=mapping[n.territory_id], account_id=n.account_id, include=n.include)
        for n in NamedAccount.objects.filter(territory__alignment=source))
    TerritoryMember.objects.bulk_create(
        TerritoryMember(territory=mapping[m.territory_id], user_id=m.user_id, role=m.role,
                        start_date=m.start_date, end_date=m.end_date)
        for m in TerritoryMember.objects.filter(territory__alignment=source))


def update_alignment(alignment: Alignment, *, by, data: dict,
                     expected_version: int | None = None) -> Alignment:
    require(by, "alignment", "change", alignment)
    claim_version(alignment, expected_version)
    unknown = set(data) - {"name", "description"}
    if unknown:
        raise ValidationError({f: "This field cannot be changed here." for f in unknown})
    if "name" in data and not (data["name"] or "").strip():
        raise ValidationError({"name": "Give the alignment a name."})
    changes = {k: (getattr(alignment, k), v) for k, v in data.items() if getattr(alignment, k) != v}
    for key, value in data.items():
        setattr(alignment, key, value)
    alignment.save()
    audit.record_changes(alignment, changes, by)
    return alignment


def start_assignment(alignment: Alignment, *, by) -> BackgroundJob:
    """Assign every account under the alignment's rules, as a background job."""
    from .tasks import run_assignment

    require(by, "alignment", "assign", alignment)
    _require_editable(alignment)
    return start_job("territory_assignment", by=by, task=run_assignment,
                     params={"alignment_id": alignment.pk})


@transaction.atomic
def activate_alignment(alignment: Alignment, *, by,
                       ownership: str = Realignment.Ownership.STAY,
                       expected_version: int | None = None) -> Realignment:
    """Make a draft the active alignment in one recorded step; the old one is archived.

    ownership "stay": owners keep their accounts and open deals (the violations list
    shows them until they close); "move": accounts whose territory changes, and their
    open opportunities, go to the owner of the new territory."""
    require(by, "alignment", "activate", alignment)
    if alignment.status != Alignment.Status.DRAFT:
        raise ValidationError({"alignment": "Only a draft can be activated."})
    if ownership not in Realignment.Ownership.values:
        raise ValidationError({"ownership": "Choose 'stay' or 'move'."})
    alignment = Alignment.objects.select_for_update().get(pk=alignment.pk)
    claim_version(alignment, expected_version)
    if not alignment.results_current:
        assignment.run_full_assignment(alignment)
        alignment.refresh_from_db()
    previous = active_alignment()
    comparison = what_if(alignment, previous, sample_size=0) if previous else None
    moved = comparison.moved_accounts if comparison else 0
    if previous is not None:
        Alignment.objects.filter(pk=previous.pk).update(status=Alignment.Status.ARCHIVED)
        audit.record_changes(previous, {"status": (previous.status, "archived")}, by)
    alignment.status = Alignment.Status.ACTIVE
    alignment.activated_at = timezone.now()
    alignment.activated_by = by
    alignment.save(update_fields=["status", "activated_at", "activated_by", "updated_at"])
    audit.record_changes(alignment, {"status": ("draft", "active")}, by)
    owners_changed = 0
    if ownership == Realignment.Ownership.MOVE and previous is not None:
        owners_changed = _move_ownership(alignment, previous, by)
    bump_scope_version()
    summary = {"moves": [{**m, "potential": str(m["potential"]),
                          "open_pipeline": str(m["open_pipeline"] or 0),
                          "bookings": str(m["bookings"] or 0)}
                         for m in (comparison.moves[:200] if comparison else [])]}
    return Realignment.objects.create(alignment=alignment, previous=previous, ownership=ownership,
                                      changed_by=by, accounts_moved=moved,
                                      owners_changed=owners_changed, summary=summary)


def ownership_changes(alignment: Alignment, previous: Alignment) -> dict[int, list[int]]:
    """New owner id -> the accounts that move to them if `alignment` replaced `previous`
    with ownership "move" (an account whose territory changes goes to the new
    territory's owner unless its owner already covers that territory)."""
    from .selectors import coverage

    covered, owners = coverage(alignment)
    before = dict(AccountTerritory.objects.filter(
        alignment=previous, type=TerritoryType.GEOGRAPHIC).values_list("account_id",
                                                                       "territory__name"))
    changes: dict[int, list[int]] = {}
    rows = AccountTerritory.objects.filter(alignment=alignment, type=TerritoryType.GEOGRAPHIC
                                           ).values_list("account_id", "territory_id",
                                                         "territory__name", "account__owner_id")
    for account_id, tid, name, owner_id in rows.iterator(chunk_size=20000):
        new_owner = owners.get(tid)
        if (before.get(account_id) != name and new_owner and new_owner != owner_id
                and tid not in covered.get(owner_id, ())):
            changes.setdefault(new_owner, []).append(account_id)
    return changes


def _move_ownership(alignment: Alignment, previous: Alignment, by) -> int:
    """Give moved accounts and their open deals to the new territory's owner, in bulk."""
    count = 0
    for new_owner, ids in ownership_changes(alignment, previous).items():
        for start in range(0, len(ids), 5000):
            part = ids[start:start + 5000]
            count += _reassign_owner(Account.objects.filter(pk__in=part), new_owner, by)
            count += _reassign_owner(Opportunity.objects.filter(account_id__in=part,
                                                                status=StageKind.OPEN),
                                     new_owner, by)
    return count


def _reassign_owner(queryset, new_owner_id: int, by) -> int:
    rows = list(queryset.exclude(owner_id=new_owner_id).values_list("pk", "owner_id"))
    if not rows:
        return 0
    model = queryset.model
    AuditEntry.objects.bulk_create(
        AuditEntry(record_type=model._meta.model_name, record_id=pk,
                   action=AuditEntry.Action.UPDATE, field="owner", old_value=str(old),
                   new_value=str(new_owner_id), changed_by=by) for pk, old in rows)
    model.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        owner_id=new_owner_id, version=F("version") + 1, updated_at=timezone.now())
    return len(rows)


# --- territories -------------------------------------------------------------------------

TERRITORY_FIELDS = {"name", "parent", "type", "priority", "description", "area_sq_km"}


def _resolve_parent(alignment: Alignment, parent) -> Territory | None:
    if parent in (None, ""):
        return None
    pk = getattr(parent, "pk", parent)
    found = Territory.objects.filter(alignment=alignment, pk=pk).first()
    if found is None:
        raise ValidationError({"parent": f"No territory with id {pk} in {alignment.name}."})
    return found


def _clean_territory(territory: Territory) -> None:
    if territory.type not in TerritoryType.values:
        raise ValidationError({"type": "Choose one of: " + ", ".join(TerritoryType.values)})
    territory.full_clean(exclude=["alignment", "parent"], validate_unique=False)
    clash = Territory.objects.filter(alignment_id=territory.alignment_id,
                                     name=territory.name).exclude(pk=territory.pk)
    if clash.exists():
        raise ValidationError({"name": f"There is already a territory called {territory.name}."})


@transaction.atomic
def create_territory(alignment: Alignment, *, by, data: dict) -> Territory:
    """Add a territory (under `parent`, if given) to a draft or the active alignment."""
    require(by, "alignment", "view", alignment)
    _require_editable(alignment)
    unknown = set(data) - TERRITORY_FIELDS
    if unknown:
        raise ValidationError({f: "This field does not exist or cannot be set." for f in unknown})
    values = {**data, "parent": _resolve_parent(alignment, data.get("parent"))}
    _require_place(by, alignment, values["parent"])
    territory = Territory(alignment=alignment, **values)
    _clean_territory(territory)
    territory.save()
    audit.record_created(territory, by)
    _rules_changed(alignment, None)
    return territory


def _require_place(by, alignment: Alignment, parent: Territory | None) -> None:
    """A territory goes under one the user manages; at the top only the map's owner."""
    if parent is None:
        require(by, "alignment", "change", alignment)
    else:
        require(by, "territory", "create", parent)


def would_cycle(territory: Territory, parent: Territory | None) -> bool:
    current = parent
    seen = set()
    while current is not None and current.pk not in seen:
        if current.pk == territory.pk:
            return True
        seen.add(current.pk)
        current = current.parent
    return False


@transaction.atomic
def update_territory(territory: Territory, *, by, data: dict,
                     expected_version: int | None = None) -> Territory:
    """Rename, move in the hierarchy, or change type or priority; accounts the territory
    claims or could claim are re-assigned."""
    require(by, "territory", "change", territory)
    _require_editable(territory.alignment)
    claim_version(territory, expected_version)
    unknown = set(data) - TERRITORY_FIELDS
    if unknown:
        raise ValidationError({f: "This field does not exist or cannot be changed."
                               for f in unknown})
    values = dict(data)
    if "parent" in values:
        values["parent"] = _resolve_parent(territory.alignment, values["parent"])
        if values["parent"] != territory.parent:
            _require_place(by, territory.alignment, values["parent"])
        if would_cycle(territory, values["parent"]):
            raise ValidationError({"parent": f"{values['parent']} is {territory.name} itself or "
                                             "lies below it; a territory cannot contain itself."})
    changes = {k: (getattr(territory, k), v) for k, v in values.items()
               if getattr(territory, k) != v}
    for key, value in values.items():
        setattr(territory, key, value)
    _clean_territory(territory)
    territory.save()
    audit.record_changes(territory, changes, by)
    # Names appear in the reasons; type, priority and parent decide who wins.
    ranking = {"name", "parent", "type", "priority"} & set(changes)
    _rules_changed(territory.alignment, _territory_q(territory) if ranking else None)
    return territory


@transaction.atomic
def delete_territory(territory: Territory, *, by, expected_version: int | None = None) -> None:
    require(by, "territory", "delete", territory)
    claim_version(territory, expected_version)
    _require_editable(territory.alignment)
    if territory.children.exists():
        raise ValidationError({"territory": f"{territory.name} has territories below it; move "
                                            "or delete them first."})
    affected = list(AccountTerritory.objects.filter(territory=territory)
                    .values_list("account_id", flat=True))
    q = Q(pk__in=affected)
    for rule in territory.rules.all():
        q |= assignment.rule_q(rule.combine, rule.conditions)
    alignment = territory.alignment
    audit.record_deleted(territory, by)
    territory.delete()
    _rules_changed(alignment, q)


# --- boundary rules ----------------------------------------------------------------------


def _check_rule(territory: Territory, combine: str, conditions, exclude_pk=None):
    """Validate a rule; refuse it naming the rule and field, or if it overlaps a rule of
    a territory that would tie with this one (same type, priority and depth)."""
    position = (territory.rules.filter(pk=exclude_pk).values_list("position", flat=True).first()
                if exclude_pk else None) or _next_position(territory)
    label = f"Rule {position} of {territory.name}"
    parsed, errors = validate_rule(combine, conditions)
    if errors:
        raise ValidationError({"conditions": [f"{label}, {f}: {m}" for f, m in errors]})
    depths = assignment.territory_depths(Territory.objects.filter(
        alignment_id=territory.alignment_id).values_list("id", "parent_id"))
    rivals = [tid for tid, kind, priority in Territory.objects.filter(
        alignment_id=territory.alignment_id, type=territory.type, priority=territory.priority
    ).exclude(pk=territory.pk).values_list("id", "type", "priority")
              if depths.get(tid) == depths.get(territory.pk)]
    for other in BoundaryRule.objects.filter(territory_id__in=rivals).select_related("territory"):
        other_parsed, other_errors = validate_rule(other.combine, other.conditions)
        if not other_errors and rules_may_overlap((combine, parsed), (other.combine, other_parsed)):
            raise ValidationError({"conditions": [
                f"{label} overlaps {other} (same type, priority and level); narrow one of "
                "them or give one territory a higher priority."]})
    return [{"field": c.field, "op": c.op, "values": [str(v) if v is not None else None
                                                      for v in c.values]} for c in parsed]


def _next_position(territory: Territory) -> int:
    last = territory.rules.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 1


@transaction.atomic
def create_rule(territory: Territory, *, by, combine: str = "all",
                conditions: list | None = None) -> BoundaryRule:
    """Add a boundary rule; the accounts it could claim are re-assigned at once."""
    require(by, "territory", "manage_rules", territory)
    _require_editable(territory.alignment)
    _rules_turn(territory.alignment)
    cleaned = _check_rule(territory, combine, conditions)
    rule = BoundaryRule.objects.create(territory=territory, position=_next_position(territory),
                                       combine=combine, conditions=cleaned)
    audit.record_created(rule, by)
    _rules_changed(territory.alignment, assignment.rule_q(combine, cleaned))
    return rule


@transaction.atomic
def update_rule(rule: BoundaryRule, *, by, combine: str | None = None,
                conditions: list | None = None,
                expected_version: int | None = None) -> BoundaryRule:
    """Change a rule; only accounts the old or the new rule could claim are re-assigned."""
    territory = rule.territory
    require(by, "territory", "manage_rules", territory)
    _require_editable(territory.alignment)
    _rules_turn(territory.alignment)
    claim_version(rule, expected_version)
    combine = combine or rule.combine
    conditions = rule.conditions if conditions is None else conditions
    cleaned = _check_rule(territory, combine, conditions, exclude_pk=rule.pk)
    affected = (assignment.rule_q(rule.combine, rule.conditions)
                | assignment.rule_q(combine, cleaned))
    changes = {"combine": (rule.combine, combine), "conditions": (rule.conditions, cleaned)}
    changes = {k: v for k, v in changes.items() if v[0] != v[1]}
    rule.combine, rule.conditions = combine, cleaned
    rule.save()
    audit.record_changes(rule, changes, by)
    _rules_changed(territory.alignment, affected if changes else None)
    return rule


@transaction.atomic
def delete_rule(rule: BoundaryRule, *, by, expected_version: int | None = None) -> None:
    require(by, "territory", "manage_rules", rule.territory)
    claim_version(rule, expected_version)
    alignment = rule.territory.alignment
    _require_editable(alignment)
    affected = assignment.rule_q(rule.combine, rule.conditions)
    audit.record_deleted(rule, by)
    rule.delete()
    _rules_changed(alignment, affected)


@transaction.atomic
def set_named_account(territory: Territory, account: Account, *, by,
                      include: bool = True) -> NamedAccount:
    """Put an account into (or keep it out of) a territory by name."""
    require(by, "territory", "name_accounts", territory)
    _require_editable(territory.alignment)
    named, created = NamedAccount.objects.update_or_create(
        territory=territory, account=account, defaults={"include": include})
    if created:
        audit.record_created(named, by)
    _rules_changed(territory.alignment, Q(pk=account.pk))
    return named


@transaction.atomic
def remove_named_account(named: NamedAccount, *, by,
                         expected_version: int | None = None) -> None:
    require(by, "territory", "name_accounts", named.territory)
    claim_version(named, expected_version)
    alignment = named.territory.alignment
    _require_editable(alignment)
    account_id = named.account_id
    audit.record_deleted(named, by)
    named.delete()
    _rules_changed(alignment, Q(pk=account_id))


# --- members ------------------------------------------------------------------------------


def _clean_member(member: TerritoryMember) -> None:
    if member.user_id is None:
        raise ValidationError({"user": "Choose the person who works this territory."})
    if not User.objects.filter(pk=member.user_id, is_active=True).exists():
        raise ValidationError({"user": f"No active user with id {member.user_id}."})
    if member.role not in MemberRole.values:
        raise ValidationError({"role": "Choose one of: " + ", ".join(MemberRole.values)})
    if member.start_date is None:
        raise ValidationError({"start_date": "Give the date the membership starts."})
    if member.end_date and member.end_date < member.start_date:
        raise ValidationError({"end_date": "The membership cannot end before it starts."})


def _require_own_person(by, user_id) -> None:
    ids = by.visible_owner_ids
    if ids is not None and user_id not in ids:
        raise PermissionDenied("You may only add people of the teams you manage.")


@transaction.atomic
def add_member(territory: Territory, *, by, user, role: str = MemberRole.OWNER,
               start_date: date | None = None, end_date: date | None = None) -> TerritoryMember:
    """Make a person a member of a territory from `start_date` (default today)."""
    require(by, "territory", "manage_members", territory)
    _require_editable(territory.alignment)
    _require_own_person(by, getattr(user, "pk", user))
    member = TerritoryMember(territory=territory, user_id=getattr(user, "pk", user), role=role,
                             start_date=start_date or company_today(), end_date=end_date)
    _clean_member(member)
    member.save()
    audit.record_created(member, by)
    bump_scope_version()
    return member


@transaction.atomic
def update_member(member: TerritoryMember, *, by, data: dict,
                  expected_version: int | None = None) -> TerritoryMember:
    require(by, "territory", "manage_members", member.territory)
    _require_editable(member.territory.alignment)
    claim_version(member, expected_version)
    unknown = set(data) - {"role", "start_date", "end_date"}
    if unknown:
        raise ValidationError({f: "This field cannot be changed here." for f in unknown})
    changes = {k: (getattr(member, k), v) for k, v in data.items() if getattr(member, k) != v}
    for key, value in data.items():
        setattr(member, key, value)
    _clean_member(member)
    member.save()
    audit.record_changes(member, changes, by)
    bump_scope_version()
    return member


@transaction.atomic
def remove_member(member: TerritoryMember, *, by, expected_version: int | None = None) -> None:
    require(by, "territory", "manage_members", member.territory)
    claim_version(member, expected_version)
    audit.record_deleted(member, by)
    member.delete()
    bump_scope_version()


# --- boundaries respected ---------------------------------------------------------------


def check_boundary(user, account: Account) -> None:
    """Refuse a rep working an account outside their territories without an approved,
    unexpired exception. Accounts no territory claims are open to everyone."""
    if getattr(user, "role", None) != Role.REP or user.is_superuser:
        return
    alignment = active_alignment()
    if alignment is None:
        return
    assigned = dict(AccountTerritory.objects.filter(alignment=alignment, account_id=account.pk)
                    .values_list("territory_id", "territory__name"))
    if not assigned or set(assigned) & set(member_territory_ids(user)):
        return
    if has_approved_exception(user.pk, account.pk):
        return
    names = ", ".join(sorted(assigned.values()))
    raise PermissionDenied(f"{account.name} belongs to {names}, which you do not work; ask your "
                           "manager for a boundary exception.")


def account_saved(account: Account, *, by, changes: dict | None = None) -> None:
    """Called by customers.services after an account is created (changes=None) or
    edited: re-assign it if a field the rules read changed, then check boundaries."""
    if changes is None or RULE_FIELDS & set(changes):
        assignment.assign_account(account.pk)
    check_boundary(by, account)


@transaction.atomic
def request_exception(*, by, account: Account, reason: str, until: date,
                      rep: User | None = None) -> BoundaryException:
    """Ask to work an account outside one's territories until a date."""
    rep = rep or by
    if by.role == Role.REP and rep.pk != by.pk:
        raise PermissionDenied("Reps request exceptions for themselves only.")
    require(by, "boundary_exception", "request")
    # An account the user cannot see answers as if it did not exist.
    require(by, "account", "view", account)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the exception is needed."})
    if until is None or until < company_today():
        raise ValidationError({"until": "The exception must last until today or later."})
    exception = BoundaryException.objects.create(rep=rep, account=account, reason=reason.strip(),
                                                 until=until, requested_by=by)
    audit.record_created(exception, by)
    chain = [m for m in manager_chain(rep) if m.pk != by.pk]
    if chain:  # the rep's manager decides (an admin may too, from the exceptions page)
        inbox.post(chain[0], Kind.BOUNDARY_EXCEPTION, f"boundary-exception:{exception.pk}",
                   title=f"Exception to decide: {rep} on {account} until {until:%d %b %Y}",
                   detail=exception.reason, url=reverse("web:territories:exceptions"))
    return exception


def _decide(exception: BoundaryException, *, by, status: str, note: str,
            expected_version: int | None) -> BoundaryException:
    require(by, "boundary_exception", "decide", exception)
    claim_version(exception, expected_version)
    if exception.status != BoundaryException.Status.REQUESTED:
        raise ValidationError({"status": f"This exception was already {exception.status}."})
    changes = {"status": (exception.status, status), "approved_by": (None, by)}
    exception.status = status
    exception.approved_by = by
    exception.decided_at = timezone.now()
    exception.decision_note = (note or "")[:500]
    exception.save()
    audit.record_changes(exception, changes, by)
    inbox.close(f"boundary-exception:{exception.pk}")
    return exception


@transaction.atomic
def approve_exception(exception: BoundaryException, *, by, note: str = "",
                      expected_version: int | None = None) -> BoundaryException:
    """A manager lets the rep work the account until the exception's date."""
    return _decide(exception, by=by, status=BoundaryException.Status.APPROVED, note=note,
                   expected_version=expected_version)


@transaction.atomic
def reject_exception(exception: BoundaryException, *, by, note: str = "",
                     expected_version: int | None = None) -> BoundaryException:
    return _decide(exception, by=by, status=BoundaryException.Status.REJECTED, note=note,
                   expected_version=expected_version)


@transaction.atomic
def fix_violation(*, by, kind: str, record_id: int, expected_version: int | None = None) -> User:
    """Give a record that breaks the boundaries to its territory's owner (through the
    customers and pipeline services, so permissions, the version the caller read and the
    audit trail apply)."""
    require(by, "territory_violation", "fix")
    opportunity = None
    if kind == "account":
        account_id = record_id
    elif kind == "opportunity":
        opportunity = Opportunity.objects.visible_to(by).filter(pk=record_id).first()
        if opportunity is None:
            raise ValidationError({"record_id": f"No opportunity with id {record_id}."})
        account_id = opportunity.account_id
    else:
        raise ValidationError({"kind": "Choose 'account' or 'opportunity'."})
    found = [v for v in violations(by, account_ids=[account_id])
             if v.kind == kind and v.record_id == record_id]
    if not found:
        raise ValidationError({"record_id": "This record does not break the boundaries."})
    violation = found[0]
    if violation.territory_owner_id is None:
        raise ValidationError({"record_id": "The account's territory has no owner to give "
                                            "it to; add an owner member first."})
    owner = User.objects.get(pk=violation.territory_owner_id)
    if kind == "account":
        from salesplan.customers.services import update_account

        update_account(Account.objects.get(pk=record_id), by=by, data={"owner": owner},
                       expected_version=expected_version)
    else:
        from salesplan.pipeline.services import update_opportunity

        assert opportunity is not None  # noqa: S101 - kind is "opportunity"
        update_opportunity(opportunity, by=by, data={"owner": owner},
                           expected_version=expected_version)
    return owner
