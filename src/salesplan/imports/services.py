"""Every write of the imports app: uploads, remembered mappings, import and export jobs."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File

from salesplan.core.jobs import Progress, start_job
from salesplan.core.models import BackgroundJob
from salesplan.core.permissions import has_permission, require

from . import exports
from .columns import RESOURCES
from .importer import Importer, ImportOptions, describe
from .models import ImportFile, ImportMapping, header_key
from .readers import UnreadableFile, open_table

IMPORT_JOB = "import"
READABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
EXPORT_JOB = "export"


def upload_import_file(*, by, resource: str, upload) -> ImportFile:
    """Keep an uploaded CSV/XLSX file for import after checking it can be read."""
    if resource not in RESOURCES:
        raise ValidationError({"resource": "Choose accounts, contacts, leads or opportunities."})
    require(by, resource, "create")
    name = getattr(upload, "name", "upload.csv") or "upload.csv"
    if not name.lower().endswith(READABLE_SUFFIXES):
        raise ValidationError({"file": "Upload a CSV file or an Excel workbook (.xlsx)."})
    try:
        table = open_table(upload, name)
    except UnreadableFile as exc:
        raise ValidationError({"file": str(exc)}) from exc
    if callable(table.close):
        table.close()
    upload.seek(0)
    import_file = ImportFile(resource=resource, uploaded_by=by, original_name=name[:255],
                             headers=table.headers, estimated_rows=table.estimated_rows)
    import_file.file.save(name, upload if isinstance(upload, File) else File(upload),
                          save=False)
    import_file.save()
    return import_file


def remember_mapping(*, by, resource: str, headers: list[str], mapping: list[str]) -> None:
    """Store the person's column choices for this record type and set of columns."""
    by_header = {h: f for h, f in zip(headers, mapping, strict=False) if f}
    ImportMapping.objects.update_or_create(
        user=by, resource=resource, header_key=header_key(headers),
        defaults={"mapping": by_header})


def import_params(import_file: ImportFile, *, mapping: list[str], on_duplicate: str,
                  dry_run: bool, pipeline_id: int | None = None,
                  skip_bad_rows: bool = False) -> dict:
    return {"import_file": import_file.pk, "resource": import_file.resource,
            "mapping": list(mapping), "on_duplicate": on_duplicate, "dry_run": dry_run,
            "pipeline": pipeline_id, "skip_bad_rows": skip_bad_rows}


def start_import(import_file: ImportFile, *, by, mapping: list[str], on_duplicate: str = "skip",
                 dry_run: bool = True, pipeline_id: int | None = None,
                 skip_bad_rows: bool = False) -> BackgroundJob:
    """Start a dry run or a commit of an uploaded file as a background job.

    A commit is refused until a dry run with the same settings has run: without errors
    for an all-or-nothing import; for one that skips bad rows, the dry run showed which
    rows would be left out, and at least one row would be written.
    """
    from .tasks import run_import

    if import_file.uploaded_by_id != by.pk:
        raise PermissionDenied("This upload belongs to someone else.")
    require(by, import_file.resource, "create")
    params = import_params(import_file, mapping=mapping, on_duplicate=on_duplicate,
                           dry_run=dry_run, pipeline_id=pipeline_id,
                           skip_bad_rows=skip_bad_rows)
    # Fail fast on a bad mapping: the person is still on the mapping page.
    Importer(by, options_from(params), import_file.headers)
    if not dry_run and not passed_dry_run(by, params):
        raise ValidationError({"dry_run": (
            "Run a dry run with these settings first; then import." if skip_bad_rows else
            "Run a dry run with these settings first and fix every bad row (or choose to "
            "import the good rows only); then import.")})
    remember_mapping(by=by, resource=import_file.resource, headers=import_file.headers,
                     mapping=mapping)
    return start_job(IMPORT_JOB, by=by, task=run_import, params=params,
                     result={"dry_run": dry_run})


def passed_dry_run(user, params: dict) -> bool:
    wanted = {**params, "dry_run": True}
    for job in BackgroundJob.objects.filter(kind=IMPORT_JOB, created_by=user,
                                            status=BackgroundJob.Status.SUCCEEDED)[:20]:
        if job.params == wanted and dry_run_allows_import(job.params, job.result):
            return True
    return False


def dry_run_allows_import(params: dict, result: dict) -> bool:
    """A clean dry run, or one that skips bad rows and still has rows to write."""
    if not result.get("error_count"):
        return True
    return bool(params.get("skip_bad_rows")) and (
        result.get("created", 0) + result.get("updated", 0) > 0)


def options_from(params: dict) -> ImportOptions:
    return ImportOptions(resource=params["resource"], mapping=params["mapping"],
                         on_duplicate=params.get("on_duplicate", "skip"),
                         dry_run=params.get("dry_run", True),
                         pipeline_id=params.get("pipeline"),
                         skip_bad_rows=params.get("skip_bad_rows", False))


