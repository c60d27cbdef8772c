"""API of quality control (mounted at /api/v1/quality).

    GET    /checks                          each check with its count (up to 1,000)
    GET    /checks/{key}                    its items you may see (cursor pages)
    POST   /checks/{key}/items/{id}/fix     apply the check's one-click fix to a record
    GET    /owners                          counts per owner and check
    GET    /territory-violations            records owned outside their territory
    GET    /policy, POST /policy, DELETE /policy/{id}   required fields (admins change)
    GET    /settings, PATCH /settings       thresholds (admins change)
    GET    /duplicates?record_type=         likely duplicate pairs (both records visible)
    POST   /duplicates/scan                 start a scan (202, a job)
    GET    /jobs/{id}                       deprecated: the job at /api/v1/jobs/{id}
    POST   /duplicates/{id}/dismiss         not a duplicate
    POST   /duplicates/{id}/merge           merge, keeping history
    GET    /scores, GET /scores/trend       data-quality scores and their history
    POST   /scores/snapshot                 take today's scores (202, a job)
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status

from salesplan.core.api_support import InputSchema, PageParams, RecordId, Version, VersionParam
from salesplan.core.errors import NotFound
from salesplan.core.jobs import start_job
from salesplan.core.jobs_api import ACCEPTED, accepted, add_deprecated_alias
from salesplan.core.listing import keyset_page
from salesplan.core.registry import require
from salesplan.pipeline.models import Stage

from . import checks as qc
from . import merging, scanning, selectors, services
from .models import DuplicateCandidate, QualitySettings, RequiredField

QUALITY_JOB_KINDS = ("quality.duplicates", "quality.count", "quality.snapshot")

router = Router(tags=["quality"])

DuplicateType = Literal["account", "contact", "lead"]


class CheckOut(Schema):
    key: str
    label: str
    description: str
    record_type: str
    weight: int
    fix: str
    count: int
    capped: bool
    counted_at: datetime | None = Field(
        None, description="When a stored company-wide count was taken; null when live.")


@router.get("/checks", response=list[CheckOut])
def list_checks(request):
    """Every check with how many of the records you may see it flags."""
    return [{"key": c.check.key, "label": c.check.label, "description": c.check.description,
             "record_type": c.check.record_type, "weight": c.check.weight, "fix": c.check.fix,
             "count": c.count, "capped": c.capped, "counted_at": c.counted_at}
            for c in selectors.check_counts(request.auth)]


class ItemOut(Schema):
    record_id: int
    name: str
    owner_id: int | None
    owner: str
    detail: str
    missing: list[str]
    version: int


class ItemPage(Schema):
    items: list[ItemOut]
    next_cursor: str | None
    previous_cursor: str | None


def _check(key: str) -> qc.Check:
    check = qc.get_check(key)
    if check is None:
        raise NotFound(f"No quality check {key!r}.")
    return check


def item_out(item: selectors.Item) -> dict[str, Any]:
    return {"record_id": item.record_id, "name": item.name,
            "owner_id": item.owner.pk if item.owner else None,
            "owner": str(item.owner) if item.owner else "", "detail": item.detail,
            "missing": item.missing, "version": item.version}


@router.get("/checks/{key}", response=ItemPage)
def check_items(request, key: str, page: Query[PageParams],
                owner_id: RecordId | None = None):
    """One check's flagged records that you may see, in its list order."""
    found, items = selectors.check_page(request.auth, _check(key), cursor=page.cursor,
                                        owner_id=owner_id, limit=page.limit)
    return {"items": [item_out(i) for i in items], "next_cursor": found.next_cursor,
            "previous_cursor": found.previous_cursor}


class QualityFixIn(InputSchema):
    action: Literal["done", "reschedule"] | None = None
    close_date: date | None = None
    next_step: str | None = Field(None, max_length=255)
    due: date | None = None
    note: str | None = Field(None, max_length=255)
    kind: str | None = Field(None, max_length=20, description=(
        "Territory fixes: account or opportunity. Lead first touch: call, email or meeting."))
    subject: str | None = Field(None, max_length=200)
    field: str | None = Field(None, max_length=60)
    value: str | int | None = None
    version: int | None = Field(None, ge=1)


class QualityFixOut(Schema):
    message: str


@router.post("/checks/{key}/items/{int:record_id}/fix", response=QualityFixOut)
def fix_item(request, key: str, record_id: RecordId, payload: QualityFixIn):
    """The check's fix: a new close date, a next step, a follow-up, a review, done or
    rescheduled activities, a first touch, a required field, or the territory owner."""
    data = payload.model_dump(exclude_none=True)
    return {"message": services.apply_fix(key, record_id, by=request.auth, data=data)}


class OwnerRow(Schema):
    owner_id: int
    owner: str
    counts: dict[str, int]
    total: int


