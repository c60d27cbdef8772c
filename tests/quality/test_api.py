"""The quality API: counts, items, fixes, policy, duplicates and merges, scores; with
404 for invisible records and 403 for refused writes."""

from datetime import timedelta

from django.core.management import call_command

from salesplan.core.clock import company_today
from salesplan.customers.models import Contact
from salesplan.quality.models import DuplicateCandidate, QualitySettings, RequiredField
from salesplan.quality.scoring import take_snapshot

from ..api.conftest import assert_problem
from ..factories import make_account, make_contact, make_opportunity


def late_deal(owner, name="Late deal"):
    return make_opportunity(owner, name=name, close_date=company_today() - timedelta(days=3))


def test_checks_with_counts(org, api_as):
    late_deal(org.west_rep)
    late_deal(org.east_rep)
    counts = {c["key"]: c["count"] for c in api_as(org.west_rep).get("/quality/checks").data}
    assert counts["past_close_date"] == 1
    counts = {c["key"]: c["count"] for c in api_as(org.vp).get("/quality/checks").data}
    assert counts["past_close_date"] == 2


def test_items_are_paged_and_visible_only(org, api_as):
    for i in range(3):
        late_deal(org.west_rep, f"Late {i}")
    late_deal(org.east_rep, "East")
    first = api_as(org.west_rep).get("/quality/checks/past_close_date", limit=2)
    assert first.status_code == 200
    assert len(first.data["items"]) == 2 and first.data["next_cursor"]
    rest = api_as(org.west_rep).get("/quality/checks/past_close_date",
                                    cursor=first.data["next_cursor"], limit=2)
    names = {i["name"] for i in first.data["items"] + rest.data["items"]}
    assert names == {"Late 0", "Late 1", "Late 2"}
    assert api_as(org.west_rep).get("/quality/checks/nonsense").status_code == 404


def test_fix_through_the_api(org, api_as):
    deal = late_deal(org.west_rep)
    new_date = (company_today() + timedelta(days=7)).isoformat()
    refused = api_as(org.east_rep).post(
        f"/quality/checks/past_close_date/items/{deal.pk}/fix", {"close_date": new_date})
    assert_problem(refused, 404)
    refused = api_as(org.executive).post(
        f"/quality/checks/past_close_date/items/{deal.pk}/fix", {"close_date": new_date})
    assert_problem(refused, 403)
    deal.refresh_from_db()
    assert deal.close_date == company_today() - timedelta(days=3)
    bad = api_as(org.west_rep).post(f"/quality/checks/past_close_date/items/{deal.pk}/fix",
                                    {"close_date": "2000-01-01"})
    assert_problem(bad, 422, "close_date")
    ok = api_as(org.west_rep).post(f"/quality/checks/past_close_date/items/{deal.pk}/fix",
                                   {"close_date": new_date, "version": deal.version})
    assert ok.status_code == 200, ok.data
    deal.refresh_from_db()
    assert deal.close_date.isoformat() == new_date


def test_policy_and_settings_are_for_admins(org, api_as):
    refused = api_as(org.west_manager).post("/quality/policy",
                                            {"record_type": "account", "field": "industry"})
    assert_problem(refused, 403)
    bad = api_as(org.admin).post("/quality/policy", {"record_type": "account", "field": "owner"})
    assert_problem(bad, 422, "field")
    created = api_as(org.admin).post("/quality/policy",
                                     {"record_type": "account", "field": "industry"})
    assert created.status_code == 201
    assert [r["field"] for r in api_as(org.west_rep).get("/quality/policy").data] == ["industry"]
    rule = f"/quality/policy/{created.data['id']}?version={created.data['version']}"
    assert api_as(org.admin).delete(rule).status_code == 204
    assert not RequiredField.objects.exists()
    read = api_as(org.admin).get("/quality/settings").data["version"]
    assert_problem(api_as(org.west_rep).patch("/quality/settings", {
        "stale_after_days": 5, "version": read}), 403)
    changed = api_as(org.admin).patch("/quality/settings", {"stale_after_days": 14,
                                                            "version": read})
    assert changed.data["stale_after_days"] == 14
    assert QualitySettings.current().stale_after_days == 14
    assert_problem(api_as(org.admin).patch("/quality/settings", {
        "stale_after_days": 0, "version": read + 1}), 422, "stale_after_days")


