"""An admin grants one user a company-wide action from the command line, and takes it
back."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from salesplan.core.registry import allowed


def test_an_admin_grants_and_revokes_activating_alignments(org):
    out = StringIO()
    call_command("grant", "westmgr", "alignment.activate", "alignment.create", stdout=out)
    assert "alignment.activate       granted" in out.getvalue()
    manager = type(org.west_manager).objects.get(pk=org.west_manager.pk)
    assert allowed(manager, "alignment", "activate") and allowed(manager, "alignment", "create")
    call_command("grant", "westmgr", "alignment.activate", "--revoke", stdout=StringIO())
    manager = type(org.west_manager).objects.get(pk=org.west_manager.pk)
    assert not allowed(manager, "alignment", "activate")
    assert allowed(manager, "alignment", "create")


def test_only_grantable_actions_are_granted(org):
    with pytest.raises(CommandError, match="Not grantable: account.delete"):
        call_command("grant", "westrep", "account.delete", stdout=StringIO())
    with pytest.raises(CommandError, match="No user"):
        call_command("grant", "nobody", "alignment.activate", stdout=StringIO())
