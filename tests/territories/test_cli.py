"""`salesplan territories …` from the command line."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from salesplan.core.models import BackgroundJob
from salesplan.territories.models import Alignment

from .conftest import build_map


def run(*args) -> str:
    out = StringIO()
    call_command("territories", *args, stdout=out)
    return out.getvalue()


def test_list_assign_activate_violations(org, django_capture_on_commit_callbacks):
    from ..factories import make_account

    make_account(org.admin, name="Bay Co", postal_code="94107")
    current = build_map(org)
    with django_capture_on_commit_callbacks(execute=True):
        assert "started" in run("assign", "--alignment", str(current.alignment.pk))
    # Without a worker pool the job runs inline as soon as the command's work commits.
    assert "Assigned 1 territories to 1 accounts" in BackgroundJob.objects.get().message
    assert "West  [geographic" in run("list", "--alignment", str(current.alignment.pk))
    assert "is now active" in run("activate", str(current.alignment.pk))
    assert Alignment.objects.get(pk=current.alignment.pk).status == "active"
    assert "FY27" in run("list")
    report = run("violations")
    assert "Bay Co" in report and "1 violation(s)." in report
    with pytest.raises(CommandError, match="Only a draft"):
        run("activate", str(current.alignment.pk))
    with pytest.raises(CommandError, match="may not"):
        run("violations", "--as", org.marketer.username)
