"""Deactivating a person hands everything they hold to a successor in one transaction,
refuses a changed situation, and locks them out of pages and the API; reactivation."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from salesplan.activities.models import Activity
from salesplan.core.clock import company_today
from salesplan.core.models import AuditEntry
from salesplan.customers.models import Account, Contact, Lead
from salesplan.org.models import User
from salesplan.org.services import create_api_token
from salesplan.pipeline.models import Opportunity
from salesplan.planning.models import Level, Measure, Objective, Plan
from salesplan.reports.models import SavedReport, ScheduledReport
from salesplan.territories.models import Alignment, Territory, TerritoryMember

from ..api.conftest import assert_problem
from ..factories import PASSWORD, make_account, make_activity, make_lead, make_opportunity


def holdings_of(rep, manager):
    """One record of every kind a rep can hold."""
    account = make_account(rep)
    won = make_opportunity(rep, account)
    Opportunity.objects.filter(pk=won.pk).update(status="won")
    alignment = Alignment.objects.create(name="FY", status=Alignment.Status.ACTIVE)
    territory = Territory.objects.create(alignment=alignment, name="Bay Area")
    plan = Plan.objects.create(name="Plan", fiscal_year=company_today().year, owner=manager)
    saved = SavedReport.objects.create(name="My pipeline", report="pipeline", owner=rep)
    return {
        "account": account,
        "contact": Contact.objects.create(owner=rep, account=account, first_name="C",
                                          last_name="Ontact", email="c@example.com"),
        "lead": make_lead(rep),
        "opportunity": make_opportunity(rep, account),
        "won": won,
        "activity": make_activity(rep, account),
        "done_activity": make_activity(rep, account, done=True, done_at=timezone.now()),
        "membership": TerritoryMember.objects.create(territory=territory, user=rep,
                                                     start_date=company_today()),
        "ended_membership": TerritoryMember.objects.create(
            territory=territory, user=rep, start_date=company_today() - timedelta(days=60),
            end_date=company_today() - timedelta(days=30)),
        "target": Objective.objects.create(plan=plan, measure=Measure.BOOKINGS,
                                           level=Level.REP, rep=rep),
        "saved": saved,
        "schedule": ScheduledReport.objects.create(
            saved_report=saved, recipients=["boss@example.com"], next_run=timezone.now(),
            created_by=rep),
    }


def test_deactivation_hands_every_record_to_the_successor_at_once(org, api_as):
    rep, heir = org.west_rep, org.west_rep2
    held = holdings_of(rep, org.west_manager)
    client = Client()
    client.force_login(rep)
    _, key = create_api_token(rep, "sync")
    api = api_as(org.admin)

    preview = api.get(f"/people/{rep.pk}/handover", successor_id=heir.pk)
    assert preview.status_code == 200, preview.content
    rows = {h["kind"]: h for h in preview.data["holdings"]}
    assert {k: rows[k]["count"] for k in rows} == {
        "accounts": 1, "contacts": 1, "leads": 1, "opportunities": 1, "activities": 1,
        "territory_memberships": 1, "plan_targets": 1, "scheduled_reports": 1}
    assert rows["accounts"]["goes_to"] == heir.get_full_name()
    assert rows["opportunities"]["record_ids"] == [held["opportunity"].pk]

    done = api.post(f"/people/{rep.pk}/deactivate", {
        "successor_id": heir.pk, "fingerprint": preview.data["fingerprint"]})
    assert done.status_code == 200, done.content
    assert sum(done.data["moved"].values()) == 8

    def owner(model, obj, field="owner_id"):
        return model.objects.filter(pk=obj.pk).values_list(field, flat=True).get()

    assert owner(Account, held["account"]) == heir.pk
    assert owner(Contact, held["contact"]) == heir.pk
    assert owner(Lead, held["lead"]) == heir.pk
    assert owner(Opportunity, held["opportunity"]) == heir.pk
    assert owner(Activity, held["activity"]) == heir.pk
    assert owner(TerritoryMember, held["membership"], "user_id") == heir.pk
    assert owner(Objective, held["target"], "rep_id") == heir.pk
    assert owner(SavedReport, held["saved"]) == heir.pk
    assert owner(ScheduledReport, held["schedule"], "created_by_id") == heir.pk
    # History stays with whoever made it.
    assert owner(Opportunity, held["won"]) == rep.pk
    assert owner(Activity, held["done_activity"]) == rep.pk
    assert owner(TerritoryMember, held["ended_membership"], "user_id") == rep.pk
    # Moved records' versions moved on, so an edit opened before is refused.
    assert Account.objects.get(pk=held["account"].pk).version == held["account"].version + 1
    assert AuditEntry.objects.filter(record_type="account", record_id=held["account"].pk,
                                     field="owner", changed_by=org.admin).exists()

    stored = User.objects.get(pk=rep.pk)
    assert not stored.is_active and stored.deactivated_at is not None
    # Locked out: the open session, a fresh login and the API token.
    assert client.get("/").status_code == 302
    assert not Client().login(username="westrep", password=PASSWORD)
    refused = Client().post("/login/", {"username": "westrep", "password": PASSWORD})
    assert refused.status_code == 200 and b"do not match" in refused.content
    assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}
                        ).status_code == 401

    back = api.post(f"/people/{rep.pk}/reactivate", {"version": stored.version})
    assert back.status_code == 200 and back.data["is_active"] is True
    assert Client().login(username="westrep", password=PASSWORD)
    assert owner(Account, held["account"]) == heir.pk  # what was handed over stays


def test_a_changed_situation_is_refused_with_409_and_nothing_moves(org, api_as):
    rep = org.west_rep
    account = make_account(rep)
    api = api_as(org.admin)
    preview = api.get(f"/people/{rep.pk}/handover", successor_id=org.west_rep2.pk).data
    make_opportunity(rep, account)  # arrives after the preview
    refused = api.post(f"/people/{rep.pk}/deactivate", {
        "successor_id": org.west_rep2.pk, "fingerprint": preview["fingerprint"]})
    assert_problem(refused, 409)
    assert User.objects.get(pk=rep.pk).is_active
    assert Account.objects.get(pk=account.pk).owner_id == rep.pk
    # A preview for another successor does not apply to this one either.
    other = api.get(f"/people/{rep.pk}/handover", successor_id=org.east_rep.pk).data
    assert_problem(api.post(f"/people/{rep.pk}/deactivate", {
        "successor_id": org.west_rep2.pk, "fingerprint": other["fingerprint"]}), 409)


def test_someone_holding_records_needs_a_successor_and_only_admins_deactivate(org, api_as):
    rep = org.west_rep
    make_account(rep)
    api = api_as(org.admin)
    preview = api.get(f"/people/{rep.pk}/handover").data
    assert_problem(api.post(f"/people/{rep.pk}/deactivate", {
        "fingerprint": preview["fingerprint"]}), 422, "successor")
    assert_problem(api.get(f"/people/{rep.pk}/handover", successor_id=rep.pk), 422, "successor")
    assert api_as(org.west_manager).get(f"/people/{rep.pk}/handover").status_code == 403
    assert_problem(api.post(f"/people/{org.admin.pk}/deactivate", {
        "fingerprint": "x"}), 422, "user")
    assert User.objects.get(pk=rep.pk).is_active


def test_teams_and_reports_of_a_departing_manager_go_to_the_successor(org, api_as):
    api = api_as(org.admin)
    api.patch(f"/people/{org.west_rep.pk}", {"version": org.west_rep.version,
                                             "manager_id": org.west_manager.pk})
    preview = api.get(f"/people/{org.west_manager.pk}/handover",
                      successor_id=org.vp.pk).data
    rows = {h["kind"]: h["record_ids"] for h in preview["holdings"]}
    assert rows == {"teams_managed": [org.west.pk], "reports": [org.west_rep.pk]}
    assert api.post(f"/people/{org.west_manager.pk}/deactivate", {
        "successor_id": org.vp.pk, "fingerprint": preview["fingerprint"]}).status_code == 200
    west_version = org.west.version
    org.west.refresh_from_db()
    assert org.west.manager_id == org.vp.pk and org.west.version == west_version + 1
    assert User.objects.get(pk=org.west_rep.pk).manager_id == org.vp.pk


def test_an_admin_ends_a_persons_sessions(org, api_as):
    rep = Client()
    rep.force_login(org.east_rep)
    other_browser = Client()
    other_browser.force_login(org.east_rep)
    bystander = Client()
    bystander.force_login(org.west_rep)
    assert rep.get("/").status_code == 200
    ended = api_as(org.admin).delete(f"/people/{org.east_rep.pk}/sessions")
    assert ended.status_code == 200 and ended.data == {"ended": 2}
    assert rep.get("/").status_code == 302
    assert other_browser.get("/").status_code == 302
    assert bystander.get("/").status_code == 200
    assert api_as(org.vp).delete(f"/people/{org.west_rep.pk}/sessions").status_code == 403


def test_the_hand_over_page_previews_and_applies(org):
    rep, heir = org.west_rep, org.west_rep2
    account = make_account(rep)
    admin = Client()
    admin.force_login(org.admin)
    page = admin.get(f"/settings/people/{rep.pk}/deactivate/", {"successor": heir.pk})
    assert page.status_code == 200 and b"Accounts owned" in page.content
    fingerprint = page.context["plan"].fingerprint
    make_lead(rep)
    stale = admin.post(f"/settings/people/{rep.pk}/deactivate/", {
        "successor": heir.pk, "fingerprint": fingerprint})
    assert stale.status_code == 409 and b"changed since" in stale.content
    fresh = stale.context["plan"].fingerprint
    done = admin.post(f"/settings/people/{rep.pk}/deactivate/", {
        "successor": heir.pk, "fingerprint": fresh})
    assert done.status_code == 302
    assert Account.objects.get(pk=account.pk).owner_id == heir.pk
    assert not User.objects.get(pk=rep.pk).is_active


def test_quotes_and_the_approval_steps_waiting_on_a_manager_go_to_the_successor(org, api_as):
    from salesplan.proposals import services as proposals
    from salesplan.proposals.models import Quote

    from ..proposals.conftest import stored_quote

    quote = stored_quote(org.west_rep, [("RT-100", "10", "100", "15", "60")])
    proposals.submit_quote(quote, by=org.west_rep)  # 15% is over a rep's 10%: the manager
    api = api_as(org.admin)
    manager = api.get(f"/people/{org.west_manager.pk}/handover",
                      successor_id=org.east_manager.pk).data
    approvals = next(h for h in manager["holdings"] if h["kind"] == "quote_approvals")
    assert approvals["count"] == 1 and approvals["goes_to"] == str(org.east_manager)
    rep = api.get(f"/people/{org.west_rep.pk}/handover", successor_id=org.west_rep2.pk).data
    assert {h["kind"]: h["record_ids"] for h in rep["holdings"]}["quotes"] == [quote.pk]

    api.post(f"/people/{org.west_manager.pk}/deactivate", {
        "successor_id": org.east_manager.pk, "fingerprint": manager["fingerprint"]})
    east = api.get(f"/people/{org.east_manager.pk}/handover",
                   successor_id=org.vp.pk).data
    assert any(h["kind"] == "quote_approvals" and h["count"] == 1 for h in east["holdings"])
    # The step to sign left the departing manager's inbox and is in the successor's.
    from salesplan.inbox.models import InboxItem

    waiting = InboxItem.objects.filter(kind="approval", closed_at__isnull=True)
    assert list(waiting.values_list("user_id", flat=True)) == [org.east_manager.pk]
    api.post(f"/people/{org.west_rep.pk}/deactivate", {
        "successor_id": org.west_rep2.pk, "fingerprint": rep["fingerprint"]})
    assert Quote.objects.get(pk=quote.pk).owner_id == org.west_rep2.pk
