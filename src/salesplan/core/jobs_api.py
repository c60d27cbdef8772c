"""One place to follow any long work: GET /api/v1/jobs/{id} and GET /api/v1/jobs.

Every kind of background work (imports, exports, territory assignment and optimisation,
scoring, quality scans, plan evaluation) is a `BackgroundJob`; a client that started
one follows it here, whatever the app, in one shape. A job is its creator's; an admin
sees everyone's. Someone else's job answers 404, like a missing one.
"""

from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse
from ninja import Field, Query, Router, Schema

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
    job = visible_jobs(request.auth).filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"No job with id {job_id}.")
    return job_out(job)
