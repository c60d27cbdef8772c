"""Import, export and job pages. Thin: every decision is in services and selectors."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from salesplan.core.models import BackgroundJob
from salesplan.core.permissions import has_permission, require

from . import exports, selectors, services
from .forms import MappingForm, UploadForm
from .importer import describe


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v)
                        for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


@login_required
def upload(request):
    """Step 1: choose the record type and the file."""
    require(request.user, "data_import", "run")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            import_file = services.upload_import_file(
                by=request.user, resource=form.cleaned_data["resource"],
                upload=form.cleaned_data["file"])
        except ValidationError as exc:
            form.add_error("file", _error_text(exc))
        else:
            return redirect("web:imports:map", pk=import_file.pk)
    return render(request, "imports/upload.html", {"form": form})


@login_required
def map_columns(request, pk: int):
    """Step 2: say which field each column fills; then run the dry run."""
    import_file = selectors.import_file_for(request.user, pk)
    initial = selectors.mapping_for_headers(request.user, import_file.resource,
                                            import_file.headers)
    form = MappingForm(request.POST or None, resource=import_file.resource,
                       headers=import_file.headers, initial_mapping=initial)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.start_import(
                import_file, by=request.user, mapping=form.mapping(),
                on_duplicate=form.cleaned_data["on_duplicate"], dry_run=True,
                pipeline_id=form.pipeline_id(),
                skip_bad_rows=form.cleaned_data["skip_bad_rows"])
        except ValidationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            return redirect("web:imports:job", pk=job.pk)
    return render(request, "imports/mapping.html", {"form": form, "import_file": import_file})


@login_required
@require_POST
def commit(request, pk: int):
    """Step 3: after a clean dry run, import for real with the same settings."""
    dry_run = selectors.job_for(request.user, pk)
    if dry_run.kind != services.IMPORT_JOB or not dry_run.params.get("dry_run"):
        raise Http404("Not a dry run.")
    import_file = selectors.import_file_for(request.user, dry_run.params["import_file"])
    try:
        job = services.start_import(
            import_file, by=request.user, mapping=dry_run.params["mapping"],
            on_duplicate=dry_run.params["on_duplicate"], dry_run=False,
            pipeline_id=dry_run.params.get("pipeline"),
            skip_bad_rows=dry_run.params.get("skip_bad_rows", False))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("web:imports:job", pk=dry_run.pk)
    return redirect("web:imports:job", pk=job.pk)


@login_required
def job_detail(request, pk: int):
    """A job's progress; htmx polls the status part every second until it finishes."""
    job = selectors.job_for(request.user, pk)
    template = "imports/job.html"
    if request.htmx:
        template += "#status"
    problems = [dict(p, text=describe(p)) for p in job.result.get("errors", [])[:500]]
    return render(request, template, {"job": job, "problems": problems,
                                      "can_commit": _can_commit(job)})


def _can_commit(job: BackgroundJob) -> bool:
    return (job.kind == services.IMPORT_JOB and job.status == BackgroundJob.Status.SUCCEEDED
            and job.params.get("dry_run")
            and services.dry_run_allows_import(job.params, job.result))


@login_required
def job_list(request):
    return render(request, "imports/jobs.html", {"jobs": selectors.recent_jobs(request.user)})


@login_required
def job_download(request, pk: int):
    job = selectors.job_for(request.user, pk)
    if not job.file or not job.finished:
        raise Http404("This job has no file.")
    name = job.result.get("file_name") or (job.file.name or "").rsplit("/", 1)[-1]
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=name)


@login_required
def job_errors_csv(request, pk: int):
    """Every bad row of an import as CSV, to fix the file in a spreadsheet."""
    job = selectors.job_for(request.user, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    writer = csv.writer(response)
    writer.writerow(["Row", "Column", "Problem"])
    for problem in job.result.get("errors", []):
        writer.writerow([problem["row"], exports.safe_cell(problem["column"]),
                         exports.safe_cell(problem["message"])])
    return response


@login_required
def export(request, resource: str, fmt: str):
    """/exports/<resource>.csv|.xlsx?<the list page's filters>: exactly the visible rows."""
    name = exports.resource_name(resource)
    if name is None:
        raise Http404("Nothing to export here.")
    if not has_permission(request.user, name, "view"):
        raise PermissionDenied
    try:
        rows = exports.export_rows(request.user, name, request.GET)
    except ValidationError as exc:
        return HttpResponse(_error_text(exc), status=400, content_type="text/plain")
    filename = exports.export_filename(name, fmt)
    if fmt == "csv":
        response = StreamingHttpResponse(exports.csv_lines(rows, name),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    if rows.order_by()[: exports.XLSX_INLINE_LIMIT + 1].count() > exports.XLSX_INLINE_LIMIT:
        job = services.start_export(by=request.user, resource=name,
                                    params=dict(request.GET.lists()), fmt="xlsx")
        return redirect("web:imports:job", pk=job.pk)
    return _xlsx_response(rows, name, filename)


def _xlsx_response(rows, name: str, filename: str) -> FileResponse:
    import tempfile

    handle = tempfile.TemporaryFile()
    exports.write_xlsx(rows, name, handle)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=filename,
                        content_type="application/vnd.openxmlformats-officedocument"
                                     ".spreadsheetml.sheet")