def run_import_job(job: BackgroundJob) -> tuple[dict, str]:
    """The work of an import job (run by the task): read the kept file and import it."""
    import_file = ImportFile.objects.get(pk=job.params["import_file"])
    with import_file.file.open("rb") as handle:
        table = open_table(handle, import_file.original_name)
        importer = Importer(job.created_by, options_from(job.params), table.headers)
        progress = Progress(job, total=max(table.estimated_rows, 1))
        report = importer.run(table.rows, progress)
    result = report.as_dict()
    if report.bad_row_cells:
        name = f"import-{job.pk}-bad-rows.csv"
        job.file.save(name, ContentFile(bad_rows_csv(table.headers, report.bad_row_cells)),
                      save=False)
        BackgroundJob.objects.filter(pk=job.pk).update(file=job.file.name)
        result["file_name"] = name
    return result, summary(report)


def bad_rows_csv(headers: list[str], rows: list[tuple[int, list[str], str]]) -> bytes:
    """The bad rows as they were in the file, with the row number and what is wrong, to
    fix in a spreadsheet and import again (the first two columns are then left unmapped)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Row", "Problems", *headers])
    for number, cells, reasons in rows:
        writer.writerow([number, exports.safe_cell(reasons),
                         *(exports.safe_cell(c) for c in cells)])
    # A byte-order mark so spreadsheet programs read accents as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _rows(count: int) -> str:
    return f"{count:,} row{'s' if count != 1 else ''}"


def summary(report) -> str:
    if report.error_count and report.skip_bad_rows:
        if report.dry_run:
            return (f"Dry run: {report.created:,} to create, {report.updated:,} to update, "
                    f"{report.skipped:,} to skip; {_rows(report.bad_rows)} with problems "
                    "will be left out. Nothing has been written yet.")
        return (f"Imported the good rows: {report.created:,} created, {report.updated:,} "
                f"updated, {report.skipped:,} skipped; {_rows(report.bad_rows)} with "
                "problems left out (download them, fix and import again).")
    if report.error_count:
        verb = "Checked" if report.dry_run else "Nothing was imported:"
        return (f"{verb} {_rows(report.rows)}; {_rows(report.bad_rows)} to fix "
                f"({report.error_count:,} problem{'s' if report.error_count != 1 else ''}).")
    if report.dry_run:
        return (f"Dry run: {report.created:,} to create, {report.updated:,} to update, "
                f"{report.skipped:,} to skip. Nothing has been written yet.")
    return (f"Imported: {report.created:,} created, {report.updated:,} updated, "
            f"{report.skipped:,} skipped.")


def import_path(path: str, *, by, resource: str, mapping: list[str] | None = None,
                overrides: dict[str, str] | None = None, on_duplicate: str = "skip",
                dry_run: bool = False, pipeline_id: int | None = None,
                skip_bad_rows: bool = False):
    """Import a file from disk straight away (the CLI): returns the ImportReport."""
    from .selectors import mapping_for_headers

    with open(path, "rb") as handle:
        table = open_table(handle, path)
        if mapping is None:
            mapping = mapping_for_headers(by, resource, table.headers)
        for column, field in (overrides or {}).items():
            if column not in table.headers:
                raise ValidationError({column: "The file has no column with this name."})
            mapping[table.headers.index(column)] = field
        options = ImportOptions(resource=resource, mapping=mapping, on_duplicate=on_duplicate,
                                dry_run=dry_run, pipeline_id=pipeline_id,
                                skip_bad_rows=skip_bad_rows)
        return Importer(by, options, table.headers).run(table.rows)


__all__ = ["describe", "start_export", "start_import", "upload_import_file"]


def start_export(*, by, resource: str, params: dict, fmt: str = "xlsx") -> BackgroundJob:
    """Write a large export to a file in the background; the job page offers it."""
    from .tasks import run_export

    if not has_permission(by, resource, "view"):
        raise PermissionDenied(f"You may not view {resource} records.")
    return start_job(EXPORT_JOB, by=by, task=run_export,
                     params={"resource": resource, "params": params, "format": fmt})


def run_export_job(job: BackgroundJob) -> tuple[dict, str]:
    """The work of an export job: write the file and attach it to the job."""
    import tempfile

    resource, fmt = job.params["resource"], job.params.get("format", "xlsx")
    rows = exports.export_rows(job.created_by, resource, job.params.get("params", {}))
    total = rows.count()
    progress = Progress(job, total=max(total, 1))
    with tempfile.TemporaryFile() as handle:
        if fmt == "csv":
            for line in exports.csv_lines(rows, resource):
                handle.write(line.encode())
            count = total
        else:
            count = exports.write_xlsx(rows, resource, handle, progress)
        handle.seek(0)
        name = exports.export_filename(resource, fmt)
        job.file.save(name, ContentFile(handle.read()), save=False)
    BackgroundJob.objects.filter(pk=job.pk).update(file=job.file.name)
    return {"rows": count, "file_name": name}, f"Exported {count:,} rows."
