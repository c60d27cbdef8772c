"""The reports API: list, run with JSON filters, drill-down, export, saved reports and
schedules, each limited to what the caller may see."""

from .conftest import Q1


def test_run_report_with_json_filters(org, history, api_as):
    api = api_as(org.west_manager)
    response = api.post("/reports/bookings/run", {"period": Q1, "by": "owner"})
    assert response.status_code == 200, response.data
    total = response.data["rows"][-1]
    assert total["total"] is True
    assert total["values"]["bookings"] == "8000.00"
    assert response.data["filters"]["period"] == Q1
    listed = api.get("/reports/")
    assert {"bookings", "pipeline", "attainment"} <= {r["key"] for r in listed.data}


def test_rep_sees_only_own_numbers_and_records(org, history, api_as):
    api = api_as(org.east_rep)
    response = api.get("/reports/bookings/run", period=Q1)
    assert response.data["rows"][-1]["values"]["bookings"] == "7000.00"
    drill = api.get("/reports/drilldown", src="opportunity", period=Q1, basis="close",
                    status="won")
    assert drill.status_code == 200
    assert [i["id"] for i in drill.data["items"]] == [history.won_east.pk]
    # Asking for a west rep's deals by owner id gives nothing.
    other = api.get("/reports/drilldown", src="opportunity", period=Q1, status="won",
                    owner=org.west_rep.pk)
    assert other.data["count"] == 0


def test_drilldown_matches_the_figure(org, history, api_as):
    api = api_as(org.executive)
    report = api.get("/reports/win_rate/run", period=Q1, by="team")
    west = next(r for r in report.data["rows"] if r["values"]["group"] == "West")
    drill = api.get("/reports/drilldown", period=Q1, **west["drill"])
    assert drill.data["count"] == west["values"]["won"] + west["values"]["lost"] == 4
    assert all(i["url"].startswith("/opportunities/") for i in drill.data["items"])


def test_bad_filter_is_a_problem_naming_the_field(org, api_as):
    api = api_as(org.executive)
    response = api.post("/reports/bookings/run", {"period": "next year"})
    assert response.status_code == 422
    assert "period" in response.data["errors"]
    assert api.post("/reports/nope/run", {}).status_code == 404


def test_export_csv(org, history, api_as):
    api = api_as(org.west_rep)
    response = api.client.get("/api/v1/reports/bookings/export",
                              {"period": Q1, "format": "csv"}, headers=api.headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert "Total,2,4000.00,2000.00,100.0,500.00,700.0" in text


def test_saved_reports_and_schedules(org, history, api_as):
    rep = api_as(org.west_rep)
    created = rep.post("/reports/saved", {"name": "Q1", "report": "pipeline",
                                          "filters": {"period": Q1}, "shared": True})
    assert created.status_code == 201, created.data
    pk = created.data["id"]
    # A teammate sees it but cannot change it; another team does not see it.
    assert api_as(org.west_rep2).patch(f"/reports/saved/{pk}",
                                       {"name": "Mine", "version": 1}).status_code == 403
    assert api_as(org.east_rep).get(f"/reports/saved/{pk}").status_code == 404
    schedule = rep.post("/reports/schedules", {"saved_report_id": pk,
                                               "recipients": ["boss@example.com"],
                                               "frequency": "daily", "format": "pdf"})
    assert schedule.status_code == 201, schedule.data
    assert rep.get("/reports/schedules").data[0]["recipients"] == ["boss@example.com"]
    bad = rep.post("/reports/schedules", {"saved_report_id": pk, "recipients": ["nope"]})
    assert bad.status_code == 422 and "recipients" in bad.data["errors"]
    schedule_url = f"/reports/schedules/{schedule.data['id']}?version={schedule.data['version']}"
    assert rep.delete(schedule_url).status_code == 204
    assert rep.delete(f"/reports/saved/{pk}?version=1").status_code == 204


def test_rebuild_rollups_is_an_admin_background_job(org, history, api_as,
                                                    django_capture_on_commit_callbacks):
    from salesplan.core.models import BackgroundJob
    from salesplan.metrics.models import OpportunityLine

    assert api_as(org.west_manager).post("/reports/rollups/rebuild").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(org.admin).post("/reports/rollups/rebuild")
    assert response.status_code == 202
    job = BackgroundJob.objects.get(pk=response.data["id"])
    assert job.status == BackgroundJob.Status.SUCCEEDED and job.percent == 100
    assert job.result["opportunities"] == OpportunityLine.objects.count() == 10
