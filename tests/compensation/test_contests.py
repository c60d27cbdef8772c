"""SPIFF contest standings: off until a team's manager turns them on; ranked by payout so
far on hand-computed figures; a rep sees what the team's setting allows and nothing of
another team; the setting carries its version.

Figures: the contest pays 50.00 per qualifying deal × credit share + 1.25 % of the
credited amount, rounded once, half to even, to cents. EUR converts at 1.085."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from salesplan.compensation import contests
from salesplan.compensation.models import CompContestSetting

from ..api.conftest import api_as  # noqa: F401 - the API caller fixture, shared
from .conftest import DEFINITION, won

CONTEST = {"key": "push", "label": "January push", "starts": "2026-01-10",
           "ends": "2026-01-31", "amount": "50", "rate": "0.0125"}
TODAY = datetime(2026, 1, 20, 12, tzinfo=UTC)


@pytest.fixture
def contest(org, comp):
    comp.plan.definition = {**DEFINITION, "spiffs": [CONTEST]}
    comp.plan.save()
    won(org.west_rep, "10000", date(2026, 1, 12))
    won(org.west_rep, "5000", date(2026, 1, 15))
    won(org.west_rep, "8000", date(2026, 1, 5))  # before the contest
    won(org.west_rep2, "10000", date(2026, 1, 14), currency="EUR")
    won(org.east_rep, "90000", date(2026, 1, 12))  # another team
    with time_machine.travel(TODAY, tick=False):
        yield comp


def turn_on(org, visibility: str) -> CompContestSetting:
    return contests.set_contest_setting(org.west, by=org.west_manager,
                                        data={"visibility": visibility},
                                        expected_version=None)


def test_standings_are_off_until_the_manager_turns_them_on(org, contest, api_as):  # noqa: F811
    manager = api_as(org.west_manager)
    answer = manager.call("get", "/comp/contests", team_id=org.west.pk)
    assert answer.status_code == 200
    assert answer.data == {"team_id": org.west.pk, "enabled": False, "contests": []}
    assert manager.call("get", "/comp/contests/push", team_id=org.west.pk).status_code == 404
    assert api_as(org.west_rep).call("get", "/comp/contests",
                                     team_id=org.west.pk).status_code == 404

    put = manager.call("put", f"/comp/contest-settings/{org.west.pk}",
                       {"enabled": True, "visibility": "ranks"})
    assert put.status_code == 200 and put.data["version"] == 1
    again = manager.call("put", f"/comp/contest-settings/{org.west.pk}",
                         {"enabled": True, "visibility": "full"})
    assert again.status_code == 428
    stale = manager.call("put", f"/comp/contest-settings/{org.west.pk}",
                         {"enabled": True, "visibility": "full", "version": 7})
    assert stale.status_code == 409
    assert manager.call("get", "/comp/contests", team_id=org.west.pk).data["contests"] == [
        {"key": "push", "label": "January push", "starts": "2026-01-10", "ends": "2026-01-31",
         "status": "running", "days_left": 12}]
    # Another team's manager neither reads nor sets West's standings.
    east = api_as(org.east_manager)
    assert east.call("put", f"/comp/contest-settings/{org.west.pk}",
                     {"visibility": "full", "version": 1}).status_code in (403, 404)
    assert east.call("get", "/comp/contests/push", team_id=org.west.pk).status_code in (403, 404)


def test_the_manager_sees_the_hand_computed_standings(org, contest, api_as):  # noqa: F811
    turn_on(org, "managers")
    answer = api_as(org.west_manager).call("get", "/comp/contests/push", team_id=org.west.pk)
    assert answer.status_code == 200, answer.content
    assert (answer.data["days_left"], answer.data["visibility"]) == (12, "full")
    # West rep: 2 deals, 15,000.00; 2 × 50.00 + 15,000.00 × 1.25 % = 287.50.
    # West rep 2: 10,000 EUR × 1.085 = 10,850.00; 50.00 + 135.625 = 185.625 → 185.62.
    assert [(r["rank"], r["rep_id"], r["deals"], r["amount"], r["payout"])
            for r in answer.data["rows"]] == [
        (1, org.west_rep.pk, 2, "15000.00", "287.50"),
        (2, org.west_rep2.pk, 1, "10850.00", "185.62")]
    # The team's reps see nothing while the standings are for managers only.
    assert api_as(org.west_rep).call("get", "/comp/contests/push",
                                     team_id=org.west.pk).status_code in (403, 404)


def test_a_rep_sees_what_the_setting_allows(org, contest, api_as):  # noqa: F811
    rep = api_as(org.west_rep2)
    turn_on(org, "ranks")
    rows = rep.call("get", "/comp/contests/push", team_id=org.west.pk).data["rows"]
    assert [(r["rank"], r["rep_id"], r["deals"], r["payout"]) for r in rows] == [
        (1, org.west_rep.pk, 2, None), (2, org.west_rep2.pk, 1, "185.62")]
    setting = CompContestSetting.objects.get(team=org.west)
    contests.set_contest_setting(org.west, by=org.admin, data={"visibility": "own"},
                                 expected_version=setting.version)
    rows = rep.call("get", "/comp/contests/push", team_id=org.west.pk).data["rows"]
    assert [(r["rank"], r["rep_id"], r["payout"]) for r in rows] == [
        (2, org.west_rep2.pk, "185.62")]
    # Another team's rep sees none of it.
    assert api_as(org.east_rep).call("get", "/comp/contests/push",
                                     team_id=org.west.pk).status_code == 404


def test_the_page_ranks_and_the_manager_turns_it_on(org, contest, client):
    client.force_login(org.west_manager)
    page = client.get(f"/comp/contests/?team={org.west.pk}").content.decode()
    assert "Contest standings are off" in page
    answer = client.post(f"/comp/contests/settings/{org.west.pk}/",
                         {"enabled": "on", "visibility": "full", "version": "0"})
    assert answer.status_code == 302
    page = client.get(f"/comp/contests/?team={org.west.pk}").content.decode()
    assert page.index("287.50") < page.index("185.62") and "12 days left" in page
    client.force_login(org.west_rep)
    assert "Contest standings" in client.get("/comp/").content.decode()
    page = client.get("/comp/contests/").content.decode()
    assert "287.50" in page and 'id="contest-setting"' not in page
    client.force_login(org.east_rep)
    assert "No team shows contest standings" in client.get("/comp/contests/").content.decode()
