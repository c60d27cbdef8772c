"""Every quality check on hand-built records: what it flags, what it leaves alone, and who
sees the item."""

from datetime import timedelta

import pytest
from django.utils import timezone

from salesplan.core.clock import company_today
from salesplan.customers.models import LeadStatus
from salesplan.quality import checks as qc
from salesplan.quality.models import QualitySettings, RecordType, RequiredField, Review

from ..factories import make_account, make_activity, make_contact, make_lead, make_opportunity
from .conftest import backdate, change_stage, push_close_date, recent_activity, stage


def flagged(key: str, user) -> set[int]:
    return set(qc.CHECKS[key].query(user, qc.Context.current()).values_list("pk", flat=True))


def test_stale_opportunities(org, deal):
    assert flagged("stale_opportunity", org.west_rep) == {deal.pk}
    # an activity 29 days ago is within the default 30 days
    recent_activity(deal, days_ago=29)
    assert flagged("stale_opportunity", org.west_rep) == set()


def test_stale_threshold_is_configurable_and_planned_work_counts(org, deal):
    recent_activity(deal, days_ago=10)
    QualitySettings.objects.update_or_create(pk=QualitySettings.current().pk,
                                             defaults={"stale_after_days": 7})
    assert flagged("stale_opportunity", org.west_rep) == {deal.pk}
    make_activity(org.west_rep, deal.account, opportunity=deal,
                  due_at=timezone.now() + timedelta(days=3))  # a follow-up is planned
    assert flagged("stale_opportunity", org.west_rep) == set()


def test_new_and_closed_deals_are_not_stale(org):
    make_opportunity(org.west_rep)  # created today
    won = make_opportunity(org.west_rep, stage_position=5)
    backdate(won, 90)
    assert flagged("stale_opportunity", org.west_rep) == set()


def test_past_close_date(org, deal):
    late = make_opportunity(org.west_rep, close_date=company_today() - timedelta(days=1))
    make_opportunity(org.west_rep, close_date=company_today())
    lost = make_opportunity(org.west_rep, stage_position=6,
                            close_date=company_today() - timedelta(days=9))
    assert flagged("past_close_date", org.west_rep) == {late.pk}
    assert lost.pk not in flagged("past_close_date", org.admin)


def test_close_date_pushed_twice(org, deal):
    d = company_today()
    push_close_date(deal, d, d + timedelta(days=30))
    assert flagged("close_date_pushed", org.west_rep) == set()
    push_close_date(deal, d + timedelta(days=30), d + timedelta(days=10))  # pulled in
    assert flagged("close_date_pushed", org.west_rep) == set()
    push_close_date(deal, d + timedelta(days=10), d + timedelta(days=40))
    assert flagged("close_date_pushed", org.west_rep) == {deal.pk}
    row = qc.CHECKS["close_date_pushed"].query(org.west_rep, qc.Context.current()).get()
    assert row.pushes == 2


def test_a_review_clears_pushes_until_the_next_push(org, deal):
    d = company_today()
    push_close_date(deal, d, d + timedelta(days=5), days_ago=3)
    push_close_date(deal, d + timedelta(days=5), d + timedelta(days=9), days_ago=2)
    Review.objects.create(check_key="close_date_pushed", record_id=deal.pk,
                          reviewed_by=org.west_manager)
    assert flagged("close_date_pushed", org.west_rep) == set()
    push_close_date(deal, d + timedelta(days=9), d + timedelta(days=20), days_ago=-0.001)
    push_close_date(deal, d + timedelta(days=20), d + timedelta(days=25), days_ago=-0.002)
    assert flagged("close_date_pushed", org.west_rep) == {deal.pk}


def test_skipped_and_reversed_stages(org):
    skipped, back, steady, lost, old = (make_opportunity(org.west_rep) for _ in range(5))
    change_stage(skipped, 0, 3)  # Prospecting → Proposal skips two stages
    change_stage(back, 3, 2)  # Proposal → Needs analysis goes back
    change_stage(steady, 0, 1)
    change_stage(steady, 1, 2)
    change_stage(lost, 1, 6)  # closing lost may happen from any stage
    change_stage(old, 0, 4, days_ago=200)  # outside the 90-day window
    assert flagged("stage_jump", org.west_rep) == {skipped.pk, back.pk}


def test_no_next_step(org, deal):
    bare = make_opportunity(org.west_rep, next_step="")
    planned = make_opportunity(org.west_rep, next_step="")
    make_activity(org.west_rep, planned.account, opportunity=planned,
                  due_at=timezone.now() + timedelta(days=2))
    done_only = make_opportunity(org.west_rep, next_step="")
    recent_activity(done_only, done=True)
    assert flagged("no_next_step", org.west_rep) == {bare.pk, done_only.pk}


def test_required_fields_per_type_and_stage(org):
    proposal = stage(3)
    RequiredField.objects.create(record_type=RecordType.OPPORTUNITY, field="contact",
                                 stage=proposal)
    RequiredField.objects.create(record_type=RecordType.OPPORTUNITY, field="amount",
                                 stage=proposal)
    RequiredField.objects.create(record_type=RecordType.ACCOUNT, field="industry")
    early = make_opportunity(org.west_rep, stage_position=1)  # before Proposal: no rule
    no_contact = make_opportunity(org.west_rep, stage_position=3)
    account = make_account(org.west_rep, industry="Retail")
    contact = make_contact(org.west_rep, account)
    no_amount = make_opportunity(org.west_rep, account=account, contact=contact,
                                 stage_position=4, amount=0)
    complete = make_opportunity(org.west_rep, account=account, contact=contact,
                                stage_position=3)
    assert flagged("missing_opportunity_fields", org.west_rep) == {no_contact.pk, no_amount.pk}
    assert early.pk not in flagged("missing_opportunity_fields", org.admin)
    assert complete.pk not in flagged("missing_opportunity_fields", org.admin)
    assert qc.missing_in(no_amount, RecordType.OPPORTUNITY) == ["amount"]
    assert qc.missing_in(no_contact, RecordType.OPPORTUNITY) == ["contact"]
    # accounts: the factory's accounts have no industry, except the one above
    assert account.pk not in flagged("missing_account_fields", org.west_rep)
    assert no_contact.account_id in flagged("missing_account_fields", org.west_rep)


