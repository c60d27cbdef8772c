"""Allocation, re-plan and undo are previewed first (nothing written), then applied by a
job that writes exactly the previewed figures; a stale preview is refused."""

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
import time_machine
from django.core.exceptions import ValidationError

from salesplan.core.errors import PreviewChanged, StaleVersion
from salesplan.core.models import AuditEntry, BackgroundJob
from salesplan.planning import changes, services
from salesplan.planning.models import Measure, MonthlyTarget, Objective, Plan

from .conftest import FY, pv
from .test_evaluation import targets  # noqa: F401 - the shared fixture

APRIL = time_machine.travel(datetime(FY, 4, 15, 12, tzinfo=UTC), tick=False)


def _stored(plan) -> tuple:
    """Everything a change could write: objectives, months, the plan row, audit, jobs."""
    return (list(Objective.objects.filter(plan=plan).values().order_by("pk")),
            list(MonthlyTarget.objects.filter(objective__plan=plan).values().order_by("pk")),
            list(Plan.objects.filter(pk=plan.pk).values()), AuditEntry.objects.count(),
            BackgroundJob.objects.count())


def _year(objective) -> list[D]:
    return list(objective.months.order_by("month").values_list("target", flat=True))


@pytest.fixture
def allocated(org, west_plan):
    """Bookings 2,400 (200 a month), split evenly: each west rep 1,200 (100 a month)."""
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=D("2400"))
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    return top


def _apply(plan, by, preview, capture):
    with capture(execute=True):
        job = changes.confirm(plan, by=by, token=preview.token,
                              version=Plan.objects.get(pk=plan.pk).version)
    job.refresh_from_db()
    return job


@APRIL
def test_allocation_preview_shows_who_gains_and_loses_and_writes_nothing(org, allocated):
    plan = allocated.plan
    before = _stored(plan)
    preview = changes.preview_allocation(
        allocated, by=org.west_manager, to="reps", method="custom",
        weights={org.west_rep.pk: 3, org.west_rep2.pk: 1})
    assert _stored(plan) == before
    rows = {r.label: r for r in preview.rows}
    one, two = rows[str(org.west_rep)], rows[str(org.west_rep2)]
    assert (one.before_total, one.after_total, one.change) == (D("1200"), D("1800"), D("600"))
    assert (two.before_total, two.after_total, two.change) == (D("1200"), D("600"), D("-600"))
    assert [(m.before, m.after) for m in one.months] == [(D("100"), D("150"))] * 12
    assert rows["West"].status == "unchanged"
    assert preview.totals == {"lines": 3, "changed": 2, "before": D("2400"),
                              "after": D("2400"), "change": D(0), "gained": D("600"),
                              "lost": D("600")}
    # January to March are gone on April 15th: the preview says they are rewritten.
    assert preview.past_months == [1, 2, 3]
    assert any("Months already gone change: Jan 2026, Feb 2026, Mar 2026" in w
               for w in preview.warnings)
    assert any("more than a quarter" in w for w in preview.warnings)


@APRIL
def test_the_job_applies_exactly_the_preview_and_it_can_be_undone(
        org, allocated, django_capture_on_commit_callbacks):
    plan = allocated.plan
    preview = changes.preview_allocation(
        allocated, by=org.west_manager, to="reps", method="custom",
        weights={org.west_rep.pk: 3, org.west_rep2.pk: 1})
    job = _apply(plan, org.west_manager, preview, django_capture_on_commit_callbacks)
    assert job.status == "succeeded" and job.result["lines_changed"] == 2
    assert job.percent == 100
    reps = {o.rep_id: _year(o) for o in allocated.children.all()}
    assert reps == {org.west_rep.pk: [D("150.00")] * 12, org.west_rep2.pk: [D("50.00")] * 12}
    assert Objective.objects.get(pk=allocated.pk).method == "custom"

    undo = changes.preview_undo(plan, by=org.west_manager, job_id=job.pk)
    rows = {r.label: r for r in undo.rows}
    assert (rows[str(org.west_rep)].after_total, rows[str(org.west_rep2)].after_total) == (
        D("1200"), D("1200"))
    _apply(plan, org.west_manager, undo, django_capture_on_commit_callbacks)
    reps = {o.rep_id: _year(o) for o in allocated.children.all()}
    assert reps == {org.west_rep.pk: [D("100.00")] * 12, org.west_rep2.pk: [D("100.00")] * 12}
    assert Objective.objects.get(pk=allocated.pk).method == "even"


def test_undo_of_a_first_allocation_removes_the_children(org, west_plan,
                                                         django_capture_on_commit_callbacks):
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=D("2400"))
    preview = changes.preview_allocation(top, by=org.west_manager, to="reps", method="even")
    assert {r.status for r in preview.rows if r.depth} == {"added"}
    job = _apply(west_plan, org.west_manager, preview, django_capture_on_commit_callbacks)
    assert top.children.count() == 2
    undo = changes.preview_undo(west_plan, by=org.west_manager, job_id=job.pk)
    assert {r.status for r in undo.rows if r.depth} == {"removed"}
    _apply(west_plan, org.west_manager, undo, django_capture_on_commit_callbacks)
    assert top.children.count() == 0 and _year(top) == [D("200.00")] * 12


