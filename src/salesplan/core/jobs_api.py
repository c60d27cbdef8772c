"""One place to follow any long work: GET /api/v1/jobs/{id} and GET /api/v1/jobs.

Every kind of background work (imports, exports, territory assignment and optimisation,
scoring, quality scans, plan evaluation) is a `BackgroundJob`; a client that started
one follows it here, whatever the app, in one shape. A job is its creator's; an admin
sees everyone's. Someone else's job answers 404, like a missing one.

Every endpoint that starts long work answers `202 Accepted` with this `JobOut` and a
`Location: /api/v1/jobs/{id}` header (`accepted()` below; declare the operation with
`**ACCEPTED`). What a job produced is in `result`, shaped by its kind:

- `import`: `dry_run`, `rows`, `created`, `updated`, `skipped`, `committed`,
  `error_count` (problems), `bad_rows` (rows with at least one problem), `skip_bad_rows`,
  `errors` (a list of `{row, column, message}`, at most 500) and `warnings`; when rows
  were bad, those rows with their problems as CSV at `download_url`.
- `export`: `rows`, `file_name`; the file is at `download_url`.
- `bulk_account`, `bulk_contact`, `bulk_lead`, `bulk_opportunity`: `action`,
  `rows_total`, `done`, `refused` and `rows` (a list of `{id, status: done|refused,
  reason}`, with a `note` where the row has one, e.g. "2 contacts added"; at most
  10,000); an export adds `file_name`, its CSV at `download_url`.
- `plan_change` (a previewed allocation, re-plan or undo of a plan's targets): `plan_id`,
  `kind`, `lines_changed`, `past_months` and `undo` (the figures it replaced, which
  `POST /plans/{id}/changes/{job}/undo/preview` offers to put back).
- `territory_activation` (a previewed activation of a draft alignment): `alignment_id`,
  `realignment_id`, `accounts_moved`, `owners_changed`.
- every other kind: the counts its summary message speaks of.
"""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from salesplan.core.errors import NotFound
from salesplan.core.models import BackgroundJob

router = Router(tags=["jobs"])


class JobOut(Schema):
    """A background job: what it is, how far it got, and its outcome."""

    id: int
    kind: str = Field(description="What the job does, e.g. import, territory_assignment.")
    status: str = Field(description="queued, running, succeeded or failed.")
    message: str
    progress_done: int
    progress_total: int
    percent: int = Field(description="0–100; 100 once it succeeded.")
    finished: bool
    result: dict = Field(description="The outcome, shaped by the kind of job.")
    download_url: str | None = Field(None, description="The file it produced, if any.")
    created_at: datetime
    finished_at: datetime | None = None


def job_out(job: BackgroundJob) -> JobOut:
    download = (reverse("web:imports:job_download", args=[job.pk])
                if job.file and job.status == BackgroundJob.Status.SUCCEEDED else None)
    return JobOut(id=job.pk, kind=job.kind, status=job.status, message=job.message,
                  progress_done=job.progress_done, progress_total=job.progress_total,
                  percent=job.percent, finished=job.finished, result=job.result or {},
                  download_url=download, created_at=job.created_at,
                  finished_at=job.finished_at)


JOBS_PATH = "/api/v1/jobs/"

ACCEPTED: dict[str, Any] = {
    "response": {202: JobOut},
    "openapi_extra": {"responses": {202: {
        "description": "Accepted: the job started; follow it at its Location",
        "headers": {"Location": {"description": "/api/v1/jobs/{id}, where the job is "
                                                "followed", "schema": {"type": "string"}}},
    }}},
}
"""The operation options of an endpoint that starts long work:
`@router.post("/...", **ACCEPTED)` (202, one JobOut, the Location header documented)."""


def accepted(response: HttpResponse, job: BackgroundJob) -> Status:
    """202 with the job and where to follow it: `return accepted(response, job)` from a
    view that takes `response: HttpResponse` (django-ninja copies its headers)."""
    job.refresh_from_db()
    response["Location"] = f"{JOBS_PATH}{job.pk}"
    return Status(202, job_out(job))


def visible_jobs(user) -> QuerySet[BackgroundJob]:
    """The jobs a user may follow: their own; an admin's, everyone's."""
    jobs = BackgroundJob.objects.all()
    if not getattr(user, "is_admin", False):
        jobs = jobs.filter(created_by=user)
    return jobs


class JobFilter(Schema):
    kind: str | None = Field(None, description="Only jobs of this kind.")
    limit: int = Field(20, ge=1, le=100)


@router.get("", response=list[JobOut], summary="Your latest background jobs")
def list_jobs(request, filters: Query[JobFilter]):
    jobs = visible_jobs(request.auth).order_by("-created_at", "-id")
    if filters.kind:
        jobs = jobs.filter(kind=filters.kind)
    return [job_out(job) for job in jobs[:filters.limit]]


@router.get("/{int:job_id}", response=JobOut, summary="A background job's progress and outcome")
def get_job(request, job_id: int):
    return job_out(followed_job(request.auth, job_id))


def followed_job(user, job_id: int, *, kinds: tuple[str, ...] | None = None,
                 missing: str = "job") -> BackgroundJob:
    """A job the user may follow (of one of `kinds` if given), else 404."""
    jobs = visible_jobs(user)
    if kinds is not None:
        jobs = jobs.filter(kind__in=kinds)
    job = jobs.filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"No {missing} with id {job_id}.")
    return job


def add_deprecated_alias(router: Router, path: str, *, kinds: tuple[str, ...], what: str,
                         operation_id: str) -> None:
    """Keep an app's old job-status address (`path`, with a `{job_id}`) for existing
    clients: the same JobOut as /api/v1/jobs/{id}, for the app's own kinds of job."""
    def alias(request, job_id: int) -> JobOut:
        return job_out(followed_job(request.auth, job_id, kinds=kinds, missing=what))

    alias.__name__ = operation_id
    router.get(path, response=JobOut, deprecated=True, operation_id=operation_id,
               summary=f"A {what} (deprecated: {JOBS_PATH}{{id}})",
               description=f"Deprecated: follow the job at {JOBS_PATH}{{id}} (the `Location` "
                           "of the 202 that started it), which answers the same JobOut. This "
                           f"address stays for existing clients and shows only a {what}.",
               )(alias)
