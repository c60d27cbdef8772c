"""Bulk actions on the CRM lists (accounts, contacts, leads, opportunities): a preview,
then a background job.

A selection is either ids (rows ticked on a page, or the whole page) or a filter
(everything the list's filter matches, read through the list's own selector, so it
matches exactly what the list shows the user). Every row goes through the record's own
service (permission registry, version, audit); a row the service refuses is recorded as
refused with the reason and left unchanged, never changed silently. The preview runs
each row's change in a savepoint that is rolled back, so its refusals are the ones the
job will meet.

The actions are registered (`register_action`): this module's own (change owner,
change stage, delete) and those of the apps above (add to a campaign from marketing,
export from imports, fix boundary violations from territories), each in its
`AppConfig.ready()`, so a lower app never imports a higher one.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet

from salesplan.core import hooks
from salesplan.core.errors import NotFound, StaleVersion, VersionRequired
from salesplan.core.jobs import Progress, start_job
from salesplan.core.models import BackgroundJob
from salesplan.core.permissions import can_assign_owner, require
from salesplan.pipeline import selectors as pipeline_selectors
from salesplan.pipeline.models import Opportunity, Stage, StageKind
from salesplan.pipeline.services import (
    delete_opportunity,
    move_opportunity,
    update_opportunity,
)

from . import selectors
from .models import Account, Contact, Lead
from .services import (
    delete_account,
    delete_contact,
    delete_lead,
    update_account,
    update_contact,
    update_lead,
)

RESOURCES = ("account", "contact", "lead", "opportunity")
PLURAL = {"account": "accounts", "contact": "contacts", "lead": "leads",
          "opportunity": "opportunities"}
MODELS: dict[str, Any] = {"account": Account, "contact": Contact, "lead": Lead,
                          "opportunity": Opportunity}
RELATED = {"account": ("owner",), "contact": ("owner", "account"), "lead": ("owner",),
           "opportunity": ("owner", "stage", "account")}
LISTS: dict[str, Callable[..., QuerySet]] = {
    "account": selectors.account_list, "contact": selectors.contact_list,
    "lead": selectors.lead_list, "opportunity": pipeline_selectors.opportunity_list}
MAX_ROWS = 50_000  # one job; a larger selection is refused with a clear message
PREVIEW_CHECKED = 2_000  # the preview tries this many rows; the job tries all
SAMPLE = 10
RESULT_ROWS = 10_000  # per-row outcomes kept in the job's result


@dataclass(frozen=True)
class BulkAction:
    """One thing a bulk request does to each selected row.

    `clean(user, resource, values)` checks the request as a whole (may the user take this
    action at all, are the values good) and returns what `apply` needs; it raises
    ValidationError naming the value, or PermissionDenied. `apply(user, resource, obj,
    cleaned)` changes one row through its service and raises to refuse it; it may return
    a note for the row's outcome. `after(user, resource, obj, cleaned)` says what the row
    becomes, read after `apply` (inside the preview's savepoint). `finish(job, user,
    resource, cleaned, done_ids)`, if any, runs once after every row (the export writes
    its file there) and returns extra fields for the job's result."""

    name: str
    label: str
    resources: tuple[str, ...]
    clean: Callable[[Any, str, dict], dict]
    apply: Callable[[Any, str, Any, dict], str | None]
    after: Callable[[Any, str, Any, dict], str]
    before: Callable[[str, Any], str] = lambda resource, obj: str(obj.owner)
    finish: Callable[..., dict] | None = None


_ACTIONS: dict[str, BulkAction] = {}


def register_action(action: BulkAction) -> None:
    """Offer an action on the lists it names (an app's `ready()`; once per name)."""
    _ACTIONS[action.name] = action


def actions_for(resource: str) -> list[BulkAction]:
    return [a for a in _ACTIONS.values() if resource in a.resources]


def action_named(resource: str, name: str) -> BulkAction:
    action = _ACTIONS.get(name)
    if action is None or resource not in action.resources:
        raise ValidationError({"action": "Choose one of: " + ", ".join(
            a.name for a in actions_for(resource))})
    return action


class _Rollback(Exception):
    pass


@dataclass
class BulkRequest:
    resource: str
    action: str
    ids: list[int]
    values: dict[str, Any]


def _id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0  # no record has id 0


def _selected(user, resource: str, *, ids: list[int] | None, filters: dict | None) -> list[int]:
    if ids is None and filters is None:
        raise ValidationError({"ids": "Choose rows (ids) or everything a filter matches (filter)."})
    if ids is not None:
        wanted = list(dict.fromkeys(int(i) for i in ids))
    else:
        wanted = list(LISTS[resource](user, filters or {}).order_by("pk")
                      .values_list("pk", flat=True)[:MAX_ROWS + 1])
    if len(wanted) > MAX_ROWS:
        raise ValidationError({"ids": f"At most {MAX_ROWS} rows at once; narrow the filter."})
    if not wanted:
        raise ValidationError({"ids": "No rows are selected."})
    return wanted


def prepare(user, resource: str, *, action: str, ids: list[int] | None = None,
            filters: dict | None = None, values: dict | None = None) -> BulkRequest:
    """Check the request as a whole (may the user start bulk work, are the values good)
    and freeze the selection to ids."""
    require(user, resource, "bulk_change")
    action_named(resource, action).clean(user, resource, values or {})
    return BulkRequest(resource, action, _selected(user, resource, ids=ids, filters=filters),
                       dict(values or {}))


def _name(resource: str, obj) -> str:
    return obj.full_name if resource in ("contact", "lead") else obj.name


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    if isinstance(exc, PermissionDenied | NotFound):
        return str(exc) or "You may not change this record."
    if isinstance(exc, StaleVersion | VersionRequired):
        return "Someone changed this record meanwhile."
    return str(exc)


def _rows(user, resource: str, ids: list[int]) -> QuerySet:
    return MODELS[resource].objects.visible_to(user).filter(pk__in=ids).select_related(
        *RELATED[resource])


REFUSALS = (ValidationError, PermissionDenied, NotFound, StaleVersion, VersionRequired)


def _try(user, request: BulkRequest, action: BulkAction, obj, cleaned: dict, *,
         keep: bool) -> tuple[str | None, str, str]:
    """(why the row is refused or None, its note, what it becomes); the change is kept
    or rolled back."""
    outcome: list[str] = ["", ""]
    try:
        with transaction.atomic():
            outcome[0] = action.apply(user, request.resource, obj, cleaned) or ""
            outcome[1] = action.after(user, request.resource, obj, cleaned)
            if not keep:
                raise _Rollback
    except _Rollback:
        pass
    except REFUSALS as exc:
        return _reason(exc), "", "unchanged"
    return None, outcome[0], outcome[1]


NOT_VISIBLE = "Not found, or not a record you may see."


def preview(user, request: BulkRequest) -> dict[str, Any]:
    """How many rows, a sample of before → after, and the rows that will be refused."""
    action = action_named(request.resource, request.action)
    cleaned = action.clean(user, request.resource, request.values)
    checked = request.ids[:PREVIEW_CHECKED]
    found = {obj.pk: obj for obj in _rows(user, request.resource, checked)}
    sample: list[dict] = []
    refused: list[dict] = []
    for pk in checked:
        obj = found.get(pk)
        if obj is None:
            refused.append({"id": pk, "name": "", "reason": NOT_VISIBLE})
            continue
        name, before = _name(request.resource, obj), action.before(request.resource, obj)
        reason, note, after = _try(user, request, action, obj, cleaned, keep=False)
        if len(sample) < SAMPLE:
            sample.append({"id": pk, "name": name, "before": before, "after": after,
                           "reason": reason or note})
        if reason:
            refused.append({"id": pk, "name": name, "reason": reason})
    return {"action": request.action, "count": len(request.ids), "checked": len(checked),
            "will_change": len(checked) - len(refused), "will_refuse": len(refused),
            "sample": sample, "refused": refused[:500]}


def start(user, request: BulkRequest) -> BackgroundJob:
    """Start the job that applies the action to every selected row."""
    from .tasks import run_bulk

    return start_job(f"bulk_{request.resource}", by=user, task=run_bulk,
                     params={"resource": request.resource, "action": request.action,
                             "ids": request.ids, "values": request.values})


def run_bulk_job(job: BackgroundJob) -> tuple[dict, str]:
    user = job.created_by
    params = job.params
    request = BulkRequest(params["resource"], params["action"], params["ids"], params["values"])
    action = action_named(request.resource, request.action)
    cleaned = action.clean(user, request.resource, request.values)
    progress = Progress(job, len(request.ids), every=50)
    rows: list[dict] = []
    done_ids: list[int] = []
    refused = 0
    for start_at in range(0, len(request.ids), 500):
        chunk = request.ids[start_at:start_at + 500]
        found = {obj.pk: obj for obj in _rows(user, request.resource, chunk)}
        for pk in chunk:
            obj = found.get(pk)
            reason: str | None = NOT_VISIBLE
            note = ""
            if obj is not None:
                reason, note, _ = _try(user, request, action, obj, cleaned, keep=True)
            if reason:
                refused += 1
            else:
                done_ids.append(pk)
            if len(rows) < RESULT_ROWS:
                row = {"id": pk, "status": "refused" if reason else "done",
                       "reason": reason or ""}
                if note:
                    row["note"] = note
                rows.append(row)
        progress.advance_to(start_at + len(chunk))
    result = {"action": request.action, "rows_total": len(request.ids), "done": len(done_ids),
              "refused": refused, "rows": rows}
    if action.finish is not None:
        result.update(action.finish(job, user, request.resource, cleaned, done_ids))
    return result, f"{len(done_ids)} done, {refused} refused."


# --- this module's own actions -------------------------------------------------------


def _clean_owner(user, resource: str, values: dict) -> dict:
    owner = get_user_model().objects.filter(pk=_id(values.get("owner"))).first()
    if owner is None or not can_assign_owner(user, owner):
        raise ValidationError({"owner": "Choose an active owner you may assign records to."})
    return {"owner": owner}


UPDATES: dict[str, Callable[..., Any]] = {
    "account": update_account, "contact": update_contact, "lead": update_lead,
    "opportunity": update_opportunity}
DELETES: dict[str, Callable[..., Any]] = {
    "account": delete_account, "contact": delete_contact, "lead": delete_lead,
    "opportunity": delete_opportunity}


def _change_owner(user, resource: str, obj, cleaned: dict) -> None:
    account = obj if resource == "account" else getattr(obj, "account", None)
    if account is not None:
        # The new owner must work the account's territory (the boundary rules).
        hooks.record_placed_on_account(cleaned["owner"], account)
    UPDATES[resource](obj, by=user, data={"owner": cleaned["owner"]},
                      expected_version=obj.version)


def _delete(user, resource: str, obj, cleaned: dict) -> None:
    require(user, resource, "delete", obj)
    DELETES[resource](obj, by=user)


def _clean_stage(user, resource: str, values: dict) -> dict:
    stage = Stage.objects.filter(pk=_id(values.get("stage"))).first()
    if stage is None:
        raise ValidationError({"stage": "Choose a stage."})
    reason = str(values.get("lost_reason") or "").strip()
    if stage.kind == StageKind.LOST and not reason:
        raise ValidationError({"lost_reason": "Say why the deals were lost."})
    return {"stage": stage, "lost_reason": reason}


def _move(user, resource: str, obj, cleaned: dict) -> None:
    move_opportunity(obj, cleaned["stage"], by=user, expected_version=obj.version,
                     lost_reason=cleaned["lost_reason"])


register_action(BulkAction(
    "change_owner", "Change owner", RESOURCES, _clean_owner, _change_owner,
    after=lambda user, resource, obj, cleaned: str(cleaned["owner"])))
register_action(BulkAction(
    "change_stage", "Change stage", ("opportunity",), _clean_stage, _move,
    before=lambda resource, obj: obj.stage.name,
    after=lambda user, resource, obj, cleaned: cleaned["stage"].name))
register_action(BulkAction(
    "delete", "Delete", RESOURCES, lambda user, resource, values: {}, _delete,
    after=lambda user, resource, obj, cleaned: "deleted"))
