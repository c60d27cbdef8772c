"""`salesplan reports`: run a report as a user in text and export formats, send due."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from salesplan.reports import services

from .conftest import Q1


def run(*args) -> str:
    out = StringIO()
    call_command("reports", *args, stdout=out)
    return out.getvalue()


def test_run_as_rep_and_executive(org, history):
    rep = run("run", "bookings", "--user", org.west_rep.username, "--period", Q1)
    assert "4,000.00" in rep and str(org.east_rep) not in rep
    executive = run("run", "bookings", "--user", org.executive.username, "--period", Q1,
                    "--by", "team", "--format", "csv")
    assert "West,3,8000.00" in executive and "East,1,7000.00" in executive


def test_run_writes_xlsx_and_pdf(org, history, tmp_path):
    for fmt in ("xlsx", "pdf"):
        target = tmp_path / f"out.{fmt}"
        run("run", "pipeline", "--user", org.executive.username, "--period", Q1,
            "--format", fmt, "--output", str(target))
        assert target.stat().st_size > 500


def test_errors_name_the_problem(org):
    with pytest.raises(CommandError, match="period"):
        run("run", "bookings", "--user", org.executive.username, "--period", "soon")
    with pytest.raises(CommandError, match="nobody"):
        run("run", "bookings", "--user", "nobody")


def test_send_due(org, history, django_capture_on_commit_callbacks):
    saved = services.save_report(by=org.west_rep, name="Mine", report="win_rate",
                                 filters={"period": Q1})
    services.schedule_report(by=org.west_rep, saved_report=saved, recipients=["x@example.com"],
                             frequency="daily", fmt="csv",
                             first_run=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        output = run("send-due")
    assert "1 scheduled report(s) due." in output
    assert len(mail.outbox) == 1 and mail.outbox[0].attachments[0][0] == "Mine.csv"
