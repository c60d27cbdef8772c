"""Effort allocation for a plan: curves from judgement and history, the optimal call plan
within each rep's hours, coverage rules, applying it as activity targets, permissions."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from salesplan.core.models import BackgroundJob
from salesplan.engines.effort import AdbudgCurve
from salesplan.planning import effort, resources, services
from salesplan.planning.models import EffortAllocationRun, Level, Measure, MonthlyTarget

from ..factories import make_account, make_activity
from .conftest import won

PARAMS = {"margin_rate": "0.5", "cost_per_hour": "40", "hours_per_call": "1",
          "call_share": "0.6", "first_month": 1}


@pytest.fixture(autouse=True)
def jobs_run_at_once(monkeypatch):
    """Background jobs start when their transaction commits; tests never commit, so run
    them as soon as they are enqueued."""
    monkeypatch.setattr("salesplan.core.jobs.transaction.on_commit",
                        lambda callback, *args, **kwargs: callback())


@pytest.fixture
def judged(org, west_plan):
    """Three strategic software accounts per west rep, judged by the manager."""
    for rep in (org.west_rep, org.west_rep2):
        for _ in range(3):
            make_account(rep, tier="strategic", industry="Software")
    effort.set_judgement(west_plan, by=org.west_manager, tier="strategic", industry="Software",
                         current_calls="2", no_effort="1000", current="3000",
                         plus_half="3600", saturation="5000")
    return west_plan


def test_judgement_run_finds_the_optimum_within_capacity(org, judged):
    run = effort.start_run(judged, by=org.west_manager, params=PARAMS)
    run.refresh_from_db()
    assert run.status == "succeeded", run.message
    assert run.job.status == BackgroundJob.Status.SUCCEEDED
    result = run.result
    assert {r["rep_id"] for r in result["reps"]} == {org.west_rep.pk, org.west_rep2.pk}
    for rep in result["reps"]:
        assert rep["hours_used"] <= rep["capacity_hours"] + 0.05
    assert run.optimal_profit >= run.current_profit
    # The judged curve itself: through the manager's four figures.
    seg = next(s for s in result["segments"] if s["tier"] == "strategic")
    assert seg["source"] == "judgement"
    curve = AdbudgCurve(**seg["params"])
    assert float(curve(2)) == pytest.approx(3000)
    assert float(curve(3)) == pytest.approx(3600)
    # The manager vouched for the curve up to 3 calls (their +50% point): no account is
    # planned beyond it, and below it every account sits at the level where one more
    # step no longer pays: margin × Δbookings < cost × Δhours.
    assert seg["cap"] == 3.0 and seg["trusted"]
    choices = [x for x in result["levels"] if x <= 3.0]
    for *_, calls in result["units"]:
        assert calls <= 3.0
        i = choices.index(calls)
        if i + 1 < len(choices):
            gain = 0.5 * float(curve(choices[i + 1]) - curve(calls))
            assert gain <= 40 * (choices[i + 1] - calls) + 1e-6


def test_tight_capacity_binds_and_has_a_shadow_price(org, judged):
    resources.add_resource(judged, by=org.west_manager, user=org.west_rep,
                           selling_hours_per_day="0.5")
    run = effort.start_run(judged, by=org.west_manager, params=PARAMS)
    run.refresh_from_db()
    rep = next(r for r in run.result["reps"] if r["rep_id"] == org.west_rep.pk)
    other = next(r for r in run.result["reps"] if r["rep_id"] == org.west_rep2.pk)
    assert rep["hours_used"] <= rep["capacity_hours"] + 1e-6
    assert rep["shadow_price"] > 0
    assert other["shadow_price"] == 0
    assert rep["calls_per_month"] < other["calls_per_month"]


def test_coverage_rule_sets_a_minimum(org, judged):
    params = {**PARAMS, "cost_per_hour": "100000", "min_calls_by_tier": {"strategic": "1"}}
    run = effort.start_run(judged, by=org.west_manager, params=params)
    run.refresh_from_db()
    # Calls cost far more than they bring, yet every strategic account gets its one call.
    assert [u[6] for u in run.result["units"]] == [1.0] * 6


def test_infeasible_coverage_fails_with_a_clear_message(org, judged):
    resources.add_resource(judged, by=org.west_manager, user=org.west_rep,
                           selling_hours_per_day="0")
    params = {**PARAMS, "min_calls_by_tier": {"strategic": "2"}}
    run = effort.start_run(judged, by=org.west_manager, params=params)
    run.refresh_from_db()
    assert run.status == "failed"
    assert "need 6.0 hours but only 0.0 are available" in run.message


def test_applied_call_plan_becomes_activity_targets(org, judged):
    run = effort.start_run(judged, by=org.west_manager, params=PARAMS)
    run.refresh_from_db()
    effort.apply_run(run, by=org.west_manager)
    for rep in run.result["reps"]:
        objective = judged.objectives.get(measure=Measure.ACTIVITIES, level=Level.REP,
                                          rep_id=rep["rep_id"])
        months = list(MonthlyTarget.objects.filter(objective=objective)
                      .order_by("month").values_list("target", flat=True))
        expected = Decimal(str(rep["calls_per_month"])).quantize(Decimal("0.01"))
        assert months == [expected] * 12
    run.refresh_from_db()
    assert run.applied_at is not None


def test_judgement_must_rise_and_only_editors_enter_it(org, west_plan):
    with pytest.raises(ValidationError) as caught:
        effort.set_judgement(west_plan, by=org.west_manager, tier="", industry="",
                             current_calls="2", no_effort="100", current="90",
                             plus_half="200", saturation="300")
    assert "rise with effort" in str(caught.value)
    with pytest.raises(PermissionDenied):
        effort.set_judgement(west_plan, by=org.west_rep, tier="", industry="",
                             current_calls="2", no_effort="1", current="2", plus_half="3",
                             saturation="4")
    assert not west_plan.judgements.exists()


def test_bad_params_name_the_field(org, west_plan):
    with pytest.raises(ValidationError) as caught:
        effort.start_run(west_plan, by=org.west_manager, params={"margin_rate": "1.5"})
    assert "margin_rate" in caught.value.message_dict
    assert not EffortAllocationRun.objects.exists()


def test_curve_fitted_from_history(org, west_plan):
    """Accounts called 0–4 times a month book what a known curve says they would."""
    truth = AdbudgCurve(floor=200, ceiling=4000, shape=0.9, scale=2.0)
    end = date(2025, 12, 31)  # the plan starts in 2026: history is the twelve months before
    months = [date(2025, m, 15) for m in range(1, 13)]
    for k in range(5):
        account = make_account(org.west_rep, tier="mid_market", industry="Retail")
        for i, day in enumerate(months):
            calls = (k + i) % 5
            for c in range(calls):
                moment = timezone.make_aware(datetime.combine(day, datetime.min.time())
                                             + timedelta(hours=9 + c))
                make_activity(org.west_rep, account, done=True, done_at=moment, due_at=moment)
            won(org.west_rep, f"{float(truth(calls)):.2f}", day, account=account)
    assert end >= months[-1]
    run = effort.start_run(west_plan, by=org.west_manager, params=PARAMS)
    run.refresh_from_db()
    seg = next(s for s in run.result["segments"] if s["tier"] == "mid_market")
    assert seg["source"] == "history"
    fitted = AdbudgCurve(**seg["params"])
    for calls in (0, 1, 2, 3, 4):
        assert float(fitted(calls)) == pytest.approx(float(truth(calls)), rel=0.02)
    points = {p[0]: p for p in seg["points"]}
    assert points[2.0][2] == 12  # five accounts × twelve months, spread over 0–4 calls


def test_api_runs_and_hides_other_teams(org, judged, api_as):
    manager = api_as(org.west_manager)
    response = manager.post(f"/plans/{judged.pk}/effort-runs", {**PARAMS, "first_month": 1})
    assert response.status_code == 202, response.data
    run_id = response.data["id"]
    detail = manager.get(f"/plans/{judged.pk}/effort-runs/{run_id}")
    assert detail.data["status"] == "succeeded"
    assert len(detail.data["result"]["reps"]) == 2
    rep = api_as(org.west_rep).get(f"/plans/{judged.pk}/effort-runs/{run_id}")
    assert [r["rep_id"] for r in rep.data["result"]["reps"]] == [org.west_rep.pk]
    assert api_as(org.east_rep).get(f"/plans/{judged.pk}/effort-runs/{run_id}").status_code == 404
    refused = api_as(org.west_rep).post(f"/plans/{judged.pk}/effort-runs", PARAMS)
    assert refused.status_code == 403
    applied = manager.post(f"/plans/{judged.pk}/effort-runs/{run_id}/apply", {})
    assert applied.status_code == 200
    assert any(o["measure"] == "activities" and o["level"] == "rep" for o in applied.data)
    bad = manager.call("put", f"/plans/{judged.pk}/judgements", {
        "current_calls": "1", "no_effort": "5", "current": "4", "plus_half": "6",
        "saturation": "9"})
    assert bad.status_code in (400, 422)


def test_pages_and_cli(org, judged, client, capsys):
    client.force_login(org.west_manager)
    page = client.get(f"/plans/{judged.pk}/effort/")
    assert page.status_code == 200
    started = client.post(f"/plans/{judged.pk}/effort/run/", {
        "basis": "segment", "margin_rate": "0.5", "cost_per_hour": "40", "hours_per_call": "1",
        "call_share": "0.6", "first_month": "1", "strategic_min": "1"})
    assert started.status_code == 302
    run = EffortAllocationRun.objects.get()
    result_page = client.get(f"/plans/{judged.pk}/effort/{run.pk}/")
    assert result_page.status_code == 200
    assert b"Response curves" in result_page.content and b"data-chart" in result_page.content
    # The runs list shows the two gains apart, beside today's contribution they are
    # measured against, never a single "optimal" figure mixing them.
    summary = run.result["summary"]
    listing = client.get(f"/plans/{judged.pk}/effort/").content.decode()
    for key in ("current_profit", "reallocation_gain", "added_hours_gain"):
        assert f'data-claim="{key}">{summary[key]:,.2f}' in listing, key
    assert "Optimal profit" not in listing
    client.force_login(org.west_rep)
    rep_listing = client.get(f"/plans/{judged.pk}/effort/").content.decode()
    assert f"{summary['reallocation_gain']:,.2f}" not in rep_listing
    own = client.get(f"/plans/{judged.pk}/effort/{run.pk}/")
    assert own.status_code == 200 and b"Contribution of the optimal plan" not in own.content
    client.force_login(org.east_rep)
    assert client.get(f"/plans/{judged.pk}/effort/{run.pk}/").status_code == 404
    call_command("plan", "optimise-effort", str(judged.pk), "--as", "westmgr",
                 "--first-month", "1", "--apply")
    out = capsys.readouterr().out
    assert "Contribution over 12 months" in out and "Applied" in out
    assert judged.objectives.filter(measure=Measure.ACTIVITIES, level=Level.REP).count() == 2


def test_services_unchanged_for_bookings(org, judged):
    # applying a call plan leaves the bookings objectives alone
    services.set_plan_target(judged, by=org.west_manager, measure=Measure.BOOKINGS,
                             total=Decimal("1200"))
    run = effort.start_run(judged, by=org.west_manager, params=PARAMS)
    run.refresh_from_db()
    effort.apply_run(run, by=org.west_manager)
    assert judged.objectives.filter(measure=Measure.BOOKINGS).count() == 1


def test_replanning_effort_keeps_the_months_gone(org, judged):
    run = effort.start_run(judged, by=org.west_manager, params=PARAMS)
    run.refresh_from_db()
    effort.apply_run(run, by=org.west_manager)
    resources.add_resource(judged, by=org.west_manager, user=org.west_rep,
                           selling_hours_per_day="0.5")
    later = effort.start_run(judged, by=org.west_manager, params={**PARAMS, "first_month": 4})
    later.refresh_from_db()
    effort.apply_run(later, by=org.west_manager)
    top = judged.objectives.get(measure=Measure.ACTIVITIES, parent__isnull=True)

    def months(objective):
        return list(MonthlyTarget.objects.filter(objective=objective).order_by("month")
                    .values_list("target", flat=True))

    before = {r["rep_id"]: Decimal(str(r["calls_per_month"])) for r in run.result["reps"]}
    after = {r["rep_id"]: Decimal(str(r["calls_per_month"])) for r in later.result["reps"]}
    assert after[org.west_rep.pk] < before[org.west_rep.pk]  # fewer hours now
    children = {o.rep_id: months(o) for o in top.children.all()}
    for rep_id, values in children.items():
        assert values[:3] == [before[rep_id].quantize(Decimal("0.01"))] * 3
        assert values[3:] == [after[rep_id].quantize(Decimal("0.01"))] * 9
    parent = months(top)
    for m in range(12):
        assert parent[m] == sum(v[m] for v in children.values())


# --- how far above the most calls seen calls still pay -----------------------------------


def test_a_manager_trusts_curves_up_to_what_they_believe_still_pays(org, judged):
    """With no history the judged curve is trusted from its current 2 calls: to 3 by the
    +50% point; to 4 when the manager believes calls pay up to 100% above."""
    default = effort.start_run(judged, by=org.west_manager, params=PARAMS)
    believed = effort.start_run(judged, by=org.west_manager,
                                params={**PARAMS, "pays_above_seen_pct": "100"})
    for run, cap in ((default, 3.0), (believed, 4.0)):
        run.refresh_from_db()
        seg = next(s for s in run.result["segments"] if s["tier"] == "strategic")
        assert seg["cap"] == cap
        assert all(calls <= cap for *_, calls in run.result["units"])
    assert believed.pays_above_seen_pct == Decimal("100.0")
    assert believed.result["summary"]["pays_above_seen_pct"] == 100.0


@pytest.mark.parametrize("pct", ["-5", "250", "lots"])
def test_a_belief_out_of_bounds_is_refused_naming_the_field(org, west_plan, pct):
    with pytest.raises(ValidationError) as caught:
        effort.start_run(west_plan, by=org.west_manager,
                         params={**PARAMS, "pays_above_seen_pct": pct})
    assert "pays_above_seen_pct" in caught.value.message_dict
    assert not EffortAllocationRun.objects.exists()


def test_api_changes_the_belief_with_the_runs_version(org, judged, api_as):
    manager = api_as(org.west_manager)
    started = manager.post(f"/plans/{judged.pk}/effort-runs", PARAMS)
    run_id, path = started.data["id"], f"/plans/{judged.pk}/effort-runs/{started.data['id']}"
    assert started.data["version"] == 1 and started.data["pays_above_seen_pct"] is None
    too_far = manager.post(f"/plans/{judged.pk}/effort-runs",
                           {**PARAMS, "pays_above_seen_pct": 250})
    assert too_far.status_code == 422 and "pays_above_seen_pct" in str(too_far.data)
    assert manager.patch(path, {"pays_above_seen_pct": 100}).status_code == 428
    assert manager.patch(path, {"pays_above_seen_pct": 100, "version": 7}).status_code == 409
    assert api_as(org.west_rep).patch(path, {"pays_above_seen_pct": 100,
                                             "version": 1}).status_code == 403
    changed = manager.patch(path, {"pays_above_seen_pct": 100, "version": 1})
    assert changed.status_code == 202, changed.data
    assert changed.data["version"] == 2 and changed.data["pays_above_seen_pct"] == "100.0"
    detail = manager.get(path).data
    assert detail["status"] == "succeeded"
    seg = next(s for s in detail["result"]["segments"] if s["tier"] == "strategic")
    assert seg["cap"] == 4.0
    assert manager.post(f"{path}/apply", {}).status_code == 200
    applied = manager.patch(path, {"pays_above_seen_pct": None, "version": 2})
    assert applied.status_code in (400, 422) and "pays_above_seen_pct" in str(applied.data)
    assert EffortAllocationRun.objects.get(pk=run_id).pays_above_seen_pct == Decimal("100.0")


def test_page_shows_and_changes_the_belief(org, judged, client):
    client.force_login(org.west_manager)
    client.post(f"/plans/{judged.pk}/effort/run/", {
        "basis": "account", "margin_rate": "0.5", "cost_per_hour": "40", "hours_per_call": "1",
        "call_share": "0.6", "first_month": "1", "pays_above_seen_pct": "30"})
    run = EffortAllocationRun.objects.get()
    assert run.pays_above_seen_pct == Decimal("30.0")
    page = client.get(f"/plans/{judged.pk}/effort/{run.pk}/").content.decode()
    assert 'data-pays-above-seen="30.0"' in page and "30% above the most calls" in page
    stale = client.post(f"/plans/{judged.pk}/effort/{run.pk}/belief/",
                        {"pays_above_seen_pct": "60", "version": "5"}, follow=True)
    assert "changed" in stale.content.decode().lower()
    run.refresh_from_db()
    assert run.pays_above_seen_pct == Decimal("30.0")
    client.post(f"/plans/{judged.pk}/effort/{run.pk}/belief/",
                {"pays_above_seen_pct": "", "version": str(run.version)})
    run.refresh_from_db()
    assert run.pays_above_seen_pct is None and run.version == 2
    assert run.result["summary"]["pays_above_seen_pct"] is None
    client.force_login(org.west_rep)
    refused = client.post(f"/plans/{judged.pk}/effort/{run.pk}/belief/",
                          {"pays_above_seen_pct": "60", "version": str(run.version)})
    assert refused.status_code == 403
