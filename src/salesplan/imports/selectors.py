"""Reads for imports and jobs, restricted to what the person may see."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from salesplan.core.models import BackgroundJob

from .columns import guess_mapping
from .models import ImportFile, ImportMapping, header_key


def mapping_for_headers(user, resource: str, headers: list[str]) -> list[str]:
    """The person's remembered mapping for these columns, else our best guess."""
    remembered = ImportMapping.objects.filter(
        user=user, resource=resource, header_key=header_key(headers)).first()
    guessed = guess_mapping(resource, headers)
    if remembered is None:
        return guessed
    return [remembered.mapping.get(h, "") for h in headers]


def import_file_for(user, pk: int) -> ImportFile:
    import_file = get_object_or_404(ImportFile, pk=pk)
    if import_file.uploaded_by_id != user.pk:
        raise PermissionDenied("This upload belongs to someone else.")
    return import_file


def job_for(user, pk: int) -> BackgroundJob:
    """A job its creator (or an admin) may follow."""
    job = get_object_or_404(BackgroundJob, pk=pk)
    if job.created_by_id != user.pk and not getattr(user, "is_admin", False):
        raise PermissionDenied("This job belongs to someone else.")
    return job


def recent_jobs(user, limit: int = 20):
    return BackgroundJob.objects.filter(created_by=user)[:limit]
