"""A quote's life over the API: submit, approvals in step order, send, accept (the deal is
won with the quote's total), reject, expire; and what each person may do."""

from datetime import timedelta
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from salesplan.core.audit import history_for
from salesplan.core.clock import company_today
from salesplan.pipeline.models import Opportunity
from salesplan.proposals import services
from salesplan.proposals.models import Approval, Quote, QuoteVersion

from ..api.conftest import assert_problem
from .conftest import qv, qv_query, stored_quote

Q = "/quotes"


def test_over_the_limit_it_waits_for_the_manager_then_is_sent_and_accepted(org, api_as,
                                                                            west_quote):
    rep, manager = api_as(org.west_rep), api_as(org.west_manager)
    url = f"{Q}/{west_quote.pk}"
    detail = rep.get(url).data
    # 10 × 100 less 15% = 850.00; 5 × 150 = 750.00; margins 250.00 and 550.00.
    assert detail["current"]["total"] == "1600.00"
    assert [(line["line_net"], line["margin"]) for line in detail["current"]["lines"]] == [
        ("850.00", "250.00"), ("750.00", "550.00")]
    # Over the rep's 10%: it cannot be sent before the manager approves.
    refused = rep.post(f"{url}/send", qv(west_quote))
    assert "needs approval" in assert_problem(refused, 422, "status")["detail"]
    submitted = rep.post(f"{url}/submit", qv(west_quote)).data
    assert submitted["status"] == "in_approval"
    approvals = rep.get(f"{url}/approvals").data
    assert [(a["step"], a["approver"], a["can_decide"]) for a in approvals] == [
        (1, "manager", False)]
    assert approvals[0]["reasons"][0]["lines"] == [
        {"line": 1, "sku": "RT-100", "why": "extra discount 15%"}]
    assert_problem(rep.post(f"{url}/approvals/{approvals[0]['id']}/approve", qv(west_quote)), 403)
    assert_problem(rep.post(f"{url}/send", qv(west_quote)), 422, "status")
    # The manager sees it in the inbox, with the lines and the rule.
    inbox = manager.get(f"{Q}/approvals/inbox").data
    assert [(i["quote"]["number"], i["approval"]["reasons"][0]["rule"]) for i in inbox] == [
        (west_quote.number, "Discount above 10%")]
    assert api_as(org.east_manager).get(f"{Q}/approvals/inbox").data == []
    approved = manager.post(f"{url}/approvals/{approvals[0]['id']}/approve",
                            qv(west_quote, comment="Strategic account."))
    assert approved.data["status"] == "approved" and approved.data["comment"] == \
        "Strategic account."
    assert rep.get(url).data["status"] == "approved"
    assert rep.post(f"{url}/send", qv(west_quote)).data["status"] == "sent"
    # A PATCH never changes a status; a sent quote is not edited.
    assert_problem(rep.patch(url, {"status": "accepted", "version": 1}), 422, "status")
    patched = rep.patch(url, {"payment_terms": "Net 60", "version": rep.get(url).data["version"]})
    assert "Create a new version" in assert_problem(patched, 422, "status")["detail"]
    line_id = detail["current"]["lines"][0]["id"]
    assert_problem(rep.patch(f"{url}/lines/{line_id}", qv(west_quote, quantity="1")), 422, "status")
    assert QuoteVersion.objects.get(quote=west_quote).payment_terms == "Net 30"
    # Accepting wins the deal with the quote's total.
    accepted = rep.post(f"{url}/accept", qv(west_quote))
    assert accepted.data["status"] == "accepted", accepted.data
    opportunity = Opportunity.objects.get(pk=west_quote.opportunity_id)
    assert (opportunity.status, opportunity.amount) == ("won", D("1600.00"))
    assert [(e.field, e.old_value, e.new_value) for e in history_for(west_quote)
            if e.field == "status"] == [("status", "sent", "accepted"),
                                        ("status", "approved", "sent"),
                                        ("status", "in_approval", "approved"),
                                        ("status", "draft", "in_approval")]
    approval = Approval.objects.get(pk=approvals[0]["id"])
    assert approval.decided_by == org.west_manager
    assert [e.new_value for e in history_for(approval) if e.field == "status"] == ["approved"]


