"""Saved reports and their scheduled delivery by email."""

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook

from salesplan.core.models import BackgroundJob
from salesplan.reports import services
from salesplan.reports.models import SavedReport, ScheduledReport

from .conftest import Q1


def test_saved_report_keeps_filters_and_is_shared_with_the_team(org, history):
    saved = services.save_report(by=org.west_rep, name="My Q1", report="bookings",
                                 filters={"period": Q1, "by": "month"}, shared=True)
    assert saved.filters == {"period": Q1, "by": "month"}
    assert saved in services.visible_saved_reports(org.west_rep2)
    assert saved in services.visible_saved_reports(org.west_manager)
    assert saved not in services.visible_saved_reports(org.east_rep)
    private = services.save_report(by=org.west_rep, name="Private", report="pipeline",
                                   filters={})
    assert private not in services.visible_saved_reports(org.west_rep2)


def test_saved_report_refuses_bad_filters_and_strangers(org):
    with pytest.raises(ValidationError) as error:
        services.save_report(by=org.west_rep, name="x", report="bookings",
                             filters={"period": "last week"})
    assert "period" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.save_report(by=org.west_rep, name="x", report="bookings",
                             filters={"colour": "red"})
    assert "filters" in error.value.message_dict
    saved = services.save_report(by=org.west_rep, name="Mine", report="bookings", filters={})
    with pytest.raises(PermissionDenied):
        services.update_saved_report(saved, by=org.west_rep2, name="Stolen")
    saved.refresh_from_db()
    assert saved.name == "Mine"


def test_due_schedule_sends_one_email_with_the_export(org, history,
                                                      django_capture_on_commit_callbacks):
    saved = services.save_report(by=org.west_manager, name="West bookings", report="bookings",
                                 filters={"period": Q1})
    schedule = services.schedule_report(
        by=org.west_manager, saved_report=saved, recipients="a@example.com, b@example.com",
        frequency="weekly", fmt="xlsx", first_run=datetime(2026, 4, 6, 7, tzinfo=UTC))
    assert services.send_due(now=datetime(2026, 4, 6, 6, 59, tzinfo=UTC)) == []
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        jobs = services.send_due(now=datetime(2026, 4, 6, 7, 30, tzinfo=UTC))
    assert len(jobs) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["a@example.com", "b@example.com"]
    assert message.subject == "Report: West bookings"
    [(filename, content, mimetype)] = message.attachments
    assert filename == "West-bookings.xlsx" and mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(content)).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    total = next(row for row in values if row and row[0] == "Total")
    assert str(total[2]) in ("8000", "8000.0")  # the manager's team: 1,000 + 3,000 + 4,000
    schedule.refresh_from_db()
    assert schedule.next_run == datetime(2026, 4, 13, 7, tzinfo=UTC)
    assert schedule.last_run is not None
    job = BackgroundJob.objects.get(pk=jobs[0].pk)
    assert job.status == BackgroundJob.Status.SUCCEEDED
    # Not due again the same day.
    assert services.send_due(now=datetime(2026, 4, 6, 8, tzinfo=UTC)) == []
    assert len(mail.outbox) == 1


def test_schedule_checks_recipients_and_owner(org):
    saved = services.save_report(by=org.west_rep, name="Mine", report="bookings", filters={})
    with pytest.raises(ValidationError) as error:
        services.schedule_report(by=org.west_rep, saved_report=saved, recipients="not-an-email",
                                 frequency="daily")
    assert "recipients" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.schedule_report(by=org.east_rep, saved_report=saved,
                                 recipients="x@example.com", frequency="daily")
    assert ScheduledReport.objects.count() == 0
    assert SavedReport.objects.count() == 1


@pytest.mark.django_db
def test_monthly_schedule_keeps_the_day_within_short_months():
    assert services.next_after(datetime(2026, 1, 31, 7, tzinfo=UTC), "monthly") == datetime(
        2026, 2, 28, 7, tzinfo=UTC)


@pytest.mark.django_db
def test_monthly_schedule_counts_months_on_the_company_calendar():
    """23:00 on 31 January in Chicago is already 1 February in UTC; the next delivery is
    the last day of February in Chicago, not 1 March."""
    from salesplan.org.models import Company

    Company.objects.update_or_create(pk=Company.current().pk,
                                     defaults={"time_zone": "America/Chicago"})
    chicago = ZoneInfo("America/Chicago")
    sent = datetime(2026, 1, 31, 23, tzinfo=chicago)
    assert services.next_after(sent, "monthly") == datetime(2026, 2, 28, 23, tzinfo=chicago)


def test_deliveries_stop_when_the_owner_leaves(org, history):
    saved = services.save_report(by=org.west_rep, name="Mine", report="bookings", filters={})
    services.schedule_report(by=org.west_rep, saved_report=saved, recipients="x@example.com",
                             frequency="daily", first_run=datetime(2026, 4, 6, tzinfo=UTC))
    org.west_rep.is_active = False
    org.west_rep.save()
    assert services.send_due(now=datetime(2026, 4, 7, tzinfo=UTC)) == []
    assert mail.outbox == []