class OwnersOut(Schema):
    rows: list[OwnerRow]
    notes: list[str]


@router.get("/owners", response=OwnersOut)
def owners(request):
    """Issues per owner and check: live for your team; from the latest snapshot when you
    see the whole company."""
    rows, notes = selectors.counts_by_owner(request.auth)
    return {"rows": [{"owner_id": r["owner_id"], "owner": str(r["owner"] or ""),
                      "counts": r["counts"], "total": r["total"]} for r in rows],
            "notes": notes}


class ViolationOut(Schema):
    kind: str
    record_id: int
    name: str
    account_id: int
    owner_id: int
    territory_id: int
    territory_owner_id: int | None


@router.get("/territory-violations", response=list[ViolationOut])
def territory_violations(request, limit: int = Query(200, ge=1, le=500)):
    """Accounts and open deals owned by someone outside the account's territory; fix one
    with POST /checks/territory_violation/items/{id}/fix {"kind": …} (managers)."""
    return selectors.territory_items(request.auth, limit=limit)


# --- policy and settings -----------------------------------------------------------------


class QualityRuleOut(Schema):
    id: int
    record_type: str
    field: str
    stage_id: int | None
    version: int


class QualityRuleIn(InputSchema):
    record_type: Literal["account", "contact", "lead", "opportunity"]
    field: str = Field(..., max_length=60)
    stage_id: RecordId | None = None


@router.get("/policy", response=list[QualityRuleOut])
def policy(request):
    """The required-field policy."""
    return list(RequiredField.objects.all())


@router.post("/policy", response={201: QualityRuleOut})
def add_rule(request, payload: QualityRuleIn):
    """Require a field (admins)."""
    stage = None
    if payload.stage_id is not None:
        stage = Stage.objects.filter(pk=payload.stage_id).first()
        if stage is None:
            from django.core.exceptions import ValidationError

            raise ValidationError({"stage_id": f"No stage with id {payload.stage_id}."})
    rule = services.add_required_field(by=request.auth, record_type=payload.record_type,
                                       field=payload.field, stage=stage)
    return Status(201, rule)


@router.delete("/policy/{int:rule_id}", response={204: None})
def remove_rule(request, rule_id: RecordId, version: VersionParam):
    rule = RequiredField.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(f"No required field with id {rule_id}.")
    services.remove_required_field(rule, by=request.auth, expected_version=version)
    return Status(204, None)


class SettingsOut(Schema):
    stale_after_days: int
    close_date_pushes: int
    stage_history_days: int
    lead_first_touch_hours: int
    duplicate_threshold: int
    quote_approval_wait_days: int
    version: int


class SettingsIn(InputSchema):
    stale_after_days: int | None = Field(None, ge=1, le=365)
    close_date_pushes: int | None = Field(None, ge=1, le=20)
    stage_history_days: int | None = Field(None, ge=1, le=730)
    lead_first_touch_hours: int | None = Field(None, ge=1, le=720)
    duplicate_threshold: int | None = Field(None, ge=50, le=100)
    quote_approval_wait_days: int | None = Field(None, ge=1, le=90)
    version: Version


@router.get("/settings", response=SettingsOut)
def get_settings(request):
    return QualitySettings.current()


@router.patch("/settings", response=SettingsOut)
def patch_settings(request, payload: SettingsIn):
    """Change thresholds (admins)."""
    data = payload.model_dump(exclude_none=True)
    version = data.pop("version")
    return services.update_settings(by=request.auth, data=data, expected_version=version)


# --- duplicates ----------------------------------------------------------------------------


class RecordBrief(Schema):
    id: int
    name: str
    owner_id: int | None
    email: str
    phone: str
    domain: str


class PairOut(Schema):
    id: int
    record_type: str
    score: int
    reasons: list[str]
    status: str
    left: RecordBrief | None
    right: RecordBrief | None


class PairPage(Schema):
    items: list[PairOut]
    next_cursor: str | None
    previous_cursor: str | None


def brief(record) -> dict[str, Any] | None:
    if record is None:
        return None
    return {"id": record.pk, "name": str(record), "owner_id": record.owner_id,
            "email": getattr(record, "email", ""), "phone": getattr(record, "phone", ""),
            "domain": getattr(record, "domain", "")}


def pair_out(pair: DuplicateCandidate, records: dict) -> dict[str, Any]:
    return {"id": pair.pk, "record_type": pair.record_type, "score": pair.score,
            "reasons": pair.reasons, "status": pair.status,
            "left": brief(records.get((pair.record_type, pair.left_id))),
            "right": brief(records.get((pair.record_type, pair.right_id)))}