def test_two_steps_are_decided_in_order_and_a_rejection_returns_the_quote_to_draft(org,
                                                                                  api_as):
    quote = stored_quote(org.west_rep, [("RT-100", "4", "100", "25", "60")])
    url = f"{Q}/{quote.pk}"
    api_as(org.west_rep).post(f"{url}/submit", qv(quote))
    step1, step2 = api_as(org.west_rep).get(f"{url}/approvals").data
    assert (step1["approver"], step2["approver"]) == ("manager", "director")
    assert (step1["assignee_id"], step2["assignee_id"]) == (org.west_manager.pk, org.vp.pk)
    vp, manager = api_as(org.vp), api_as(org.west_manager)
    # Step 1 is the team manager's alone: the regional manager above may not sign it; the
    # director's step waits for it, and is not the team manager's.
    assert vp.get(f"{Q}/approvals/inbox").data == []
    assert_problem(vp.post(f"{url}/approvals/{step1['id']}/approve", qv(quote)), 403)
    assert_problem(vp.post(f"{url}/approvals/{step2['id']}/approve", qv(quote)), 422, "step")
    assert_problem(manager.post(f"{url}/approvals/{step2['id']}/approve", qv(quote)), 403)
    manager.post(f"{url}/approvals/{step1['id']}/approve", qv(quote))
    assert vp.get(f"{Q}/approvals/inbox").data[0]["approval"]["id"] == step2["id"]
    assert api_as(org.west_rep).get(url).data["status"] == "in_approval"
    assert_problem(vp.post(f"{url}/approvals/{step2['id']}/reject", qv(quote)), 422, "comment")
    rejected = vp.post(f"{url}/approvals/{step2['id']}/reject", qv(quote, comment="Too deep."))
    assert rejected.data["status"] == "rejected"
    assert api_as(org.west_rep).get(url).data["status"] == "draft"
    # Submitted again, it needs both steps again.
    api_as(org.west_rep).post(f"{url}/submit", qv(quote))
    pending = [a for a in api_as(org.west_rep).get(f"{url}/approvals").data
               if a["status"] == "pending"]
    assert [a["step"] for a in pending] == [1, 2]


def test_within_the_limit_it_is_approved_at_once_and_may_be_sent_from_draft(org, api_as):
    quote = stored_quote(org.west_rep, [("RT-100", "2", "100", "10", "60")])
    rep = api_as(org.west_rep)
    assert rep.post(f"{Q}/{quote.pk}/send", qv(quote)).data["status"] == "sent"
    other = stored_quote(org.west_rep, [("RT-100", "2", "100", "0", "60")])
    assert rep.post(f"{Q}/{other.pk}/submit", qv(other)).data["status"] == "approved"
    assert not Approval.objects.filter(quote_version__quote=other).exists()


