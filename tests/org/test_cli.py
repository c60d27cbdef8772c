"""`salesplan users …` and `salesplan teams …`."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from salesplan.customers.models import Account
from salesplan.org.models import Team, User

from ..factories import make_account


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_users_invite_list_deactivate_reactivate(org, smtp_server, settings):
    settings.SALESPLAN_BASE_URL = "https://sales.example.com"
    assert "Invited nina" in run("users", "invite", "nina@example.com", "--first-name", "Nina",
                                 "--team", "west", "--role", "rep")
    message = smtp_server.wait_for("nina@example.com")
    assert smtp_server.link_in(message).startswith("https://sales.example.com/invite/")
    nina = User.objects.get(username="nina")
    assert nina.team == org.west and nina.manager == org.west_manager
    listing = run("users", "list")
    assert "nina\tnina@example.com\trep\tWest\twestmgr\tinvited" in listing

    account = make_account(org.west_rep)
    preview = run("users", "deactivate", "westrep", "--successor", "nina")
    assert "Accounts owned: 1 → Nina" in preview
    assert User.objects.get(pk=org.west_rep.pk).is_active
    assert "Deactivated westrep; moved 1 records to nina" in run(
        "users", "deactivate", "westrep", "--successor", "nina", "--yes")
    assert Account.objects.get(pk=account.pk).owner_id == nina.pk
    assert "\nwestrep\t" not in run("users", "list")
    assert "deactivated" in run("users", "list", "--all")
    run("users", "reactivate", "westrep")
    assert User.objects.get(pk=org.west_rep.pk).is_active


def test_users_errors_name_the_problem(org, smtp_server):
    with pytest.raises(CommandError, match="already has an account"):
        run("users", "invite", org.west_rep.email)
    with pytest.raises(CommandError, match="no team called"):
        run("users", "invite", "z@example.com", "--team", "Nowhere")
    make_account(org.west_rep)
    with pytest.raises(CommandError, match="choose who takes them over"):
        run("users", "deactivate", "westrep", "--yes")


def test_teams_create_move_list(org):
    run("teams", "create", "North", "--parent", "Region", "--manager", "eastmgr")
    north = Team.objects.get(name="North")
    assert north.parent == org.region and north.manager == org.east_manager
    assert "West is now under North" in run("teams", "move", "West", "--under", "North")
    with pytest.raises(CommandError, match="circle"):
        run("teams", "move", "Region", "--under", "West")
    run("teams", "move", "North", "--top")
    assert run("teams", "list").splitlines() == [
        "North\teastmgr", "  West\twestmgr", "Region\tvp", "  East\teastmgr"]
