"""Bulk actions on accounts and opportunities: preview, then a job with per-row outcomes."""

import pytest

from salesplan.core.models import AuditEntry, BackgroundJob
from salesplan.customers.models import Account
from salesplan.pipeline.models import Opportunity, Stage, StageKind

from ..factories import make_account, make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """run(caller, path, body) -> the job's row after it ran (inline backend)."""
    def start(caller, path, body):
        with django_capture_on_commit_callbacks(execute=True):
            answer = caller.post(path, {**body, "preview": False})
        assert answer.status_code == 202, answer.data
        assert answer["Location"] == f"/api/v1/jobs/{answer.data['id']}"
        return BackgroundJob.objects.get(pk=answer.data["id"])
    return start


def test_preview_counts_rows_and_shows_before_and_after_without_changing_anything(org, api_as):
    accounts = [make_account(org.west_rep, name=f"West {i}") for i in range(3)]
    answer = api_as(org.west_manager).post("/accounts/bulk", {
        "action": "change_owner", "ids": [a.pk for a in accounts],
        "values": {"owner": org.west_rep2.pk}, "preview": True})
    assert answer.status_code == 200, answer.data
    assert answer.data["count"] == 3 and answer.data["will_change"] == 3
    assert answer.data["will_refuse"] == 0
    assert {(r["before"], r["after"]) for r in answer.data["sample"]} == {
        (str(org.west_rep), str(org.west_rep2))}
    assert set(Account.objects.filter(pk__in=[a.pk for a in accounts])
               .values_list("owner_id", "version")) == {(org.west_rep.pk, accounts[0].version)}
    assert not BackgroundJob.objects.exists()


def test_the_job_changes_permitted_rows_and_refuses_others_with_a_reason(org, api_as, run):
    mine = [make_account(org.west_rep) for _ in range(3)]
    theirs = make_account(org.east_rep, name="East one")
    ids = [a.pk for a in mine] + [theirs.pk]
    versions = {a.pk: a.version for a in mine}
    preview = api_as(org.west_manager).post("/accounts/bulk", {
        "action": "change_owner", "ids": ids, "values": {"owner": org.west_rep2.pk}})
    assert preview.data["will_change"] == 3 and preview.data["will_refuse"] == 1
    assert preview.data["refused"][0]["id"] == theirs.pk
    job = run(api_as(org.west_manager), "/accounts/bulk", {
        "action": "change_owner", "ids": ids, "values": {"owner": org.west_rep2.pk}})
    followed = api_as(org.west_manager).get(f"/jobs/{job.pk}").data
    assert followed["status"] == "succeeded" and followed["percent"] == 100
    result = followed["result"]
    assert result["done"] == 3 and result["refused"] == 1
    outcome = {r["id"]: r for r in result["rows"]}
    assert outcome[theirs.pk]["status"] == "refused" and outcome[theirs.pk]["reason"]
    assert all(outcome[pk]["status"] == "done" for pk in versions)
    for account in Account.objects.filter(pk__in=versions):
        assert account.owner_id == org.west_rep2.pk
        assert account.version == versions[account.pk] + 1
    theirs.refresh_from_db()
    assert theirs.owner_id == org.east_rep.pk


def test_a_rep_cannot_bulk_change_another_teams_accounts(org, api_as, run):
    east = [make_account(org.east_rep) for _ in range(2)]
    job = run(api_as(org.west_rep), "/accounts/bulk", {
        "action": "change_owner", "ids": [a.pk for a in east],
        "values": {"owner": org.west_rep.pk}})
    assert job.result["done"] == 0 and job.result["refused"] == 2
    assert all(r["status"] == "refused" and r["reason"] for r in job.result["rows"])
    assert set(Account.objects.filter(pk__in=[a.pk for a in east])
               .values_list("owner_id", "version")) == {(org.east_rep.pk, east[0].version)}


