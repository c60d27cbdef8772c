"""API for imports, exports and the jobs that run them (mounted at /api/v1/imports).

    POST /imports/{resource}              upload a file (multipart) and start its dry run
    POST /imports/jobs/{id}/commit        import for real with a clean dry run's settings
    GET  /imports/jobs/{id}               deprecated: the job at /api/v1/jobs/{id}

Starting an import or a large export answers 202 with the core `JobOut` and a
`Location: /api/v1/jobs/{id}`; an import's counts and bad rows are in its `result`
(shape in `core/jobs_api.py`).
    GET  /imports/exports/{resource}.csv  the list as filtered, streamed as CSV
    GET  /imports/exports/{resource}.xlsx  as XLSX (202 and a job above 50,000 rows)
"""

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from ninja import File, Form, Router
from ninja.files import UploadedFile

from salesplan.core.edge import BodyRefused, parse_json
from salesplan.core.jobs_api import ACCEPTED, accepted, add_deprecated_alias
from salesplan.core.permissions import require

from . import exports, selectors, services
from .columns import RESOURCE_ALIASES, RESOURCES

imports_router = Router(tags=["imports and exports"])


def _resource(name: str) -> str:
    resource = RESOURCE_ALIASES.get(name, name)
    if resource not in RESOURCES:
        raise Http404
    return resource


@imports_router.post("/{resource}", **ACCEPTED, summary="Upload a file and dry-run it")
def upload_and_dry_run(request, response: HttpResponse, resource: str, file: File[UploadedFile],
                       on_duplicate: Form[str] = "skip", mapping: Form[str] = "",
                       pipeline_id: Form[int | None] = None, skip_bad_rows: Form[bool] = False):
    """`mapping` is optional JSON {"column name": "field"}; columns left out are matched
    by name (or by the mapping you used last time for the same columns).

    `skip_bad_rows`: the commit writes the good rows and leaves the bad ones out (they
    come back as a CSV file at the job's `download_url`); by default nothing is written
    while any row is bad."""
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
                                pipeline_id=pipeline_id, skip_bad_rows=skip_bad_rows)
    return accepted(response, job)


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


@imports_router.post("/jobs/{job_id}/commit", **ACCEPTED,
                     summary="Import for real after a clean dry run")
def commit(request, response: HttpResponse, job_id: int):
    dry_run = selectors.job_for(request.user, job_id)
    if dry_run.kind != services.IMPORT_JOB or not dry_run.params.get("dry_run"):
        raise ValidationError({"job_id": "This is not an import dry run."})
    import_file = selectors.import_file_for(request.user, dry_run.params["import_file"])
    job = services.start_import(
        import_file, by=request.user, mapping=dry_run.params["mapping"],
        on_duplicate=dry_run.params["on_duplicate"], dry_run=False,
        pipeline_id=dry_run.params.get("pipeline"),
        skip_bad_rows=dry_run.params.get("skip_bad_rows", False))
    return accepted(response, job)


add_deprecated_alias(imports_router, "/jobs/{job_id}", kinds=(services.IMPORT_JOB,
                     services.EXPORT_JOB), what="import or export job", operation_id="job_status")


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


@imports_router.get("/exports/{resource}.xlsx", **ACCEPTED,
                    summary="Export a list as XLSX (a job when large)")
def export_xlsx(request, response: HttpResponse, resource: str):
    import tempfile

    name = _export_resource(request, resource)
    rows = exports.export_rows(request.user, name, request.GET)
    if rows.order_by()[: exports.XLSX_INLINE_LIMIT + 1].count() > exports.XLSX_INLINE_LIMIT:
        job = services.start_export(by=request.user, resource=name,
                                    params=dict(request.GET.lists()), fmt="xlsx")
        return accepted(response, job)
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