@router.get("/duplicates", response=PairPage)
def duplicates(request, page: Query[PageParams], record_type: DuplicateType = "contact"):
    """Likely duplicate pairs of which you may see both records, best first."""

    found = keyset_page(selectors.visible_pairs(request.auth, record_type),
                        sort_field="-score", sort_key="-score", cursor=page.cursor,
                        limit=page.limit)
    records = selectors.pair_records(found.items)
    return {"items": [pair_out(p, records) for p in found.items],
            "next_cursor": found.next_cursor, "previous_cursor": found.previous_cursor}


class ScanIn(InputSchema):
    record_type: DuplicateType


@router.post("/duplicates/scan", **ACCEPTED)
def start_scan(request, response: HttpResponse, payload: ScanIn):
    """Scan all records of a type in the background (managers, admins); follow the job at
    its `Location`, /api/v1/jobs/{id}."""
    return accepted(response, scanning.start_scan(by=request.auth,
                                                  record_type=payload.record_type))


add_deprecated_alias(router, "/jobs/{int:job_id}", kinds=QUALITY_JOB_KINDS,
                     what="quality job", operation_id="job")


def _pair(request, pair_id: int) -> DuplicateCandidate:
    pair = DuplicateCandidate.objects.filter(pk=pair_id).first()
    if pair is None or not selectors.visible_pairs(request.auth, pair.record_type,
                                                   status=pair.status).filter(
            pk=pair.pk).exists():
        raise NotFound(f"No duplicate pair with id {pair_id}.")
    return pair


@router.post("/duplicates/{int:pair_id}/dismiss", response=PairOut)
def dismiss(request, pair_id: RecordId):
    """Not a duplicate: later scans leave the pair alone."""
    pair = merging.dismiss_pair(_pair(request, pair_id), by=request.auth)
    return pair_out(pair, selectors.pair_records([pair]))


class MergeIn(InputSchema):
    survivor_id: RecordId = Field(..., description="The record that stays (one of the pair).")
    keep_from_merged: list[str] = Field(default_factory=list, description=(
        "Fields whose value is taken from the record that goes."))


class MergeOut(Schema):
    id: int
    record_type: str
    survivor_id: int
    merged_id: int
    kept_from_merged: list[str]
    moved: dict[str, int]
    merged_values: dict[str, str]


@router.post("/duplicates/{int:pair_id}/merge", response=MergeOut)
def merge(request, pair_id: RecordId, payload: MergeIn):
    """Merge the pair into the survivor: related records move, history is kept."""
    from django.core.exceptions import ValidationError

    pair = _pair(request, pair_id)
    if payload.survivor_id not in (pair.left_id, pair.right_id):
        raise ValidationError({"survivor_id": "Choose one of the pair's two records."})
    merged_id = pair.right_id if payload.survivor_id == pair.left_id else pair.left_id
    return merging.merge_records(by=request.auth, record_type=pair.record_type,
                                 survivor_id=payload.survivor_id, merged_id=merged_id,
                                 keep_from_merged=payload.keep_from_merged)


# --- scores --------------------------------------------------------------------------------


class ScoreOut(Schema):
    taken_on: date
    user_id: int | None
    team_id: int | None
    name: str
    records: int
    weighted_issues: int
    score: Decimal
    issues: dict[str, int]


def score_out(snapshot) -> dict[str, Any]:
    name = str(snapshot.user or snapshot.team or "Company")
    return {"taken_on": snapshot.taken_on, "user_id": snapshot.user_id,
            "team_id": snapshot.team_id, "name": name, "records": snapshot.records,
            "weighted_issues": snapshot.weighted_issues, "score": snapshot.score,
            "issues": snapshot.issues}


class ScoresOut(Schema):
    taken_on: date | None
    people: list[ScoreOut]
    teams: list[ScoreOut]


@router.get("/scores", response=ScoresOut)
def scores(request):
    """The latest scores you may see: yours (reps), your teams' people and teams
    (managers), everyone's (admins, executives)."""
    day, people, teams = selectors.latest_scores(request.auth)
    return {"taken_on": day, "people": [score_out(s) for s in people],
            "teams": [score_out(s) for s in teams]}


@router.get("/scores/trend", response=list[ScoreOut])
def score_trend(request, user_id: RecordId | None = None, team_id: RecordId | None = None,
                weekly: bool = False):
    """One person's, team's or (with neither) the company's score over time."""
    points = selectors.trend(request.auth, user_id=user_id, team_id=team_id, weekly=weekly)
    return [score_out(s) for s in points]


@router.post("/scores/snapshot", **ACCEPTED)
def take_snapshot(request, response: HttpResponse):
    """Take today's scores in the background (managers, admins)."""
    from .tasks import snapshot_scores

    require(request.auth, "quality_score", "snapshot")
    return accepted(response, start_job("quality.snapshot", by=request.auth,
                                        task=snapshot_scores))