def test_a_stale_preview_is_refused_and_nothing_is_written(
        org, allocated, django_capture_on_commit_callbacks):
    plan = allocated.plan
    preview = changes.preview_allocation(allocated, by=org.west_manager, to="reps",
                                         method="custom", weights={org.west_rep.pk: 1})
    services.allocate(allocated, by=org.west_manager, to="reps", method="custom",
                      weights={org.west_rep2.pk: 1})  # someone else changes it meanwhile
    before = _stored(plan)
    with pytest.raises(PreviewChanged, match="changed since this preview was drawn"):
        changes.confirm(plan, by=org.west_manager, token=preview.token,
                        version=Plan.objects.get(pk=plan.pk).version)
    with pytest.raises(StaleVersion, match="you sent version 1"):
        changes.confirm(plan, by=org.west_manager, token=preview.token, version=1)
    with pytest.raises(ValidationError, match="not a preview drawn for you"):
        changes.confirm(plan, by=org.admin, token=preview.token,
                        version=Plan.objects.get(pk=plan.pk).version)
    assert _stored(plan) == before


def test_the_job_checks_again_and_writes_nothing_if_the_targets_moved(
        org, allocated, django_capture_on_commit_callbacks):
    plan = allocated.plan
    preview = changes.preview_allocation(allocated, by=org.west_manager, to="reps",
                                         method="custom", weights={org.west_rep.pk: 1})
    with django_capture_on_commit_callbacks(execute=False) as queued:
        job = changes.confirm(plan, by=org.west_manager, token=preview.token,
                              version=Plan.objects.get(pk=plan.pk).version)
    services.set_plan_target(plan, by=org.west_manager, measure="bookings", total=D("99"))
    before = _stored(plan)
    for run in queued:
        run()  # the worker picks the job up after the targets moved
    job.refresh_from_db()
    assert job.status == "failed" and "nothing was changed" in job.message
    assert _stored(plan)[:3] == before[:3]


@time_machine.travel(datetime(FY, 4, 15, 12, tzinfo=UTC), tick=False)
def test_replan_preview_names_the_past_months_it_rewrites(
        org, targets, django_capture_on_commit_callbacks):  # noqa: F811
    plan = services.approve_plan(services.submit_plan(targets, by=org.west_manager), by=org.vp)
    before = _stored(plan)
    with pytest.raises(ValidationError, match="say why"):
        changes.preview_replan(plan, by=org.west_manager, measure=Measure.BOOKINGS,
                               as_of=date(2026, 4, 15), reason="")
    preview = changes.preview_replan(plan, by=org.west_manager, measure=Measure.BOOKINGS,
                                     as_of=date(2026, 4, 15), reason="Q1 closed")
    assert _stored(plan) == before
    assert preview.past_months == [1, 2, 3]
    top = next(r for r in preview.rows if r.depth == 0)
    assert [m.after for m in top.months[:3]] == [D("12000.00"), D("16000.00"), D("0.00")]
    one = next(r for r in preview.rows if r.label == str(org.west_rep))
    assert [m.after for m in one.months[:3]] == [D("12000.00"), D("0.00"), D("0.00")]
    assert one.before_total == D("60000.00") and one.after_total == D("60000.00")
    job = _apply(plan, org.west_manager, preview, django_capture_on_commit_callbacks)
    assert job.status == "succeeded", job.message
    stored = Objective.objects.get(plan=plan, measure=Measure.BOOKINGS, rep=org.west_rep)
    assert _year(stored) == [m.after for m in one.months]
    assert Plan.objects.get(pk=plan.pk).revisions.order_by("-number")[0].reason == "Q1 closed"


def test_preview_and_apply_through_the_api(org, allocated, api_as,
                                           django_capture_on_commit_callbacks):
    plan = allocated.plan
    api = api_as(org.west_manager)
    answer = api.post(f"/plans/{plan.pk}/allocate/preview", {
        "objective_id": allocated.pk, "to": "reps", "method": "custom",
        "weights": {str(org.west_rep.pk): "1", str(org.west_rep2.pk): "1"}})
    assert answer.status_code == 200, answer.content
    body = answer.data
    assert body["totals"]["changed"] == 0 and body["currency"] == plan.currency
    answer = api.post(f"/plans/{plan.pk}/allocate/preview", {
        "objective_id": allocated.pk, "to": "reps", "method": "custom",
        "weights": {str(org.west_rep.pk): "1"}})
    body = answer.data
    rep = next(r for r in body["rows"] if r["label"] == str(org.west_rep))
    assert (rep["before_total"], rep["after_total"], rep["change"]) == (
        "1200.00", "2400.00", "1200.00")
    assert rep["months"][0] == {"month": 1, "label": "Jan 2026", "before": "100.00",
                                "after": "200.00", "change": "100.00",
                                "past": rep["months"][0]["past"]}
    assert api_as(org.west_rep).post(f"/plans/{plan.pk}/changes/apply", {
        "preview": body["preview"], **pv(plan)}).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        applied = api.post(f"/plans/{plan.pk}/changes/apply",
                           {"preview": body["preview"], **pv(plan)})
    job_id = applied.data["id"]
    assert applied.status_code == 202 and applied["Location"] == f"/api/v1/jobs/{job_id}"
    assert api.get(f"/jobs/{job_id}").data["status"] == "succeeded"
    again = api.post(f"/plans/{plan.pk}/changes/apply", {"preview": body["preview"], **pv(plan)})
    assert again.status_code == 409 and "preview again" in again.data["detail"]
    undo = api.post(f"/plans/{plan.pk}/changes/{job_id}/undo/preview", {})
    assert undo.status_code == 200 and undo.data["totals"]["changed"] == 2


@time_machine.travel(datetime(FY, 4, 15, 12, tzinfo=UTC), tick=False)
def test_the_replan_form_shows_the_preview_first(org, targets, client):  # noqa: F811
    client.force_login(org.west_manager)
    before = _stored(targets)
    page = client.post(f"/plans/{targets.pk}/replan/", {"measure": "bookings",
                                                        "reason": "Q1 closed"})
    assert page.status_code == 200 and b"Apply this change" in page.content
    assert b"Months already gone change: Jan 2026, Feb 2026, Mar 2026" in page.content
    assert _stored(targets) == before
