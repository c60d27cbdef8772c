"""Each kind of inbox item reaches the right person only, and leaves the inbox when the
work is done (or, for a notice, when its reader dismisses it)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from salesplan.activities import services as activities
from salesplan.collab import services as collab
from salesplan.core.audit import history_for
from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound
from salesplan.core.jobs import finish_job
from salesplan.core.models import BackgroundJob
from salesplan.inbox.models import InboxItem, Kind
from salesplan.inbox.selectors import open_items
from salesplan.marketing import routing
from salesplan.marketing import services as marketing
from salesplan.marketing.models import LeadHandoff
from salesplan.planning.evaluation import evaluate_plan
from salesplan.planning.models import PlanAlert
from salesplan.proposals import services as proposals
from salesplan.proposals.models import Approval
from salesplan.territories import services as territories

from ..factories import make_account, make_lead
from ..planning.conftest import won
from ..planning.test_evaluation import MARCH_END, targets  # noqa: F401 - fixture
from ..proposals.conftest import stored_quote

pytestmark = pytest.mark.django_db


def holders(key: str) -> set[str]:
    """Who has an open item about this record."""
    return {i.user.username for i in InboxItem.objects.open().filter(key=key)
            .select_related("user")}


def routed_lead(org):
    lead = make_lead(org.marketer, state="CA", country="US")
    routing.route_lead(lead)
    lead.refresh_from_db()
    return lead


def test_a_routed_lead_waits_for_its_rep_with_its_deadline_until_touched(
        org, territory_map, policy, django_capture_on_commit_callbacks):
    lead = routed_lead(org)
    assert lead.owner in (org.west_rep, org.west_rep2)
    [item] = open_items(lead.owner)
    handoff = LeadHandoff.objects.get(lead=lead)
    assert (item.kind, item.url, item.due_at) == (Kind.LEAD, f"/leads/{lead.pk}/",
                                                  handoff.sla_due_at)
    assert holders(f"lead:{lead.pk}") == {lead.owner.username}
    # A note by the marketer is no first touch: it stays.
    with django_capture_on_commit_callbacks(execute=True):
        activities.log_activity(by=org.admin, data={
            "kind": "note", "subject": "Checked the form", "lead": lead.pk, "done": True})
    assert holders(f"lead:{lead.pk}") == {lead.owner.username}
    with django_capture_on_commit_callbacks(execute=True):
        activities.log_activity(by=lead.owner, data={
            "kind": "call", "subject": "First call", "lead": lead.pk, "done": True})
    assert holders(f"lead:{lead.pk}") == set()
    assert InboxItem.objects.get(pk=item.pk).closed_how == "done"


def test_an_accepted_lead_leaves_the_inbox_and_a_reassigned_one_moves(
        org, territory_map, policy):
    lead = routed_lead(org)
    marketing.transition(lead, "accept", by=lead.owner)
    assert holders(f"lead:{lead.pk}") == set()
    queued = make_lead(org.marketer, state="TX", country="US")  # Texas has no owner
    routing.route_lead(queued)
    assert holders(f"lead:{queued.pk}") == set()
    marketing.assign_from_queue(queued, org.east_rep, by=org.admin)
    assert holders(f"lead:{queued.pk}") == {"eastrep"}


def test_each_approval_step_reaches_its_signer_only_and_the_owner_hears_the_decision(org):
    quote = stored_quote(org.west_rep, [("RT-100", "4", "100", "25", "60")])  # two steps
    proposals.submit_quote(quote, by=org.west_rep)
    step1, step2 = Approval.objects.filter(quote_version__quote=quote).order_by("step")
    assert holders(f"approval:{step1.pk}") == {"westmgr"}
    assert holders(f"approval:{step2.pk}") == set()  # not its turn yet
    proposals.approve(step1, by=org.west_manager)
    assert holders(f"approval:{step1.pk}") == set()
    assert holders(f"approval:{step2.pk}") == {"vp"}
    assert not open_items(org.west_rep).filter(kind=Kind.QUOTE_DECISION).exists()
    proposals.approve(step2, by=org.vp)
    assert holders(f"approval:{step2.pk}") == set()
    [decision] = open_items(org.west_rep).filter(kind=Kind.QUOTE_DECISION)
    assert "is approved" in decision.title and decision.url == f"/quotes/{quote.pk}/"
    assert holders(f"quote-decision:{quote.pk}") == {"westrep"}


def test_a_rejection_clears_every_step_and_tells_the_owner_why(org):
    quote = stored_quote(org.west_rep, [("RT-100", "4", "100", "25", "60")])
    proposals.submit_quote(quote, by=org.west_rep)
    step1 = Approval.objects.filter(quote_version__quote=quote).order_by("step").first()
    proposals.reject_approval(step1, by=org.west_manager, comment="Too deep.")
    assert not InboxItem.objects.open().filter(kind=Kind.APPROVAL).exists()
    [decision] = open_items(org.west_rep)
    assert "rejected by" in decision.title and decision.detail == "Too deep."


def test_a_boundary_exception_waits_for_the_reps_manager_until_decided(org):
    account = make_account(org.west_rep, state="NY")
    exception = territories.request_exception(
        by=org.west_rep, account=account, reason="Their buyer sits in our office.",
        until=company_today() + timedelta(days=30))
    key = f"boundary-exception:{exception.pk}"
    assert holders(key) == {"westmgr"}
    territories.approve_exception(exception, by=org.west_manager)
    assert holders(key) == set()


def test_a_plan_alert_reaches_the_manager_who_answers_for_it_and_resolves(org, targets):  # noqa: F811
    alerts = evaluate_plan(targets, as_of=MARCH_END)
    rep_alert = next(a for a in alerts if a.label == str(org.west_rep)
                     and a.measure == "bookings")
    key = f"plan-alert:{rep_alert.pk}"
    assert holders(key) == {"westmgr"}
    assert not open_items(org.east_manager).exists()
    won(org.west_rep, "5000", date(2026, 3, 20))
    evaluate_plan(targets, as_of=MARCH_END)
    assert PlanAlert.objects.get(pk=rep_alert.pk).resolved_at is not None
    assert holders(key) == set()


def test_a_mention_is_a_notice_its_reader_dismisses(org, django_capture_on_commit_callbacks):
    lead = make_lead(org.west_rep)
    comment = collab.post_comment(lead, by=org.west_rep, body="@westmgr can you call them?")
    [item] = open_items(org.west_manager)
    assert item.kind == Kind.MENTION and item.url == f"/leads/{lead.pk}/"
    assert holders(f"comment:{comment.pk}") == {"westmgr"}
    from salesplan.inbox import services as inbox

    inbox.dismiss(item, by=org.west_manager)
    assert not open_items(org.west_manager).exists()


def test_a_finished_or_failed_job_tells_whoever_started_it(org):
    done = BackgroundJob.objects.create(kind="export", created_by=org.west_rep)
    failed = BackgroundJob.objects.create(kind="import", created_by=org.west_rep)
    finish_job(done, result={}, message="1,200 rows.")
    finish_job(failed, result={}, message="Failed: bad file", failed=True)
    titles = {i.title for i in open_items(org.west_rep)}
    assert titles == {"Export finished", "Import failed"}
    assert not InboxItem.objects.exclude(user=org.west_rep).exists()


def test_only_the_addressee_signs_a_step_and_an_admin_signing_for_them_is_recorded(org):
    quote = stored_quote(org.west_rep, [("RT-100", "4", "100", "25", "60")])
    proposals.submit_quote(quote, by=org.west_rep)
    step1, step2 = Approval.objects.filter(quote_version__quote=quote).order_by("step")
    with pytest.raises(PermissionDenied):
        proposals.approve(step1, by=org.vp)  # the regional manager: not his step
    with pytest.raises(NotFound):  # another team's quote: not even visible
        proposals.approve(step1, by=org.east_manager)
    proposals.approve(step1, by=org.admin)
    step1.refresh_from_db()
    assert (step1.decided_by, step1.decided_for) == (org.admin, org.west_manager)
    signed = [e.new_value for e in history_for(step1) if e.field == "signed"]
    assert signed == [f"signed by admin {org.admin} for {org.west_manager}"]
    assert holders(f"approval:{step1.pk}") == set()
    proposals.approve(step2, by=org.vp)  # his own step
    step2.refresh_from_db()
    assert (step2.status, step2.decided_by, step2.decided_for) == ("approved", org.vp, None)
