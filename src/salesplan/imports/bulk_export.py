"""The lists' bulk action "export": the chosen rows, only those the user may see, as a
CSV file attached to the job (the export's own columns, so the file maps itself on
re-import; or the list's columns the user chose, `values.columns`)."""

import csv
import io

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from salesplan.core.listing import column_value
from salesplan.core.models import BackgroundJob
from salesplan.customers.bulk import BulkAction, register_action
from salesplan.customers.filters import ACCOUNT_LIST, CONTACT_LIST, LEAD_LIST
from salesplan.pipeline.filters import OPPORTUNITY_LIST

from . import exports

LISTS = {"account": ACCOUNT_LIST, "contact": CONTACT_LIST, "lead": LEAD_LIST,
         "opportunity": OPPORTUNITY_LIST}


def _clean(user, resource: str, values: dict) -> dict:
    raw = values.get("columns") or []
    if not isinstance(raw, str | list):
        raise ValidationError({"columns": "Give the column names as a list or separated by "
                                          "commas."})
    keys = raw.split(",") if isinstance(raw, str) else [str(k) for k in raw]
    keys = [k.strip() for k in keys if k.strip()]
    unknown = [k for k in keys if k not in LISTS[resource].columns]
    if unknown:
        raise ValidationError({"columns": "Choose from: " + ", ".join(LISTS[resource].columns)})
    return {"columns": keys}


def _write(job, user, resource: str, cleaned: dict, done_ids: list[int]) -> dict:
    """The CSV of the rows exported (read again as the user sees them), in id order."""
    rows = exports.SELECTORS[resource](user, {}).filter(pk__in=done_ids).order_by("pk")
    if cleaned["columns"]:
        chosen = LISTS[resource].chosen_columns(",".join(cleaned["columns"]))
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([column.label for _, column in chosen])
        for record in rows.iterator(chunk_size=2000):
            writer.writerow([exports.safe_cell(_text(column_value(record, column.path)))
                             for _, column in chosen])
        text = "\ufeff" + buffer.getvalue()
    else:
        text = "".join(exports.csv_lines(rows, resource))
    name = exports.export_filename(resource, "csv")
    job.file.save(name, ContentFile(text.encode()), save=False)
    BackgroundJob.objects.filter(pk=job.pk).update(file=job.file.name)
    return {"rows": len(done_ids), "file_name": name}


def _text(value) -> object:
    return value if isinstance(value, int | float | bool) or value is None else str(value)


def register() -> None:
    register_action(BulkAction(
        "export", "Export to CSV", ("account", "contact", "lead", "opportunity"), _clean,
        apply=lambda user, resource, obj, cleaned: None,
        before=lambda resource, obj: "",
        after=lambda user, resource, obj, cleaned: "exported", finish=_write))