def test_without_a_policy_nothing_is_missing(org):
    make_account(org.west_rep)
    assert flagged("missing_account_fields", org.admin) == set()


def test_overdue_activities(org):
    account = make_account(org.west_rep)
    overdue = make_activity(org.west_rep, account, due_at=timezone.now() - timedelta(days=2))
    make_activity(org.west_rep, account, due_at=timezone.now() - timedelta(days=2), done=True)
    make_activity(org.west_rep, account, kind="note",
                  due_at=timezone.now() - timedelta(days=2))
    make_activity(org.west_rep, account, due_at=timezone.now() + timedelta(hours=2))
    assert flagged("overdue_activity", org.west_rep) == {overdue.pk}


def test_leads_not_followed_up(org):
    waiting = make_lead(org.west_rep)
    backdate(waiting, 3)  # 72 hours > 48
    fresh = make_lead(org.west_rep)
    backdate(fresh, 1)
    touched = make_lead(org.west_rep)
    backdate(touched, 3)
    make_activity(org.west_rep, lead=touched, done=True)
    planned_only = make_lead(org.west_rep)
    backdate(planned_only, 3)
    make_activity(org.west_rep, lead=planned_only, done=False)
    dropped = make_lead(org.west_rep, status=LeadStatus.UNQUALIFIED)
    backdate(dropped, 3)
    assert flagged("lead_not_followed_up", org.west_rep) == {waiting.pk, planned_only.pk}


@pytest.mark.parametrize("key", sorted(qc.CHECKS))
def test_every_check_answers_for_every_role(org, key):
    for user in (org.admin, org.vp, org.west_manager, org.west_rep, org.marketer,
                 org.executive):
        list(qc.CHECKS[key].query(user, qc.Context.current())[:5])


def test_items_follow_visibility(org, deal, east_deal):
    assert flagged("stale_opportunity", org.west_rep) == {deal.pk}
    assert flagged("stale_opportunity", org.east_rep) == {east_deal.pk}
    assert flagged("stale_opportunity", org.west_manager) == {deal.pk}
    assert flagged("stale_opportunity", org.vp) == {deal.pk, east_deal.pk}
    assert flagged("stale_opportunity", org.executive) == {deal.pk, east_deal.pk}
    assert flagged("stale_opportunity", org.marketer) == set()


def test_the_marketing_sla_sets_the_first_touch_time(org):
    from django.apps import apps

    lead = make_lead(org.west_rep)
    backdate(lead, 1.5)  # 36 hours: within our default 48, past a 24-hour marketing SLA
    assert qc.lead_first_touch_hours(qc.Context.current())[0] == 48
    assert flagged("lead_not_followed_up", org.west_rep) == set()
    policy = apps.get_model("marketing", "MarketingPolicy")
    policy.objects.create(sla_hours=24)
    assert qc.lead_first_touch_hours(qc.Context.current()) == (24, "marketing SLA")
    assert flagged("lead_not_followed_up", org.west_rep) == {lead.pk}


def test_many_flagged_deals_page_stage_by_stage_in_close_date_order(org, monkeypatch):
    from salesplan.quality import selectors

    monkeypatch.setattr(selectors, "PROBE", 2)  # more than 2 flagged: the per-stage path
    today = company_today()
    made = []
    for i, position in enumerate([0, 3, 1, 4, 0, 2, 3]):
        made.append(make_opportunity(org.west_rep, stage_position=position, name=f"D{i}",
                                     close_date=today - timedelta(days=20 - i)))
    seen, cursor = [], None
    for _ in range(10):
        page, items = selectors.check_page(org.west_rep, qc.CHECKS["past_close_date"],
                                           cursor=cursor, limit=3)
        seen.extend(i.record_id for i in items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [o.pk for o in made]  # every one, once, oldest close date first


def test_stage_jumps_are_copied_as_the_history_grows(org):
    from salesplan.quality.models import StageJump

    first, second = make_opportunity(org.west_rep), make_opportunity(org.west_rep)
    change_stage(first, 0, 3)
    assert flagged("stage_jump", org.west_rep) == {first.pk}
    change_stage(second, 4, 1)  # recorded after the first copy
    change_stage(second, 1, 2)  # a normal step is not copied
    assert flagged("stage_jump", org.west_rep) == {first.pk, second.pk}
    assert StageJump.objects.count() == 2
    assert qc.sync_stage_jumps(qc.Context.current()) == 0  # nothing new


def test_counts_per_owner_add_up_for_annotated_checks(org):
    from salesplan.quality.scoring import issues_by_owner
    from salesplan.quality.selectors import counts_by_owner

    d = company_today()
    for pushes in (2, 3):
        opportunity = make_opportunity(org.west_rep, next_step="Call")
        for i in range(pushes):
            push_close_date(opportunity, d + timedelta(days=i), d + timedelta(days=i + 1))
    assert issues_by_owner()[org.west_rep.pk]["close_date_pushed"] == 2
    rows, _notes = counts_by_owner(org.west_manager)
    assert {r["owner_id"]: r["counts"] for r in rows}[org.west_rep.pk] == {
        "close_date_pushed": 2}
