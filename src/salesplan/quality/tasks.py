"""Background work for quality control (django.tasks; inline or on a worker)."""

from django.tasks import task

from salesplan.core.jobs import Progress, run_job


def _scan(job) -> tuple[dict, str]:
    from .models import DuplicateScan
    from .scanning import run_scan

    record_type = job.params["record_type"]
    progress = Progress(job, total=100, every=1)
    scan = DuplicateScan.objects.create(record_type=record_type, job=job)
    run_scan(record_type, scan=scan,
             progress=lambda step, fraction: progress.advance_to(int(fraction * 99), step))
    message = (f"Compared {scan.pairs_compared:,} pairs among {scan.records:,} "
               f"{record_type}s; {scan.candidates:,} likely duplicates.")
    return {"scan_id": scan.pk, "records": scan.records, "candidates": scan.candidates,
            "pairs_compared": scan.pairs_compared}, message


@task
def scan_duplicates(job_id: int) -> dict:
    """Scan one record type for duplicates; progress goes to the job row."""
    return run_job(job_id, _scan)


def _snapshot(job) -> tuple[dict, str]:
    from .scoring import take_snapshot

    Progress(job, total=1, every=1)
    result = take_snapshot()
    return result, f"Scores taken for {result['people']} people and their teams."


@task
def snapshot_scores(job_id: int) -> dict:
    """Take today's data-quality scores."""
    return run_job(job_id, _snapshot)


def _count(job) -> tuple[dict, str]:
    from .counting import refresh_issue_counts

    Progress(job, total=1, every=1)
    run = refresh_issue_counts()
    total = sum(run.counts.values_list("count", flat=True))
    return ({"run_id": run.pk, "issues": total},
            f"Counted {total:,} issues over every record in {run.seconds} s.")


@task
def count_issues(job_id: int) -> dict:
    """Count every check over every record for the company-wide overview."""
    return run_job(job_id, _count)


@task
def recount_card(user_id: int) -> None:
    """Recount one person's dashboard card (see selectors.dashboard_card)."""
    from salesplan.org.models import User

    from .selectors import store_card_counts

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is not None:
        store_card_counts(user)