def test_duplicate_scan_job_pairs_and_merge(org, api_as, django_capture_on_commit_callbacks):
    acme = make_account(org.west_rep)
    left = make_contact(org.west_rep, acme, first_name="Pat", last_name="Lee", email="p@a.com")
    right = make_contact(org.west_rep, acme, first_name="Pat", last_name="Lee", email="p@a.com",
                         title="CFO")
    assert_problem(api_as(org.west_rep).post("/quality/duplicates/scan",
                                             {"record_type": "contact"}), 403)
    with django_capture_on_commit_callbacks(execute=True):
        job = api_as(org.west_manager).post("/quality/duplicates/scan",
                                            {"record_type": "contact"})
    assert job.status_code == 202 and job["Location"] == f"/api/v1/jobs/{job.data['id']}"
    followed = api_as(org.west_manager).get(f"/jobs/{job.data['id']}")
    assert api_as(org.west_manager).get(f"/quality/jobs/{job.data['id']}").data == followed.data
    assert followed.data["status"] == "succeeded", followed.data
    assert followed.data["result"]["candidates"] == 1
    listed = api_as(org.west_rep).get("/quality/duplicates", record_type="contact")
    (pair,) = listed.data["items"]
    assert {pair["left"]["id"], pair["right"]["id"]} == {left.pk, right.pk}
    assert api_as(org.east_rep).get("/quality/duplicates", record_type="contact").data[
        "items"] == []
    assert_problem(api_as(org.east_rep).post(f"/quality/duplicates/{pair['id']}/merge",
                                             {"survivor_id": left.pk}), 404)
    bad = api_as(org.west_rep).post(f"/quality/duplicates/{pair['id']}/merge",
                                    {"survivor_id": 999999})
    assert_problem(bad, 422, "survivor_id")
    merged = api_as(org.west_rep).post(f"/quality/duplicates/{pair['id']}/merge",
                                       {"survivor_id": left.pk, "keep_from_merged": ["title"]})
    assert merged.status_code == 200, merged.data
    assert merged.data["merged_id"] == right.pk
    assert Contact.objects.get(pk=left.pk).title == "CFO"
    assert not Contact.objects.filter(pk=right.pk).exists()
    assert DuplicateCandidate.objects.get().status == "merged"


def test_scores_and_trend_follow_visibility(org, api_as):
    late_deal(org.west_rep)
    late_deal(org.east_rep)
    take_snapshot(company_today() - timedelta(days=7))
    take_snapshot()
    mine = api_as(org.west_rep).get("/quality/scores").data
    assert {p["user_id"] for p in mine["people"]} == {org.west_rep.pk}
    # one late deal (weight 3) and one missing next step (1) over 2 records (deal + account)
    assert mine["people"][0]["weighted_issues"] == 4
    assert mine["people"][0]["score"] == "0.0"
    managers = api_as(org.west_manager).get("/quality/scores").data
    assert org.east_rep.pk not in {p["user_id"] for p in managers["people"]}
    trend = api_as(org.west_rep).get("/quality/scores/trend", user_id=org.west_rep.pk).data
    assert len(trend) == 2
    assert api_as(org.west_rep).get("/quality/scores/trend", user_id=org.east_rep.pk).data == []
    company = api_as(org.executive).get("/quality/scores/trend").data
    assert company[-1]["weighted_issues"] == 8
    assert_problem(api_as(org.west_rep).post("/quality/scores/snapshot"), 403)
    assert api_as(org.west_manager).post("/quality/scores/snapshot").status_code == 202


def test_cli_scan_duplicates_snapshot(org, capsys):
    late_deal(org.west_rep)
    call_command("quality", "scan")
    out = capsys.readouterr().out
    assert "past_close_date" in out and "1" in out.split("past_close_date")[1].split("\n")[0]
    call_command("quality", "scan", "--check", "past_close_date")
    assert "Late deal" in capsys.readouterr().out
    acme = make_account(org.west_rep)
    make_contact(org.west_rep, acme, first_name="Pat", last_name="Lee", email="p@a.com")
    make_contact(org.west_rep, acme, first_name="Pat", last_name="Lee", email="p@a.com")
    call_command("quality", "duplicates", "--type", "contact")
    assert "1 likely duplicates" in capsys.readouterr().out
    call_command("quality", "snapshot")
    assert "Scores stored for" in capsys.readouterr().out