def test_an_owner_the_user_may_not_assign_refuses_the_whole_request(org, api_as):
    account = make_account(org.west_rep)
    answer = api_as(org.west_rep).post("/accounts/bulk", {
        "action": "change_owner", "ids": [account.pk], "values": {"owner": org.east_rep.pk}})
    assert answer.status_code in (400, 422)
    assert "owner" in str(answer.data)


def test_filter_selection_matches_exactly_the_lists_filter(org, api_as, run):
    for i in range(3):
        make_account(org.west_rep, name=f"Acme {i}", lifecycle="customer")
    make_account(org.west_rep, name="Acme prospect", lifecycle="prospect")
    make_account(org.west_rep, name="Other customer", lifecycle="customer")
    make_account(org.east_rep, name="Acme east", lifecycle="customer")
    listed = api_as(org.west_manager).get("/accounts", q="acme", lifecycle="customer").data
    listed_ids = {row["id"] for row in listed["items"]}
    assert len(listed_ids) == 3
    job = run(api_as(org.west_manager), "/accounts/bulk", {
        "action": "change_owner", "filter": {"q": "acme", "lifecycle": "customer"},
        "values": {"owner": org.west_rep2.pk}})
    assert {r["id"] for r in job.result["rows"]} == listed_ids


def test_audit_is_written_per_row(org, api_as, run):
    accounts = [make_account(org.west_rep) for _ in range(2)]
    run(api_as(org.admin), "/accounts/bulk", {
        "action": "change_owner", "ids": [a.pk for a in accounts],
        "values": {"owner": org.west_rep2.pk}})
    entries = AuditEntry.objects.filter(record_type="account", field="owner",
                                        record_id__in=[a.pk for a in accounts])
    assert sorted(entries.values_list("record_id", "changed_by_id")) == sorted(
        (a.pk, org.admin.pk) for a in accounts)


def test_delete_refuses_accounts_with_deals_and_a_rep_may_not_delete(org, api_as, run):
    free, busy = make_account(org.west_rep), make_account(org.west_rep)
    make_opportunity(org.west_rep, busy)
    job = run(api_as(org.west_manager), "/accounts/bulk", {
        "action": "delete", "ids": [free.pk, busy.pk]})
    assert job.result["done"] == 1 and job.result["refused"] == 1
    assert "opportunities" in {r["id"]: r for r in job.result["rows"]}[busy.pk]["reason"]
    assert list(Account.objects.filter(pk__in=[free.pk, busy.pk])) == [busy]
    rep = api_as(org.west_rep).post("/accounts/bulk", {"action": "delete", "ids": [busy.pk]})
    assert rep.data["will_refuse"] == 1


def test_stage_change_needs_a_reason_for_lost_and_records_it(org, api_as, run):
    deals = [make_opportunity(org.west_rep) for _ in range(2)]
    lost = Stage.objects.filter(pipeline=deals[0].pipeline, kind=StageKind.LOST).first()
    refused = api_as(org.west_manager).post("/opportunities/bulk", {
        "action": "change_stage", "ids": [d.pk for d in deals], "values": {"stage": lost.pk}})
    assert refused.status_code in (400, 422) and "lost_reason" in str(refused.data)
    job = run(api_as(org.west_manager), "/opportunities/bulk", {
        "action": "change_stage", "ids": [d.pk for d in deals],
        "values": {"stage": lost.pk, "lost_reason": "Budget cut"}})
    assert job.result["done"] == 2
    for deal in Opportunity.objects.filter(pk__in=[d.pk for d in deals]):
        assert deal.stage_id == lost.pk and deal.lost_reason == "Budget cut"
        assert deal.version == deals[0].version + 1


def test_an_executive_may_not_start_bulk_work(org, api_as):
    account = make_account(org.west_rep)
    answer = api_as(org.executive).post("/accounts/bulk", {
        "action": "delete", "ids": [account.pk]})
    assert answer.status_code == 403
