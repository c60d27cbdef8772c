"""Quotes discounted beyond policy: a quote over a limit of the approval matrix is flagged
when it went out without the approvals it needs, or has sat as a draft or in approval too
long; its deal's owner answers for it, a rep sees only their own, and the fix submits it
through the quotes' own service."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from salesplan.core.errors import NotFound
from salesplan.proposals.approvals import LineView, RuleView, active_rules, required_approvals
from salesplan.proposals.models import (
    Approval,
    ApprovalRule,
    ApprovalStatus,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from salesplan.quality import checks as qc
from salesplan.quality import selectors
from salesplan.quality.services import apply_fix

from ..factories import make_opportunity
from ..proposals.conftest import stored_quote

KEY = "discount_beyond_policy"
ROUTERS_AT = "RT-100", "10", "100"


def flagged(user) -> set[int]:
    return set(qc.CHECKS[KEY].query(user, qc.Context.current()).values_list("pk", flat=True))


def quote_at(owner, discount: str, *, status: str = QuoteStatus.DRAFT, days_ago: float = 5,
             opportunity=None) -> Quote:
    """A quote for 10 routers at `discount`% off, last touched `days_ago` days ago."""
    quote = stored_quote(owner, [(*ROUTERS_AT, discount, "40")], opportunity=opportunity)
    Quote.objects.filter(pk=quote.pk).update(
        status=status, updated_at=timezone.now() - timedelta(days=days_ago))
    quote.refresh_from_db()
    return quote


def give(quote: Quote, approver: str, *, step: int = 1, status=ApprovalStatus.APPROVED,
         days_ago: float = 0) -> Approval:
    approval = Approval.objects.create(quote_version=quote.versions.get(number=1), step=step,
                                       approver=approver, status=status)
    Approval.objects.filter(pk=approval.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago))
    return approval


def test_drafts_over_a_limit_are_flagged_once_they_have_waited(org):
    waited = quote_at(org.west_rep, "15", days_ago=5)
    fresh = quote_at(org.west_rep, "15", days_ago=1)
    within_limit = quote_at(org.west_rep, "5", days_ago=30)
    assert flagged(org.admin) == {waited.pk}
    assert fresh.pk not in flagged(org.admin) and within_limit.pk not in flagged(org.admin)


def test_sent_or_accepted_without_the_approval_is_flagged(org):
    unapproved = quote_at(org.west_rep, "15", status=QuoteStatus.SENT, days_ago=0)
    approved = quote_at(org.west_rep, "15", status=QuoteStatus.SENT, days_ago=0)
    give(approved, "manager")
    # 25% needs the manager (step 1) and the director (step 2): the manager alone is short.
    half = quote_at(org.west_rep, "25", status=QuoteStatus.ACCEPTED, days_ago=0)
    give(half, "manager")
    both = quote_at(org.west_rep, "25", status=QuoteStatus.ACCEPTED, days_ago=0)
    give(both, "manager")
    give(both, "director", step=2)
    rejected = quote_at(org.west_rep, "15", status=QuoteStatus.APPROVED, days_ago=0)
    give(rejected, "manager", status=ApprovalStatus.REJECTED)
    within_limit = quote_at(org.west_rep, "8", status=QuoteStatus.SENT, days_ago=0)
    assert flagged(org.admin) == {unapproved.pk, half.pk, rejected.pk}
    assert within_limit.pk not in flagged(org.admin)


def test_a_higher_level_approval_covers_a_lower_one(org):
    quote = quote_at(org.west_rep, "15", status=QuoteStatus.SENT, days_ago=0)
    give(quote, "admin")
    assert flagged(org.admin) == set()


def test_quotes_waiting_for_an_approval_too_long_are_flagged(org):
    waiting = quote_at(org.west_rep, "15", status=QuoteStatus.IN_APPROVAL)
    give(waiting, "manager", status=ApprovalStatus.PENDING, days_ago=4)
    just_submitted = quote_at(org.west_rep, "15", status=QuoteStatus.IN_APPROVAL)
    give(just_submitted, "manager", status=ApprovalStatus.PENDING, days_ago=1)
    assert flagged(org.admin) == {waiting.pk}


def test_only_the_current_version_counts(org):
    quote = quote_at(org.west_rep, "15", status=QuoteStatus.SENT, days_ago=0)
    newer = quote.versions.get(number=1)
    newer.pk, newer.number = None, 2
    newer.save()
    QuoteLine.objects.create(quote_version=newer, position=1, quantity=D(1), sku="RT-100",
                             name="Router", list_unit_price=D(100), net_unit_price=D(95),
                             discount_pct=D(5), requested_discount_pct=D(5), line_net=D(95),
                             line_total=D(95))
    assert quote.pk in flagged(org.admin)
    Quote.objects.filter(pk=quote.pk).update(current_number=2)
    assert quote.pk not in flagged(org.admin)


def test_the_deal_owner_answers_and_a_rep_sees_only_their_own(org):
    deal = make_opportunity(org.west_rep)
    by_manager = quote_at(org.west_manager, "15", opportunity=deal)  # written by the manager
    east = quote_at(org.east_rep, "15")
    assert flagged(org.west_rep) == {by_manager.pk}
    assert flagged(org.east_rep) == {east.pk}
    assert flagged(org.west_manager) == {by_manager.pk}
    assert flagged(org.executive) == {by_manager.pk, east.pk}
    rows, _notes = selectors.counts_by_owner(org.west_manager)
    assert [(r["owner_id"], r["counts"].get(KEY)) for r in rows] == [(org.west_rep.pk, 1)]
    page, items = selectors.check_page(org.west_rep, qc.CHECKS[KEY])
    assert [(i.record_id, i.owner) for i in items] == [(by_manager.pk, org.west_rep)]
    assert "needs Manager of the owner's team" in items[0].detail
    assert "Discount above 10% (1 line)" in items[0].detail
    _page, owned = selectors.check_page(org.executive, qc.CHECKS[KEY], owner_id=org.east_rep.pk)
    assert [i.record_id for i in owned] == [east.pk]


def test_the_fix_submits_the_draft_for_approval(org):
    quote = quote_at(org.west_rep, "15")
    message = apply_fix(KEY, quote.pk, by=org.west_rep, data={})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.IN_APPROVAL
    assert "submitted for approval" in message
    assert list(Approval.objects.filter(quote_version__quote=quote)
                .values_list("approver", "status")) == [("manager", "pending")]
    assert quote.pk not in flagged(org.west_rep)  # waiting, but not yet too long


def test_the_fix_is_refused_where_the_user_may_not_change_the_quote(org):
    quote = quote_at(org.west_rep, "15")
    with pytest.raises(NotFound):
        apply_fix(KEY, quote.pk, by=org.east_rep, data={})
    with pytest.raises(PermissionDenied):
        apply_fix(KEY, quote.pk, by=org.executive, data={})
    sent = quote_at(org.west_rep, "15", status=QuoteStatus.SENT)
    with pytest.raises(ValidationError):
        apply_fix(KEY, sent.pk, by=org.west_rep, data={})
    quote.refresh_from_db()
    sent.refresh_from_db()
    assert (quote.status, sent.status) == (QuoteStatus.DRAFT, QuoteStatus.SENT)


def test_the_check_page_offers_the_fix(org, client):
    quote = quote_at(org.west_rep, "15")
    client.force_login(org.west_rep)
    html = client.get(f"/quality/checks/{KEY}/").content.decode()
    assert quote.number in html and "Submit for approval" in html
    response = client.post(f"/quality/checks/{KEY}/{quote.pk}/fix/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.IN_APPROVAL


@pytest.mark.parametrize("discount", ["0", "10", "10.0001", "20", "25"])
@pytest.mark.parametrize("margin", [None, "4.99", "5", "30"])
@pytest.mark.parametrize("below", [(False, False), (True, False), (False, True)])
def test_the_filter_trips_exactly_the_rules_the_matrix_does(org, discount, margin, below):
    """The check's filter and the approval matrix's own evaluation agree line by line."""
    ApprovalRule.objects.create(name="Margin under 5%", metric="margin", threshold_pct=D(5),
                                approver="director", step=2)
    quote = stored_quote(org.west_rep, [(*ROUTERS_AT, discount, "40")])
    line = QuoteLine.objects.get(quote_version__quote=quote)
    QuoteLine.objects.filter(pk=line.pk).update(
        margin_pct=None if margin is None else D(margin), below_floor=below[0],
        below_min_margin=below[1])
    view = LineView("RT-100", D(discount), None if margin is None else D(margin), *below)
    for rule in active_rules():
        by_matrix = bool(required_approvals([view], [rule]))
        by_filter = QuoteLine.objects.filter(qc.trips_q(rule), pk=line.pk).exists()
        assert by_filter == by_matrix, (rule.name, discount, margin, below)
    assert isinstance(active_rules()[0], RuleView)
