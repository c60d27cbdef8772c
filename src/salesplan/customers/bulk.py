"""Bulk actions on accounts and opportunities: a preview, then a background job.

A selection is either ids (rows ticked on a page) or a filter (everything the list's
filter matches, read through the list's own selector, so it matches exactly what the
list shows the user). Every row goes through the record's own service (permission
registry, version, audit); a row the service refuses is recorded as refused with the
reason and left unchanged, never changed silently. The preview runs each row's change
in a savepoint that is rolled back, so its refusals are the ones the job will meet.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet

from salesplan.core import hooks
from salesplan.core.errors import StaleVersion, VersionRequired
from salesplan.core.jobs import Progress, start_job
from salesplan.core.models import BackgroundJob
from salesplan.core.permissions import can_assign_owner, require
from salesplan.pipeline import selectors as pipeline_selectors
from salesplan.pipeline.models import Opportunity, Stage, StageKind
from salesplan.pipeline.services import delete_opportunity, move_opportunity

from . import selectors
from .models import Account
from .services import delete_account, update_account

ACTIONS = {"account": ("change_owner", "delete"), "opportunity": ("change_stage", "delete")}
MAX_ROWS = 50_000  # one job; a larger selection is refused with a clear message
PREVIEW_CHECKED = 2_000  # the preview tries this many rows; the job tries all
SAMPLE = 10
RESULT_ROWS = 10_000  # per-row outcomes kept in the job's result


class _Rollback(Exception):
    pass


@dataclass
class BulkRequest:
    resource: str  # "account" or "opportunity"
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
        select = (selectors.account_list if resource == "account"
                  else pipeline_selectors.opportunity_list)
        wanted = list(select(user, filters or {}).order_by("pk").values_list("pk", flat=True)
                      [:MAX_ROWS + 1])
    if len(wanted) > MAX_ROWS:
        raise ValidationError({"ids": f"At most {MAX_ROWS} rows at once; narrow the filter."})
    if not wanted:
        raise ValidationError({"ids": "No rows are selected."})
    return wanted


def _clean_values(user, resource: str, action: str, values: dict) -> dict[str, Any]:
    """Check the action's values once, for every row: a bad value refuses the request."""
    if action not in ACTIONS[resource]:
        raise ValidationError({"action": "Choose one of: " + ", ".join(ACTIONS[resource])})
    if action == "change_owner":
        owner = get_user_model().objects.filter(pk=_id(values.get("owner"))).first()
        if owner is None or not can_assign_owner(user, owner):
            raise ValidationError({"owner": "Choose an active owner you may assign records to."})
        return {"owner": owner}
    if action == "change_stage":
        stage = Stage.objects.filter(pk=_id(values.get("stage"))).first()
        if stage is None:
            raise ValidationError({"stage": "Choose a stage."})
        reason = str(values.get("lost_reason") or "").strip()
        if stage.kind == StageKind.LOST and not reason:
            raise ValidationError({"lost_reason": "Say why the deals were lost."})
        return {"stage": stage, "lost_reason": reason}
    return {}


def prepare(user, resource: str, *, action: str, ids: list[int] | None = None,
            filters: dict | None = None, values: dict | None = None) -> BulkRequest:
    """Check the request as a whole (may the user start bulk work, are the values good)
    and freeze the selection to ids."""
    require(user, resource, "bulk_change")
    _clean_values(user, resource, action, values or {})
    return BulkRequest(resource, action, _selected(user, resource, ids=ids, filters=filters),
                       dict(values or {}))


def _describe(resource: str, obj) -> tuple[str, str]:
    """(name, the field the action shows before → after) of a row."""
    if resource == "account":
        return obj.name, str(obj.owner)
    return obj.name, obj.stage.name


def _after(request: BulkRequest, values: dict) -> str:
    if request.action == "delete":
        return "deleted"
    if request.action == "change_owner":
        return str(values["owner"])
    return values["stage"].name


def _apply(user, request: BulkRequest, obj, values: dict) -> None:
    """One row through its service; raises when the row is refused."""
    if request.resource == "account":
        if request.action == "change_owner":
            # The new owner must work the account's territory (the boundary rules).
            hooks.record_placed_on_account(values["owner"], obj)
            update_account(obj, by=user, data={"owner": values["owner"]},
                           expected_version=obj.version)
        else:
            require(user, "account", "delete", obj)
            delete_account(obj, by=user)
    elif request.action == "change_stage":
        move_opportunity(obj, values["stage"], by=user, expected_version=obj.version,
                         lost_reason=values["lost_reason"])
    else:
        delete_opportunity(obj, by=user)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    if isinstance(exc, PermissionDenied):
        return str(exc) or "You may not change this record."
    if isinstance(exc, StaleVersion | VersionRequired):
        return "Someone changed this record meanwhile."
    return str(exc)


def _rows(user, request: BulkRequest, ids: list[int]) -> QuerySet:
    if request.resource == "account":
        return Account.objects.visible_to(user).filter(pk__in=ids).select_related("owner")
    return Opportunity.objects.visible_to(user).filter(pk__in=ids).select_related("stage")


def _try(user, request: BulkRequest, obj, values: dict, *, keep: bool) -> str | None:
    """None if the row is changed (kept or rolled back), else why it is refused."""
    try:
        with transaction.atomic():
            _apply(user, request, obj, values)
            if not keep:
                raise _Rollback
    except _Rollback:
        return None
    except (ValidationError, PermissionDenied, StaleVersion, VersionRequired) as exc:
        return _reason(exc)
    return None


NOT_VISIBLE = "Not found, or not a record you may see."


def preview(user, request: BulkRequest) -> dict[str, Any]:
    """How many rows, a sample of before → after, and the rows that will be refused."""
    values = _clean_values(user, request.resource, request.action, request.values)
    checked = request.ids[:PREVIEW_CHECKED]
    found = {obj.pk: obj for obj in _rows(user, request, checked)}
    sample: list[dict] = []
    refused: list[dict] = []
    for pk in checked:
        obj = found.get(pk)
        name, before = _describe(request.resource, obj) if obj is not None else ("", "")
        reason = NOT_VISIBLE if obj is None else _try(user, request, obj, values, keep=False)
        if obj is not None and len(sample) < SAMPLE:
            sample.append({"id": pk, "name": name, "before": before,
                           "after": reason and "unchanged" or _after(request, values)})
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
    values = _clean_values(user, request.resource, request.action, request.values)
    progress = Progress(job, len(request.ids), every=50)
    rows: list[dict] = []
    done = refused = 0
    for start_at in range(0, len(request.ids), 500):
        chunk = request.ids[start_at:start_at + 500]
        found = {obj.pk: obj for obj in _rows(user, request, chunk)}
        for pk in chunk:
            obj = found.get(pk)
            reason = NOT_VISIBLE if obj is None else _try(user, request, obj, values, keep=True)
            if reason:
                refused += 1
            else:
                done += 1
            if len(rows) < RESULT_ROWS:
                rows.append({"id": pk, "status": "refused" if reason else "done",
                             "reason": reason or ""})
        progress.advance_to(start_at + len(chunk))
    result = {"action": request.action, "rows_total": len(request.ids), "done": done,
              "refused": refused, "rows": rows}
    return result, f"{done} changed, {refused} refused."
