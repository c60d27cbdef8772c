"""The plans API: a manager's round trip, transitions over POST, and who may do what."""

from decimal import Decimal

from salesplan.planning import services
from salesplan.planning.models import Plan

from ..api.conftest import assert_problem
from .conftest import FY, pv

P = "/plans"


def test_manager_plans_allocates_and_a_rep_commits(org, api_as):
    manager = api_as(org.west_manager)
    created = manager.post(P, {"name": "West FY2026", "fiscal_year": FY,
                               "team_id": org.west.pk})
    assert created.status_code == 201, created.data
    pid = created.data["id"]
    assert created.data["status"] == "draft" and created.data["team_name"] == "West"
    rows = manager.post(f"{P}/{pid}/targets", {
        **pv(pid), "measure": "bookings", "total": "1200"}).data
    top = rows[0]
    assert top["total"] == "1200.00" and top["months"][0] == "100.00"
    assert top["quarters"] == ["300.00"] * 4
    rows = manager.post(f"{P}/{pid}/allocate", {**pv(pid), "objective_id": top["id"], "to": "reps",
                                                "method": "even"})
    assert rows.status_code == 201, rows.data
    assert [r["total"] for r in rows.data if r["level"] == "rep"] == ["600.00", "600.00"]
    rep = api_as(org.west_rep)
    mine = rep.get(f"{P}/{pid}/objectives").data
    assert [(r["label"], r["total"]) for r in mine] == [(str(org.west_rep), "600.00")]
    committed = rep.post(f"{P}/{pid}/commitments", {"measure": "bookings",
                                                    "months": ["50"] * 12})
    assert committed.status_code == 201, committed.data
    recon = manager.get(f"{P}/{pid}/reconciliation").data
    assert recon["levels"][0]["gap"] == "-600.00"
    assert recon["not_submitted"] == [str(org.west_rep2)]
    pva = manager.get(f"{P}/{pid}/plan-vs-actual", as_of=f"{FY}-03-31").data
    assert pva[0]["target_to_date"] == "300.00" and pva[0]["attainment"] == "0.0"


def test_status_changes_only_by_their_own_post(org, api_as, west_plan):
    manager = api_as(org.west_manager)
    patched = manager.patch(f"{P}/{west_plan.pk}", {"name": "Renamed", "version": 1,
                                                    "status": "approved"})
    assert_problem(patched, 422)
    refused = manager.post(f"{P}/{west_plan.pk}/activate", pv(west_plan.pk))
    assert_problem(refused, 422, "status")
    assert Plan.objects.get(pk=west_plan.pk).status == "draft"
    submitted = manager.post(f"{P}/{west_plan.pk}/submit", pv(west_plan.pk))
    assert submitted.data["status"] == "submitted"
    assert_problem(manager.post(f"{P}/{west_plan.pk}/approve", pv(west_plan.pk)), 403)
    approved = api_as(org.vp).post(f"{P}/{west_plan.pk}/approve", pv(west_plan.pk))
    assert approved.data["status"] == "approved" and approved.data["revision_number"] == 1
    revisions = manager.get(f"{P}/{west_plan.pk}/revisions").data
    assert [(r["number"], r["reason"]) for r in revisions] == [(1, "Approved.")]
    no_reason = manager.post(f"{P}/{west_plan.pk}/targets", {**pv(west_plan.pk), "measure": "units",
                                                             "total": "10"})
    assert_problem(no_reason, 422, "reason")


def test_who_may_do_what(org, api_as, west_plan):
    services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                             total=Decimal("100"))
    url = f"{P}/{west_plan.pk}"
    # A rep reads the plan but cannot change it.
    rep = api_as(org.west_rep)
    assert rep.get(url).status_code == 200
    assert_problem(rep.patch(url, {"name": "Mine", "version": 1}), 403)
    assert_problem(rep.post(f"{url}/targets", {
        **pv(west_plan), "measure": "bookings", "total": "1"}), 403)
    # Another team's manager and rep do not see it at all.
    assert_problem(api_as(org.east_manager).get(url), 404)
    assert_problem(api_as(org.east_rep).post(f"{url}/submit", pv(west_plan)), 404)
    assert_problem(api_as(org.east_rep).post(f"{url}/commitments", {
        "measure": "bookings", "months": ["1"] * 12}), 404)
    # Executives and marketing read; they change nothing.
    for reader in (org.executive, org.marketer):
        api = api_as(reader)
        assert api.get(f"{url}/objectives").data[0]["total"] == "100.00"
        assert_problem(api.post(f"{url}/submit", pv(west_plan)), 403)
    # Managers create plans for their own teams only; and plans cannot overlap.
    east = api_as(org.west_manager).post(P, {"name": "East", "fiscal_year": FY,
                                             "team_id": org.east.pk})
    assert_problem(east, 403)
    twice = api_as(org.vp).post(P, {"name": "Again", "fiscal_year": FY, "team_id": org.west.pk})
    assert_problem(twice, 422, "fiscal_year")
    assert api_as(org.west_manager).get(P).data["items"][0]["id"] == west_plan.pk
    assert api_as(org.east_manager).get(P).data["items"] == []


def test_custom_weights_by_id_and_product_lines_by_name(org, api_as, west_plan):
    api = api_as(org.west_manager)
    top = api.post(f"{P}/{west_plan.pk}/targets", {**pv(west_plan.pk), "measure": "bookings",
                                                   "total": "1000"}).data[0]
    custom = api.post(f"{P}/{west_plan.pk}/allocate", {**pv(west_plan.pk), 
        "objective_id": top["id"], "to": "reps", "method": "custom",
        "weights": {str(org.west_rep.pk): "4", str(org.west_rep2.pk): "1"}})
    assert {r["rep_id"]: r["total"] for r in custom.data if r["level"] == "rep"} == {
        org.west_rep.pk: "800.00", org.west_rep2.pk: "200.00"}
    bad = api.post(f"{P}/{west_plan.pk}/allocate", {**pv(west_plan.pk), 
        "objective_id": top["id"], "to": "reps", "method": "custom",
        "weights": {str(org.east_rep.pk): "1"}})
    assert_problem(bad, 422, "weights")
    lines = api.post(f"{P}/{west_plan.pk}/allocate", {**pv(west_plan.pk), 
        "objective_id": top["id"], "to": "product_lines", "method": "even",
        "weights": {"Hardware": "1", "Software": "1"}})
    assert [(r["label"], r["total"]) for r in lines.data if r["level"] == "product_line"] == [
        ("Hardware", "500.00"), ("Software", "500.00")]


def test_a_rep_reads_only_their_own_lines_of_a_revision(org, api_as, west_plan):
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=Decimal("1000"))
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    services.submit_plan(west_plan, by=org.west_manager)
    services.approve_plan(west_plan, by=org.vp)
    mine = api_as(org.west_rep).get(f"{P}/{west_plan.pk}/revisions/1").data["snapshot"]
    assert [(line["rep_id"], line["total"]) for line in mine] == [(org.west_rep.pk, "500.00")]
    whole = api_as(org.executive).get(f"{P}/{west_plan.pk}/revisions/1").data["snapshot"]
    assert len(whole) == 3
