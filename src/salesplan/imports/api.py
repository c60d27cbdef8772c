"""API for imports, exports and the jobs that run them (mounted at /api/v1/imports).

    POST /imports/{resource}              upload a file (multipart) and start its dry run
    POST /imports/jobs/{id}/commit        import for real with a clean dry run's settings
    GET  /imports/jobs/{id}               a job's status, progress, counts and bad rows
    GET  /imports/exports/{resource}.csv  the list as filtered, streamed as CSV
    GET  /imports/exports/{resource}.xlsx  as XLSX (202 and a job above 50,000 rows)
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, StreamingHttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from salesplan.core.edge import BodyRefused, parse_json
from salesplan.core.models import BackgroundJob
from salesplan.core.permissions import require

from . import exports, selectors, services
from .columns import RESOURCE_ALIASES, RESOURCES

imports_router = Router(tags=["imports and exports"])


class RowProblem(Schema):
    row: int
    column: str
    message: str


class ImportJobOut(Schema):
    id: int
    kind: str
    status: str
    message: str
    progress_done: int
    progress_total: int
    percent: int
    dry_run: bool | None = None
    import_file_id: int | None = None
    rows: int | None = None
    created: int | None = None
    updated: int | None = None
    skipped: int | None = None
    error_count: int | None = None
    errors: list[RowProblem] = []
    download_url: str | None = None
    created_at: datetime
    finished_at: datetime | None = None


def job_out(job: BackgroundJob) -> ImportJobOut:
    result = job.result or {}
    download = (f"/jobs/{job.pk}/download/"
                if job.file and job.status == BackgroundJob.Status.SUCCEEDED else None)
    return ImportJobOut(
        id=job.pk, kind=job.kind, status=job.status, message=job.message,
        progress_done=job.progress_done, progress_total=job.progress_total,
        percent=job.percent, dry_run=job.params.get("dry_run"),
        import_file_id=job.params.get("import_file"), rows=result.get("rows"),
        created=result.get("created"), updated=result.get("updated"),
        skipped=result.get("skipped"), error_count=result.get("error_count"),
        errors=result.get("errors", []), download_url=download, created_at=job.created_at,
        finished_at=job.finished_at)


def _resource(name: str) -> str:
    resource = RESOURCE_ALIASES.get(name, name)
    if resource not in RESOURCES:
        raise Http404
    return resource


@imports_router.post("/{resource}", response={202: ImportJobOut},
                     summary="Upload a file and dry-run it")
def upload_and_dry_run(request, resource: str, file: File[UploadedFile],
                       on_duplicate: Form[str] = "skip", mapping: Form[str] = "",
                       pipeline_id: Form[int | None] = None):
    """`mapping` is optional JSON {"column name": "field"}; columns left out are matched
    by name (or by the mapping you used last time for the same columns)."""
    import_file = services.upload_import_file(by=request.user, resource=_resource(resource),
                                              upload=file)
    columns = selectors.mapping_for_headers(request.user, import_file.resource,
                                            import_file.headers)
    for column, field in _mapping(mapping).items():
        if column not in import_file.headers:
            raise ValidationError({"mapping": f"The file has no column '{column}'."})
        columns[import_file.headers.index(column)] = field
    job = services.start_import(import_file, by=request.user, mapping=columns,
                                on_duplicate=on_duplicate, dry_run=True,
                                pipeline_id=pipeline_id)
    job.refresh_from_db()
    return Status(202, job_out(job))


def _mapping(text: str) -> dict[str, str]:
    if not text.strip():
        return {}
    try:
        value = parse_json(text.encode())
    except BodyRefused:
        value = None
    if not isinstance(value, dict):
        raise ValidationError({"mapping": 'Send JSON like {"E-mail": "email"}.'})
    return {str(k): str(v or "") for k, v in value.items()}


@imports_router.post("/jobs/{job_id}/commit", response={202: ImportJobOut},
             summary="Import for real after a clean dry run")
def commit(request, job_id: int):
    dry_run = selectors.job_for(request.user, job_id)
    if dry_run.kind != services.IMPORT_JOB or not dry_run.params.get("dry_run"):
        raise ValidationError({"job_id": "This is not an import dry run."})
    import_file = selectors.import_file_for(request.user, dry_run.params["import_file"])
    job = services.start_import(
        import_file, by=request.user, mapping=dry_run.params["mapping"],
        on_duplicate=dry_run.params["on_duplicate"], dry_run=False,
        pipeline_id=dry_run.params.get("pipeline"))
    job.refresh_from_db()
    return Status(202, job_out(job))


@imports_router.get("/jobs/{job_id}", response=ImportJobOut, summary="A job's progress and outcome")
def job_status(request, job_id: int):
    return job_out(selectors.job_for(request.user, job_id))


@imports_router.get("/exports/{resource}.csv", summary="Export a list as CSV",
            openapi_extra={"responses": {200: {"content": {"text/csv": {}}}}})
def export_csv(request, resource: str):
    """Takes the list endpoint's filters (`owner`, `status`, `q`, `sort` …)."""
    name = _export_resource(request, resource)
    rows = exports.export_rows(request.user, name, request.GET)
    response = StreamingHttpResponse(exports.csv_lines(rows, name),
                                     content_type="text/csv; charset=utf-8")
    filename = exports.export_filename(name, "csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@imports_router.get("/exports/{resource}.xlsx", response={202: ImportJobOut},
            summary="Export a list as XLSX (a job when large)")
def export_xlsx(request, resource: str):
    import tempfile

    name = _export_resource(request, resource)
    rows = exports.export_rows(request.user, name, request.GET)
    if rows.order_by()[: exports.XLSX_INLINE_LIMIT + 1].count() > exports.XLSX_INLINE_LIMIT:
        job = services.start_export(by=request.user, resource=name,
                                    params=dict(request.GET.lists()), fmt="xlsx")
        job.refresh_from_db()
        return Status(202, job_out(job))
    handle = tempfile.TemporaryFile()
    exports.write_xlsx(rows, name, handle)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True,
                        filename=exports.export_filename(name, "xlsx"))


def _export_resource(request, resource: str) -> str:
    name = exports.resource_name(resource)
    if name is None:
        raise Http404
    require(request.user, name, "view")
    return name
