"""The company-wide issue counts: a stored run equals a live count of every check at its
time, the executive's overview shows it with its time (exact, not capped), a rep still
counts live, and counting again brings the figures up to date."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from salesplan.core.clock import company_today
from salesplan.quality import checks as qc
from salesplan.quality import selectors
from salesplan.quality.counting import latest_counts, refresh_issue_counts
from salesplan.quality.models import IssueCountRun
from salesplan.quality.scoring import Everyone, take_snapshot
from salesplan.quality.services import apply_fix

from ..factories import make_lead, make_opportunity
from .conftest import backdate, push_close_date, recent_activity


@pytest.fixture
def issues(org):
    """Late deals for two reps, a deal pushed back twice, an untouched lead and an
    overdue task."""
    late = [make_opportunity(rep, close_date=company_today() - timedelta(days=3))
            for rep in (org.west_rep, org.west_rep, org.west_rep, org.east_rep)]
    pushed = make_opportunity(org.east_rep)
    for days in (10, 5):
        push_close_date(pushed, company_today(), company_today() + timedelta(days=days))
    backdate(make_lead(org.west_rep2), 5)
    recent_activity(late[0], days_ago=3, done=False)
    return late


def live_table(ctx) -> dict[int, Counter]:
    """The naive tally: every flagged record of every check, owner by owner."""
    table: dict[int, Counter] = {}
    for check in qc.CHECKS.values():
        for record in check.query(Everyone(), ctx):
            owner = selectors.owner_of(check, record)
            assert owner is not None
            table.setdefault(owner.pk, Counter())[check.key] += 1
    return table


def test_a_run_equals_a_live_count_of_every_check(org, issues):
    ctx = qc.Context.current()
    run = refresh_issue_counts(ctx)
    stored = latest_counts()
    assert stored is not None and stored.counted_at == run.counted_at == ctx.now
    assert stored.by_owner == live_table(ctx)
    for check in qc.CHECKS.values():
        assert stored.totals.get(check.key, 0) == check.query(Everyone(), ctx).count()
    assert stored.totals["past_close_date"] == 4


def test_the_executive_sees_exact_stored_counts_with_their_time(org, issues, monkeypatch,
                                                                client):
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    refresh_issue_counts()
    by_key = {c.check.key: c for c in selectors.check_counts(org.executive)}
    assert (by_key["past_close_date"].count, by_key["past_close_date"].capped) == (4, False)
    assert by_key["past_close_date"].counted_at is not None
    rep = {c.check.key: c for c in selectors.check_counts(org.west_rep)}
    assert (rep["past_close_date"].count, rep["past_close_date"].capped) == (2, True)
    assert rep["past_close_date"].counted_at is None  # a rep's own view is live
    rows, notes = selectors.counts_by_owner(org.executive)
    assert {r["owner_id"]: r["counts"].get("past_close_date", 0) for r in rows}[
        org.west_rep.pk] == 3
    assert notes and notes[0].startswith("Counted at")
    client.force_login(org.executive)
    html = client.get("/quality/").content.decode()
    # The executive reads the company-wide counts; counting again is a write, an admin's.
    assert "Company-wide counts as of" in html and "Count again now" not in html
    client.force_login(org.admin)
    assert "Count again now" in client.get("/quality/").content.decode()


def test_counting_again_catches_up_with_fixes(org, issues):
    refresh_issue_counts()
    late = issues[3]
    apply_fix("past_close_date", late.pk, by=org.east_rep,
              data={"close_date": (company_today() + timedelta(days=9)).isoformat()})
    assert latest_counts().totals["past_close_date"] == 4  # as of its stated time
    refresh_issue_counts()
    assert latest_counts().totals["past_close_date"] == 3


def test_only_admins_recount(org, issues, client, django_capture_on_commit_callbacks):
    client.force_login(org.west_rep)
    assert client.post("/quality/recount/").status_code == 403
    client.force_login(org.executive)  # read-only
    assert client.post("/quality/recount/").status_code == 403
    assert IssueCountRun.objects.count() == 0
    client.force_login(org.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/quality/recount/")
    assert response.status_code == 302
    assert IssueCountRun.objects.count() == 1


def test_the_daily_snapshot_stores_the_counts_too_and_old_runs_go(org, issues):
    for _ in range(4):
        refresh_issue_counts()
    take_snapshot()
    assert IssueCountRun.objects.count() == 3
    newest = IssueCountRun.objects.order_by("-counted_at").first()
    assert newest is not None and newest.counted_at <= timezone.now()
    assert latest_counts().totals["close_date_pushed"] == 1
