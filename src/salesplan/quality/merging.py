"""Merging two records that are the same person or company, keeping all history.

In one transaction: the values the user chose from the merged record are written to the
survivor (through its update service: permissions, validation, audit); every record that
points at the merged one (contacts, opportunities, activities, converted leads, child
accounts, territory assignments, quotes…) is moved to the survivor; both records get an
audit entry; the merged record's values are kept in a Merge row; then it is deleted.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, ProtectedError, Q, RestrictedError
from django.utils import timezone

from salesplan.core.audit import display_value, record_deleted
from salesplan.core.errors import NotFound
from salesplan.core.models import AuditEntry
from salesplan.core.permissions import require

from .checks import MODELS
from .models import DuplicateCandidate, DuplicateStatus, Merge, RecordType

MERGE_FIELDS: dict[str, tuple[str, ...]] = {
    RecordType.ACCOUNT: ("name", "domain", "website", "industry", "employees",
                         "annual_revenue", "street", "city", "postal_code", "state", "county",
                         "country", "parent", "owner", "tier", "lifecycle", "potential",
                         "currency"),
    RecordType.CONTACT: ("first_name", "last_name", "title", "email", "email_secondary",
                         "phone", "mobile", "account", "buying_role", "do_not_contact",
                         "owner"),
    RecordType.LEAD: ("first_name", "last_name", "title", "email", "phone", "company",
                      "website", "industry", "employees", "city", "state", "postal_code",
                      "country", "source", "campaign", "status", "owner"),
}


def _load(record_type: str, pk: int, user):
    model = MODELS[record_type]
    found = model._default_manager.visible_to(user).filter(pk=pk).first()  # type: ignore
    if found is None:
        raise NotFound(f"No {record_type} with id {pk}.")
    return found


def differing_fields(record_type: str, survivor, merged) -> list[dict]:
    """The mergeable fields with both values, marking those that differ."""
    rows = []
    for name in MERGE_FIELDS[record_type]:
        field = survivor._meta.get_field(name)
        left, right = getattr(survivor, name), getattr(merged, name)
        rows.append({"name": name, "label": str(field.verbose_name).capitalize(),
                     "survivor": left, "merged": right,
                     "differs": getattr(survivor, field.attname) != getattr(merged,
                                                                            field.attname)})
    return rows


def _move_related(merged: models.Model, survivor: models.Model) -> dict[str, int]:
    """Point every foreign key at `merged` to `survivor`; returns counts per relation.

    A row the survivor already has an equivalent of (a unique link, e.g. the same
    territory assignment) stays behind and goes with the merged record."""
    moved: dict[str, int] = {}
    # include_hidden: links declared with related_name="+" (a converted lead's account
    # and contact, other apps' references) must move too.
    for relation in merged._meta.get_fields(include_hidden=True):
        foreign_key = getattr(relation, "field", None)
        if not (relation.auto_created and not relation.concrete) or relation.many_to_many \
                or not isinstance(foreign_key, models.ForeignKey):
            continue
        related: type[models.Model] = foreign_key.model
        column = foreign_key.attname
        manager = related._base_manager
        rows = manager.filter(**{column: merged.pk})
        changes: dict = {column: survivor.pk}
        if any(f.name == "version" for f in related._meta.concrete_fields):
            changes["version"] = F("version") + 1
        try:
            with transaction.atomic():
                count = rows.update(**changes)
        except IntegrityError:
            count = 0
            for pk in list(rows.values_list("pk", flat=True)):
                try:
                    with transaction.atomic():
                        count += manager.filter(pk=pk).update(**changes)
                except IntegrityError:
                    continue
        if count:
            moved[f"{related._meta.model_name}.{foreign_key.name}"] = count
    return moved


def _snapshot(record: models.Model) -> dict[str, str]:
    return {f.name: display_value(getattr(record, f.attname))
            for f in record._meta.concrete_fields}


@transaction.atomic
def merge_records(*, by, record_type: str, survivor_id: int, merged_id: int,
                  keep_from_merged: list[str] | tuple[str, ...] = ()) -> Merge:
    """Merge `merged_id` into `survivor_id`, taking the fields named in
    `keep_from_merged` from the merged record; all or nothing."""
    from .services import update_service

    if record_type not in MERGE_FIELDS:
        raise ValidationError({"record_type": "Choose account, contact or lead."})
    if survivor_id == merged_id:
        raise ValidationError({"merged_id": "Choose two different records."})
    survivor = _load(record_type, survivor_id, by)
    merged = _load(record_type, merged_id, by)
    require(by, record_type, "change", survivor)
    require(by, record_type, "delete", merged)
    unknown = sorted(set(keep_from_merged) - set(MERGE_FIELDS[record_type]))
    if unknown:
        raise ValidationError({"keep_from_merged": f"These fields cannot be merged: "
                                                   f"{', '.join(unknown)}."})
    model = MODELS[record_type]
    list(model._default_manager.select_for_update().filter(pk__in=[survivor.pk, merged.pk]))
    if record_type == RecordType.LEAD and merged.status == "converted":
        raise ValidationError({"merged_id": "A converted lead cannot be merged away; keep it "
                                            "as the surviving record instead."})
    if record_type == RecordType.ACCOUNT and survivor.parent_id == merged.pk:
        # The survivor would become its own parent: it takes the merged record's parent.
        parent = merged.parent if merged.parent_id != survivor.pk else None
        model._default_manager.filter(pk=survivor.pk).update(parent=parent)
        survivor.refresh_from_db()
    snapshot = _snapshot(merged)
    data = {name: getattr(merged, name) for name in keep_from_merged}
    if record_type == RecordType.ACCOUNT and data.get("parent") is not None \
            and data["parent"].pk == survivor.pk:
        data.pop("parent")
    merged_label = str(merged)
    if data:
        update_service(record_type)(survivor, by=by, data=data)
    moved = _move_related(merged, survivor)
    summary = ", ".join(f"{n} {name}" for name, n in sorted(moved.items())) or "nothing"
    AuditEntry.objects.bulk_create([
        AuditEntry(record_type=record_type, record_id=survivor.pk,
                   action=AuditEntry.Action.UPDATE, field="merged",
                   old_value=f"{record_type} #{merged.pk} {merged_label}"[:1000],
                   new_value=f"Merged into this record; moved {summary}"[:1000], changed_by=by),
        AuditEntry(record_type=record_type, record_id=merged.pk,
                   action=AuditEntry.Action.UPDATE, field="merged_into",
                   old_value=merged_label[:1000],
                   new_value=f"{record_type} #{survivor.pk} {survivor}"[:1000], changed_by=by),
    ])
    record = Merge.objects.create(record_type=record_type, survivor_id=survivor.pk,
                                  merged_id=merged.pk, merged_values=snapshot,
                                  kept_from_merged=list(keep_from_merged), moved=moved,
                                  merged_by=by)
    _settle_pairs(record_type, survivor.pk, merged.pk, by)
    record_deleted(merged, by)
    try:
        merged.delete()
    except (ProtectedError, RestrictedError) as exc:
        names = sorted({type(o)._meta.verbose_name for o in exc.args[1]})
        raise ValidationError({"merged_id": "Records that cannot move still point at it: "
                                            f"{', '.join(map(str, names))}."}) from exc
    return record


def _settle_pairs(record_type: str, survivor_id: int, merged_id: int, by) -> None:
    """The merged pair is marked merged; other open pairs naming the merged record go
    (the next scan finds them again against the survivor)."""
    left, right = sorted((survivor_id, merged_id))
    pairs = DuplicateCandidate.objects.filter(record_type=record_type)
    pairs.filter(left_id=left, right_id=right).update(
        status=DuplicateStatus.MERGED, decided_by=by, decided_at=timezone.now())
    pairs.filter(Q(left_id=merged_id) | Q(right_id=merged_id)).exclude(
        left_id=left, right_id=right).filter(status=DuplicateStatus.OPEN).delete()


@transaction.atomic
def dismiss_pair(pair: DuplicateCandidate, *, by) -> DuplicateCandidate:
    """Mark a pair as not a duplicate; later scans leave it alone."""
    from .selectors import visible_pairs

    if not visible_pairs(by, pair.record_type).filter(pk=pair.pk).exists():
        raise NotFound(f"No open duplicate pair with id {pair.pk}.")
    left = _load(pair.record_type, pair.left_id, by)
    right = _load(pair.record_type, pair.right_id, by)
    require(by, pair.record_type, "change", left)
    require(by, pair.record_type, "change", right)
    DuplicateCandidate.objects.filter(pk=pair.pk).update(
        status=DuplicateStatus.DISMISSED, decided_by=by, decided_at=timezone.now())
    pair.refresh_from_db()
    return pair
