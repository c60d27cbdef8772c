"""A worker killed during an optimisation: the broker delivers the job again, and the
manager still finds exactly one draft for the run."""

import pytest

from salesplan.core import jobs
from salesplan.core.models import BackgroundJob
from salesplan.territories import optimisation
from salesplan.territories.models import Alignment, OptimisationRun
from salesplan.territories.optimisation import OptimisationRequest, start_optimisation
from salesplan.territories.tasks import run_optimisation

from .conftest import grant_map
from .test_optimisation import BUDGET, lopsided_map


class WorkerKilled(BaseException):
    """Stands for the worker process dying: no handler of the job catches it."""


@pytest.fixture
def queued_run(org) -> OptimisationRun:
    grant_map(org.west_manager)
    alignment, region, _ = lopsided_map(org)
    return start_optimisation(alignment, by=org.west_manager, request=OptimisationRequest(
        parent_id=region.pk, budget=BUDGET, tau=0.05))


def _drafts() -> int:
    return Alignment.objects.filter(status=Alignment.Status.DRAFT).count()


def _deliver(run: OptimisationRun) -> None:
    try:
        run_optimisation.call(run.job_id)
    except WorkerKilled:
        pass


def test_killed_while_writing_the_draft_keeps_nothing_and_the_next_delivery_writes_one(
        queued_run, monkeypatch):
    real = optimisation.run_metrics

    def dies(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(optimisation, "run_metrics", dies)
    _deliver(queued_run)
    assert _drafts() == 0  # the half-written draft went with the worker
    monkeypatch.setattr(optimisation, "run_metrics", real)
    _deliver(queued_run)
    queued_run.refresh_from_db()
    assert queued_run.job.status == BackgroundJob.Status.SUCCEEDED, queued_run.job.message
    assert queued_run.job.attempts == 2
    assert _drafts() == 1 and queued_run.draft is not None


def test_killed_after_the_draft_was_written_the_next_delivery_reports_that_draft(
        queued_run, monkeypatch):
    real = jobs.finish_job
    calls = []

    def dies_first_time(job, **kwargs):
        calls.append(job.pk)
        if len(calls) == 1:
            raise WorkerKilled
        real(job, **kwargs)

    monkeypatch.setattr(jobs, "finish_job", dies_first_time)
    _deliver(queued_run)
    queued_run.refresh_from_db()
    first_draft = queued_run.draft_id
    assert first_draft is not None and queued_run.job.status == BackgroundJob.Status.RUNNING
    _deliver(queued_run)
    queued_run.refresh_from_db()
    assert queued_run.job.status == BackgroundJob.Status.SUCCEEDED, queued_run.job.message
    assert _drafts() == 1 and queued_run.draft_id == first_draft
    assert queued_run.job.result["draft_id"] == first_draft
