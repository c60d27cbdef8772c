"""Each one-click fix really fixes the record, and is refused (record unchanged) for a rep
on another team's record and for the read-only executive."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from salesplan.activities.models import Activity
from salesplan.core.clock import company_date, company_today
from salesplan.core.errors import NotFound, StaleVersion
from salesplan.core.models import AuditEntry
from salesplan.pipeline.models import OpportunityChange
from salesplan.quality import checks as qc
from salesplan.quality.models import RecordType, RequiredField, Review
from salesplan.quality.services import apply_fix

from ..factories import make_account, make_activity, make_contact, make_lead, make_opportunity
from .conftest import backdate, change_stage, push_close_date


def flagged(key: str, user) -> set[int]:
    return set(qc.CHECKS[key].query(user, qc.Context.current()).values_list("pk", flat=True))


def test_set_a_new_close_date(org):
    late = make_opportunity(org.west_rep, close_date=company_today() - timedelta(days=5))
    new_date = company_today() + timedelta(days=20)
    apply_fix("past_close_date", late.pk, by=org.west_rep,
              data={"close_date": new_date.isoformat(), "version": str(late.version)})
    late.refresh_from_db()
    assert late.close_date == new_date
    assert flagged("past_close_date", org.west_rep) == set()
    change = OpportunityChange.objects.get(opportunity=late, field="close_date")
    assert change.to_close_date == new_date  # the pipeline service recorded the history


def test_close_date_fix_refuses_past_dates_and_stale_versions(org):
    late = make_opportunity(org.west_rep, close_date=company_today() - timedelta(days=5))
    with pytest.raises(ValidationError) as error:
        apply_fix("past_close_date", late.pk, by=org.west_rep,
                  data={"close_date": (company_today() - timedelta(days=1)).isoformat()})
    assert "close_date" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        apply_fix("past_close_date", late.pk, by=org.west_rep, data={"close_date": "soon"})
    assert error.value.message_dict["close_date"] == ["Enter a date as YYYY-MM-DD."]
    with pytest.raises(StaleVersion):
        apply_fix("past_close_date", late.pk, by=org.west_rep,
                  data={"close_date": company_today().isoformat(), "version": "99"})
    late.refresh_from_db()
    assert late.close_date == company_today() - timedelta(days=5)


@pytest.mark.parametrize("intruder", ["east_rep", "east_manager"])
def test_a_fix_on_another_teams_record_is_refused(org, intruder):
    late = make_opportunity(org.west_rep, close_date=company_today() - timedelta(days=5))
    with pytest.raises(NotFound):
        apply_fix("past_close_date", late.pk, by=getattr(org, intruder),
                  data={"close_date": company_today().isoformat()})
    late.refresh_from_db()
    assert late.close_date == company_today() - timedelta(days=5)


def test_the_executive_sees_but_cannot_fix(org):
    late = make_opportunity(org.west_rep, close_date=company_today() - timedelta(days=5))
    assert late.pk in flagged("past_close_date", org.executive)
    with pytest.raises(PermissionDenied):
        apply_fix("past_close_date", late.pk, by=org.executive,
                  data={"close_date": company_today().isoformat()})
    late.refresh_from_db()
    assert late.close_date == company_today() - timedelta(days=5)


def test_the_manager_fixes_the_teams_record(org):
    late = make_opportunity(org.west_rep, close_date=company_today() - timedelta(days=5))
    apply_fix("past_close_date", late.pk, by=org.west_manager,
              data={"close_date": company_today().isoformat()})
    late.refresh_from_db()
    assert late.close_date == company_today()


def test_plan_a_follow_up_clears_a_stale_deal(org, deal):
    assert flagged("stale_opportunity", org.west_rep) == {deal.pk}
    message = apply_fix("stale_opportunity", deal.pk, by=org.west_rep, data={})
    task = Activity.objects.get(opportunity=deal)
    assert task.kind == "task" and not task.done and task.owner == org.west_rep
    assert task.due_at > timezone.now()
    assert "Follow-up planned" in message
    assert flagged("stale_opportunity", org.west_rep) == set()


def test_plan_a_follow_up_refused_across_teams(org, east_deal):
    with pytest.raises(NotFound):
        apply_fix("stale_opportunity", east_deal.pk, by=org.west_rep, data={})
    assert not Activity.objects.filter(opportunity=east_deal).exists()


def test_write_down_the_next_step(org):
    bare = make_opportunity(org.west_rep, next_step="")
    with pytest.raises(ValidationError):
        apply_fix("no_next_step", bare.pk, by=org.west_rep, data={"next_step": "   "})
    apply_fix("no_next_step", bare.pk, by=org.west_rep, data={"next_step": "Demo on Friday"})
    bare.refresh_from_db()
    assert bare.next_step == "Demo on Friday"
    assert flagged("no_next_step", org.west_rep) == set()
    assert AuditEntry.objects.filter(record_type="opportunity", record_id=bare.pk,
                                     field="next_step", new_value="Demo on Friday").exists()


def test_reviews_are_for_managers(org, deal):
    d = company_today()
    push_close_date(deal, d, d + timedelta(days=5), days_ago=3)
    push_close_date(deal, d + timedelta(days=5), d + timedelta(days=9), days_ago=2)
    with pytest.raises(PermissionDenied):
        apply_fix("close_date_pushed", deal.pk, by=org.west_rep, data={})
    with pytest.raises(NotFound):
        apply_fix("close_date_pushed", deal.pk, by=org.east_manager, data={})
    assert not Review.objects.exists()
    apply_fix("close_date_pushed", deal.pk, by=org.west_manager, data={"note": "Budget moved"})
    assert Review.objects.get().note == "Budget moved"
    assert flagged("close_date_pushed", org.west_rep) == set()


def test_review_a_stage_jump(org):
    jumped = make_opportunity(org.west_rep)
    change_stage(jumped, 0, 4)
    apply_fix("stage_jump", jumped.pk, by=org.west_manager, data={})
    assert flagged("stage_jump", org.west_rep) == set()


def test_overdue_activity_done_or_rescheduled(org):
    account = make_account(org.west_rep)
    first = make_activity(org.west_rep, account, due_at=timezone.now() - timedelta(days=3))
    second = make_activity(org.west_rep, account, due_at=timezone.now() - timedelta(days=3))
    apply_fix("overdue_activity", first.pk, by=org.west_rep, data={"action": "done"})
    tomorrow = company_today() + timedelta(days=1)
    apply_fix("overdue_activity", second.pk, by=org.west_rep,
              data={"action": "reschedule", "due": tomorrow.isoformat()})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.done and first.done_at is not None
    assert company_date(second.due_at) == tomorrow
    assert flagged("overdue_activity", org.west_rep) == set()


def test_overdue_activity_refused_across_teams(org):
    account = make_account(org.east_rep)
    call = make_activity(org.east_rep, account, due_at=timezone.now() - timedelta(days=3))
    with pytest.raises(NotFound):
        apply_fix("overdue_activity", call.pk, by=org.west_rep, data={"action": "done"})
    call.refresh_from_db()
    assert not call.done


def test_log_the_first_touch_of_a_lead(org):
    lead = make_lead(org.west_rep)
    backdate(lead, 3)
    with pytest.raises(ValidationError) as error:
        apply_fix("lead_not_followed_up", lead.pk, by=org.west_rep, data={"kind": "fax"})
    assert "kind" in error.value.message_dict
    apply_fix("lead_not_followed_up", lead.pk, by=org.west_rep,
              data={"kind": "call", "subject": "Intro call"})
    touch = Activity.objects.get(lead=lead)
    assert touch.done and touch.subject == "Intro call"
    assert flagged("lead_not_followed_up", org.west_rep) == set()


def test_set_a_required_field_inline(org):
    RequiredField.objects.create(record_type=RecordType.ACCOUNT, field="industry")
    RequiredField.objects.create(record_type=RecordType.ACCOUNT, field="employees")
    account = make_account(org.west_rep)
    with pytest.raises(ValidationError) as error:
        apply_fix("missing_account_fields", account.pk, by=org.west_rep,
                  data={"field": "employees", "value": "many"})
    assert "employees" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        apply_fix("missing_account_fields", account.pk, by=org.west_rep,
                  data={"field": "owner", "value": "1"})
    assert "field" in error.value.message_dict
    apply_fix("missing_account_fields", account.pk, by=org.west_rep,
              data={"field": "industry", "value": "Retail"})
    apply_fix("missing_account_fields", account.pk, by=org.west_rep,
              data={"field": "employees", "value": "120"})
    account.refresh_from_db()
    assert (account.industry, account.employees) == ("Retail", 120)
    assert flagged("missing_account_fields", org.west_rep) == set()


def test_set_a_required_link_checks_visibility(org):
    RequiredField.objects.create(record_type=RecordType.OPPORTUNITY, field="contact")
    deal = make_opportunity(org.west_rep)
    theirs = make_contact(org.east_rep, make_account(org.east_rep))
    with pytest.raises(ValidationError) as error:
        apply_fix("missing_opportunity_fields", deal.pk, by=org.west_rep,
                  data={"field": "contact", "value": str(theirs.pk)})
    assert "contact" in error.value.message_dict
    mine = make_contact(org.west_rep, deal.account)
    apply_fix("missing_opportunity_fields", deal.pk, by=org.west_rep,
              data={"field": "contact", "value": str(mine.pk)})
    deal.refresh_from_db()
    assert deal.contact == mine


def test_required_field_refused_across_teams(org):
    RequiredField.objects.create(record_type=RecordType.ACCOUNT, field="industry")
    account = make_account(org.east_rep)
    with pytest.raises(NotFound):
        apply_fix("missing_account_fields", account.pk, by=org.west_rep,
                  data={"field": "industry", "value": "Retail"})
    account.refresh_from_db()
    assert account.industry == ""


def test_unknown_check(org):
    with pytest.raises(NotFound):
        apply_fix("nonsense", 1, by=org.admin, data={})