def test_only_one_quote_per_opportunity_is_accepted(org, api_as, west_quote):
    second = stored_quote(org.west_rep, [("RT-100", "1", "100", "0", "60")],
                          opportunity=west_quote.opportunity)
    for quote in (west_quote, second):
        quote.status = "sent"
        quote.save()
    rep = api_as(org.west_rep)
    assert rep.post(f"{Q}/{second.pk}/accept", qv(second)).data["status"] == "accepted"
    refused = rep.post(f"{Q}/{west_quote.pk}/accept", qv(west_quote))
    assert "already accepted" in assert_problem(refused, 422, "status")["detail"]
    assert Quote.objects.get(pk=west_quote.pk).status == "sent"
    assert Opportunity.objects.get(pk=west_quote.opportunity_id).amount == D("100.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Quote.objects.filter(pk=west_quote.pk).update(status="accepted")


def test_accept_may_move_the_deal_to_a_chosen_stage(org, api_as, west_quote):
    west_quote.status = "sent"
    west_quote.save()
    stage = west_quote.opportunity.pipeline.stages.get(position=3)
    answer = api_as(org.west_rep).post(f"{Q}/{west_quote.pk}/accept",
                                       qv(west_quote, stage_id=stage.pk))
    assert answer.status_code == 200, answer.data
    opportunity = Opportunity.objects.get(pk=west_quote.opportunity_id)
    assert (opportunity.stage_id, opportunity.amount) == (stage.pk, D("1600.00"))


def test_a_new_version_copies_the_lines_and_keeps_the_old_one_readable(org, api_as,
                                                                       west_quote):
    west_quote.status = "sent"
    west_quote.save()
    rep = api_as(org.west_rep)
    created = rep.post(f"{Q}/{west_quote.pk}/versions", qv(west_quote))
    assert created.status_code == 201 and created.data["number"] == 2
    assert [line["sku"] for line in created.data["lines"]] == ["RT-100", "SV-INST"]
    detail = rep.get(f"{Q}/{west_quote.pk}").data
    assert (detail["status"], detail["current_number"]) == ("draft", 2)
    old = rep.get(f"{Q}/{west_quote.pk}/versions/1").data
    assert old["closed_status"] == "sent" and old["total"] == "1600.00"
    changed = rep.patch(f"{Q}/{west_quote.pk}", {"payment_terms": "Net 45",
                                                 "version": detail["version"]})
    assert changed.data["current"]["payment_terms"] == "Net 45"
    assert rep.get(f"{Q}/{west_quote.pk}/versions/1").data["payment_terms"] == "Net 30"
    stale = rep.patch(f"{Q}/{west_quote.pk}", {"payment_terms": "Net 10",
                                               "version": detail["version"]})
    assert_problem(stale, 409)


def test_sent_quotes_past_validity_expire_from_the_cli(org, west_quote):
    west_quote.status = "sent"
    west_quote.save()
    fresh = stored_quote(org.west_rep, [("RT-100", "1", "100", "0", "60")])
    fresh.status = "sent"
    fresh.save()
    QuoteVersion.objects.filter(quote=west_quote).update(
        valid_until=company_today() - timedelta(days=1))
    out = StringIO()
    call_command("quotes", "expire", stdout=out)
    assert out.getvalue().strip() == f"1 quote(s) expired: {west_quote.number}."
    assert Quote.objects.get(pk=west_quote.pk).status == "expired"
    assert Quote.objects.get(pk=fresh.pk).status == "sent"
    assert services.expire_quotes() == []


def test_cli_lists_shows_and_sends_as_the_user(org, west_quote, tmp_path):
    out = StringIO()
    call_command("quotes", "list", "--as", org.west_rep.username, stdout=out)
    assert west_quote.number in out.getvalue() and "1,600.00" in out.getvalue()
    out = StringIO()
    call_command("quotes", "list", "--as", org.east_rep.username, stdout=out)
    assert out.getvalue() == ""
    out = StringIO()
    call_command("quotes", "show", str(west_quote.pk), stdout=out)
    assert "margin 29.41%" in out.getvalue() and "total USD 1,600.00" in out.getvalue()
    with pytest.raises(CommandError, match="needs approval"):
        call_command("quotes", "send", str(west_quote.pk), "--as", org.west_rep.username)
    with pytest.raises(CommandError, match="No quote"):
        call_command("quotes", "show", str(west_quote.pk), "--as", org.east_rep.username)
    target = tmp_path / "q.pdf"
    call_command("quotes", "pdf", str(west_quote.pk), str(target), stdout=StringIO())
    assert target.read_bytes().startswith(b"%PDF")


def test_the_list_costs_the_same_queries_for_more_quotes_and_the_audit_reads(org, api_as,
                                                                              west_quote):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rep = api_as(org.west_rep)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert rep.get(Q).status_code == 200
        return len(captured)

    queries()  # the token's first use is noted once
    few = queries()
    for _ in range(4):
        stored_quote(org.west_rep, [("RT-100", "1", "100", "0", "60")])
    assert len(rep.get(Q).data["items"]) == 5
    assert queries() == few
    assert [q["number"] for q in api_as(org.west_manager).get(Q, status="draft").data["items"]
            ][-1] == west_quote.number
    rep.post(f"{Q}/{west_quote.pk}/submit", qv(west_quote))
    audit = rep.get(f"{Q}/{west_quote.pk}/audit").data["items"]
    assert (audit[0]["field"], audit[0]["new_value"]) == ("status", "in_approval")
    assert_problem(api_as(org.east_rep).get(f"{Q}/{west_quote.pk}/audit"), 404)


def test_only_a_fresh_draft_is_deleted(org, api_as, west_quote):
    rep = api_as(org.west_rep)
    fresh = stored_quote(org.west_rep, [("RT-100", "1", "100", "0", "60")])
    assert rep.delete(f"{Q}/{fresh.pk}{qv_query(fresh)}").status_code == 204
    assert not Quote.objects.filter(pk=fresh.pk).exists()
    assert_problem(api_as(org.executive).delete(f"{Q}/{west_quote.pk}{qv_query(west_quote)}"), 403)
    rep.post(f"{Q}/{west_quote.pk}/submit", qv(west_quote))
    approval = Approval.objects.get(quote_version__quote=west_quote)
    api_as(org.west_manager).post(f"{Q}/{west_quote.pk}/approvals/{approval.pk}/reject",
                                  qv(west_quote, comment="No."))
    assert_problem(rep.delete(f"{Q}/{west_quote.pk}{qv_query(west_quote)}"), 422, "status")
    assert Quote.objects.filter(pk=west_quote.pk).exists()
