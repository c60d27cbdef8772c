"""The plan pages: a manager builds a plan, a rep commits, others are kept out."""

import re
from decimal import Decimal

from django.test import Client

from salesplan.planning import services
from salesplan.planning.models import Commitment, Objective, Plan

from .conftest import FY, pv


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_manager_builds_a_plan_in_the_pages(org, django_capture_on_commit_callbacks):
    web = login(org.west_manager)
    page = web.get("/plans/")
    assert page.status_code == 200 and b"Start a plan" in page.content
    created = web.post("/plans/new/", {"name": "West FY26", "fiscal_year": FY,
                                       "team": org.west.pk})
    plan = Plan.objects.get(name="West FY26")
    assert created.url == f"/plans/{plan.pk}/"
    web.post(f"/plans/{plan.pk}/targets/set/", {
        **pv(plan.pk), "measure": "bookings", "total": "2400",
                                                "phasing": "even"})
    top = Objective.objects.get(plan=plan, parent=None)
    preview = web.post(f"/plans/{plan.pk}/allocations/new/", {
        **pv(plan.pk), "objective": top.pk, "to": "reps", "method": "even"})
    assert preview.status_code == 200 and b"Apply this change" in preview.content
    assert not Objective.objects.filter(plan=plan, level="rep").exists()
    token = re.search(r'name="preview" value="([^"]+)"', preview.content.decode()).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        applied = web.post(f"/plans/{plan.pk}/changes/apply/",
                           {**pv(plan.pk), "preview": token})
    assert applied.status_code == 302 and "/changes/" in applied.url
    assert Objective.objects.filter(plan=plan, level="rep").count() == 2
    job_page = web.get(applied.url)
    assert b"Succeeded" in job_page.content and b"Undo" in job_page.content
    undo = web.post(applied.url + "undo/")
    assert undo.status_code == 200 and b"Preview: Undo" in undo.content
    assert Objective.objects.filter(plan=plan, level="rep").count() == 2
    assert login(org.east_manager).get(applied.url).status_code == 404
    detail = web.get(f"/plans/{plan.pk}/")
    assert b"1,200.00" in detail.content and b"Submit for approval" in detail.content
    web.post(f"/plans/{plan.pk}/status/submit/", pv(plan.pk))
    assert Plan.objects.get(pk=plan.pk).status == "submitted"
    refused = web.post(f"/plans/{plan.pk}/status/activate/", pv(plan.pk),
                       follow=True)
    assert b"only a plan that is approved can become active" in refused.content
    assert Plan.objects.get(pk=plan.pk).status == "submitted"


def test_rep_commits_and_cannot_edit(org, west_plan):
    web = login(org.west_rep)
    page = web.get(f"/plans/{west_plan.pk}/")
    assert page.status_code == 200 and b"My commitment" in page.content
    assert b"Set the plan" not in page.content
    months = {f"m{i}": "100" for i in range(1, 13)}
    web.post(f"/plans/{west_plan.pk}/commitments/submit/", {"measure": "bookings", **months})
    assert sum(c.amount for c in Commitment.objects.filter(rep=org.west_rep)) == Decimal(1200)
    denied = web.post(f"/plans/{west_plan.pk}/targets/set/", {
        **pv(west_plan.pk), "measure": "bookings",
                                                               "total": "1", "phasing": "even"})
    assert denied.status_code == 403
    assert login(org.east_manager).get(f"/plans/{west_plan.pk}/").status_code == 404


def test_a_revision_page_shows_what_changed(org, west_plan, api_as):
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=Decimal("1200"))
    services.submit_plan(west_plan, by=org.west_manager)
    services.approve_plan(west_plan, by=org.vp)
    services.set_plan_target(Plan.objects.get(pk=west_plan.pk), by=org.west_manager,
                             measure="bookings", total=Decimal("1500"), reason="Price rise")
    assert top.pk  # replaced by the new target; revision 1 keeps the old one
    page = login(org.executive).get(f"/plans/{west_plan.pk}/revisions/2/")
    assert page.status_code == 200
    assert b"Changes from revision 1" in page.content and b"Price rise" in page.content
    assert b"1,200.00" in page.content and b"300.00" in page.content
    api = api_as(org.west_manager).get(f"/plans/{west_plan.pk}/revisions/2/changes")
    assert [(c["before"], c["after"], c["change"]) for c in api.data] == [
        ("1200.00", "1500.00", "300.00")]


def test_marketing_commits_in_the_page(org, west_plan, api_as):
    web = login(org.marketer)
    page = web.get(f"/plans/{west_plan.pk}/")
    assert b"Marketing commitment" in page.content and b"My commitment" not in page.content
    months = {f"m{i}": "5" for i in range(1, 13)}
    web.post(f"/plans/{west_plan.pk}/marketing/submit/",
             {"team": org.west.pk, "measure": "leads", **months})
    recon = api_as(org.executive).get(f"/plans/{west_plan.pk}/reconciliation").data
    assert [(r["label"], r["bottom_up"]) for r in recon["marketing"]] == [
        ("West · Leads", "60.00")]
    api = api_as(org.marketer).post(f"/plans/{west_plan.pk}/marketing-commitments", {
        "team_id": org.west.pk, "measure": "units", "months": ["1"] * 12})
    assert api.status_code == 422
