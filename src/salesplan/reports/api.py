"""API of the reports app (mounted at /api/v1/reports).

    GET             /                       the reports you can run
    GET/POST        /{report}/run           run with filters (query or JSON body)
    GET             /{report}/export        the report as CSV, XLSX or PDF
    GET             /drilldown              the records behind a figure
    GET/POST        /saved                  saved reports (yours and your team's shared)
    GET/PATCH/DELETE /saved/{id}
    GET/POST        /schedules              email deliveries of your saved reports
    DELETE          /schedules/{id}
    POST            /rollups/rebuild        admins: recompute the rollups as a background job
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from salesplan.core.api_support import InputSchema, RecordId, Version, VersionParam
from salesplan.core.errors import NotFound
from salesplan.core.jobs_api import ACCEPTED, accepted
from salesplan.metrics.rollup import RollupsNotReady

from . import services
from .catalog import REPORTS, ReportResult, get_report, run_report
from .drilldown import LIMIT, drill_records
from .exporting import export_table
from .models import SavedReport, ScheduledReport
from .scope import parse_filters

router = Router(tags=["reports"])

Format = Literal["csv", "xlsx", "pdf"]


class ReportInfo(Schema):
    key: str
    title: str
    description: str
    groupings: list[str]


class FiltersIn(InputSchema):
    period: str | None = Field(None, description="FY2026, FY2026-Q2 or FY2026-M05; "
                                                 "the current quarter if left out.",
                               examples=["FY2026-Q2"])
    team: RecordId | None = None
    owner: RecordId | None = None
    territory: RecordId | None = None
    pipeline: RecordId | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)
    by: str | None = Field(None, description="Grouping, one of the report's groupings.")


class ColumnOut(Schema):
    key: str
    label: str
    kind: str


class RowOut(Schema):
    values: dict[str, Any]
    drill: dict[str, str] | None
    total: bool


class ReportOut(Schema):
    key: str
    title: str
    by: str
    filters: dict[str, str]
    columns: list[ColumnOut]
    rows: list[RowOut]
    notes: list[str]


def _json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _result_out(result: ReportResult) -> dict:
    keys = [c.key for c in result.columns]
    return {
        "key": result.key, "title": result.title, "by": result.by,
        "filters": result.filters.as_params(),
        "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in result.columns],
        "rows": [{"values": {k: _json(v) for k, v in zip(keys, row.values, strict=True)},
                  "drill": row.drill, "total": row.emphasis} for row in result.rows],
        "notes": result.notes,
    }


def _run(request, key: str, params: dict) -> ReportResult:
    params = {k: v for k, v in params.items() if v is not None}
    by = str(params.pop("by", "") or "")
    try:
        return run_report(key, request.user, parse_filters(params), by)
    except RollupsNotReady as exc:
        raise HttpError(503, str(exc)) from exc


@router.get("/", response=list[ReportInfo], summary="Reports you can run")
def list_reports(request):
    role = request.user.role
    return [{"key": d.key, "title": d.title, "description": d.description,
             "groupings": list(d.groupings)}
            for d in REPORTS.values() if role in d.audience or request.user.is_admin]


@router.get("/drilldown", response=dict[str, Any], summary="Records behind a figure")
def drilldown(request, src: str = "opportunity", period: str | None = None,
              team: int | None = None, owner: int | None = None, territory: int | None = None,
              pipeline: int | None = None, currency: str | None = None, basis: str = "",
              status: str = "", stage: str = "", pipeline_kind: str = "", month: str = "",
              kind: str = "", done: str = "", converted: str = "", reached: str = "",
              product: str = "", source: str = ""):
    filters = parse_filters({"period": period, "team": team, "currency": currency,
                             "territory": territory, "pipeline": pipeline})
    spec = {k: v for k, v in {"src": src, "basis": basis, "status": status, "stage": stage,
                              "pipeline_kind": pipeline_kind, "month": month, "kind": kind,
                              "done": done, "converted": converted, "reached": reached,
                              "product": product, "source": source,
                              "owner": str(owner) if owner else ""}.items() if v}
    name, records = drill_records(request.user, filters, spec)
    total = records.count()
    items = [_record_out(name, r) for r in records[:LIMIT]]
    return {"source": name, "count": total, "shown": len(items), "items": items}


def _record_out(source: str, record) -> dict[str, Any]:
    url = reverse(f"web:{source}_detail", args=[record.pk])
    if source == "opportunity":
        return {"id": record.pk, "name": record.name, "url": url, "account": record.account.name,
                "owner": str(record.owner), "stage": record.stage.name, "status": record.status,
                "amount": str(record.amount), "currency": record.currency,
                "close_date": record.close_date.isoformat()}
    if source == "activity":
        return {"id": record.pk, "name": record.subject, "url": url, "kind": record.kind,
                "owner": str(record.owner), "done": record.done,
                "due_at": record.due_at.isoformat()}
    return {"id": record.pk, "name": f"{record.first_name} {record.last_name}".strip(),
            "url": url, "company": record.company, "owner": str(record.owner),
            "status": record.status, "created_at": record.created_at.isoformat()}


@router.get("/{key}/run", response=ReportOut, summary="Run a report (query parameters)")
def run_get(request, key: str, filters: Query[FiltersIn]):
    return _result_out(_run(request, key, filters.dict()))


@router.post("/{key}/run", response=ReportOut, summary="Run a report (JSON filters)")
def run_post(request, key: str, filters: FiltersIn):
    return _result_out(_run(request, key, filters.dict()))


@router.get("/{key}/export", summary="A report as CSV, XLSX or PDF",
            openapi_extra={"responses": {200: {"content": {
                "text/csv": {}, "application/pdf": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}}})
def export(request, key: str, filters: Query[FiltersIn], format: Format = "csv") -> HttpResponse:  # noqa: A002
    result = _run(request, key, filters.dict())
    return export_table(title=result.title, columns=result.columns, rows=result.plain_rows(),
                        fmt=format, filters=result.filters.described(),
                        filename=f"{key}-{result.filters.period.code}")


# --- saved reports and schedules ------------------------------------------------------


class SavedOut(Schema):
    id: int
    name: str
    report: str
    filters: dict[str, str]
    shared: bool
    owner_id: int
    owner_name: str
    version: int

    @staticmethod
    def resolve_owner_name(obj: SavedReport) -> str:
        return str(obj.owner)


class SavedIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    report: str
    filters: dict[str, str] = Field(default_factory=dict)
    shared: bool = False


class SavedPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    filters: dict[str, str] | None = None
    shared: bool | None = None
    version: Version


def _saved(request, pk: int) -> SavedReport:
    found = services.visible_saved_reports(request.user).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No saved report with id {pk}.")
    return found


@router.get("/saved", response=list[SavedOut], summary="Saved reports you can use")
def saved_list(request):
    return list(services.visible_saved_reports(request.user))


@router.post("/saved", response={201: SavedOut}, summary="Save a report with its filters")
def saved_create(request, payload: SavedIn):
    get_report(payload.report)
    return Status(201, services.save_report(by=request.user, name=payload.name,
                                            report=payload.report, filters=payload.filters,
                                            shared=payload.shared))


@router.get("/saved/{pk}", response=SavedOut, summary="One saved report")
def saved_detail(request, pk: RecordId):
    return _saved(request, pk)


@router.patch("/saved/{pk}", response=SavedOut, summary="Rename, refilter or share")
def saved_update(request, pk: RecordId, payload: SavedPatch):
    return services.update_saved_report(_saved(request, pk), by=request.user,
                                        name=payload.name, filters=payload.filters,
                                        shared=payload.shared,
                                        expected_version=payload.version)


@router.delete("/saved/{pk}", response={204: None}, summary="Delete a saved report")
def saved_delete(request, pk: RecordId, version: VersionParam):
    services.delete_saved_report(_saved(request, pk), by=request.user, expected_version=version)
    return Status(204, None)


class ScheduleOut(Schema):
    id: int
    saved_report_id: int
    recipients: list[str]
    frequency: str
    format: str
    next_run: datetime
    last_run: datetime | None
    last_error: str
    version: int


class ScheduleIn(InputSchema):
    saved_report_id: RecordId
    recipients: list[str] = Field(min_length=1)
    frequency: Literal["daily", "weekly", "monthly"] = "weekly"
    format: Format = "xlsx"
    first_run: datetime | None = None


def _schedules(request):
    return ScheduledReport.objects.filter(
        saved_report__in=services.visible_saved_reports(request.user).filter(
            owner=request.user)).select_related("saved_report")


@router.get("/schedules", response=list[ScheduleOut], summary="Your scheduled deliveries")
def schedule_list(request):
    return list(_schedules(request))


@router.post("/schedules", response={201: ScheduleOut}, summary="Email a saved report")
def schedule_create(request, payload: ScheduleIn):
    saved = _saved(request, payload.saved_report_id)
    return Status(201, services.schedule_report(
        by=request.user, saved_report=saved, recipients=payload.recipients,
        frequency=payload.frequency, fmt=payload.format, first_run=payload.first_run))


@router.delete("/schedules/{pk}", response={204: None}, summary="Stop a delivery")
def schedule_delete(request, pk: RecordId, version: VersionParam):
    schedule = _schedules(request).filter(pk=pk).first()
    if schedule is None:
        raise NotFound(f"No schedule with id {pk}.")
    services.cancel_schedule(schedule, by=request.user, expected_version=version)
    return Status(204, None)


@router.post("/rollups/rebuild", **ACCEPTED,
             summary="Rebuild the rollups (admin)")
def rollups_rebuild(request, response: HttpResponse):
    job = services.start_rebuild(by=request.user)
    return accepted(response, job)
