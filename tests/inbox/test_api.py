"""/api/v1/inbox: a user only ever sees and changes their own items; preferences carry
their version."""

import pytest

from salesplan.inbox import services as inbox
from salesplan.inbox.models import InboxItem, Kind

from ..api.conftest import assert_problem

pytestmark = pytest.mark.django_db


def item(user, key, kind=Kind.MENTION, title="Look at this"):
    return inbox.post(user, kind, key, title=title, url="/leads/1/")


def test_each_user_reads_only_their_own_inbox_and_count(org, api_as):
    mine = item(org.west_rep, "comment:1")
    item(org.west_rep, "lead:9", Kind.LEAD, "New lead")
    item(org.east_rep, "comment:2")
    body = api_as(org.west_rep).get("/inbox").data
    assert {i["key"] for i in body["items"]} == {"comment:1", "lead:9"}
    assert api_as(org.west_rep).get("/inbox?kind=lead").data["items"][0]["key"] == "lead:9"
    count = api_as(org.west_rep).get("/inbox/count").data
    assert count["open"] == 2 and count["by_kind"]["mention"] == 1
    assert api_as(org.admin).get("/inbox").data["items"] == []
    # Nobody dismisses another's item: it answers as missing, and stays.
    assert_problem(api_as(org.east_rep).post(f"/inbox/{mine.pk}/dismiss", {}), 404)
    assert_problem(api_as(org.admin).post(f"/inbox/{mine.pk}/dismiss", {}), 404)
    assert InboxItem.objects.get(pk=mine.pk).closed_at is None
    done = api_as(org.west_rep).post(f"/inbox/{mine.pk}/dismiss", {}).data
    assert done["closed_how"] == "dismissed"
    assert api_as(org.west_rep).get("/inbox/count").data["open"] == 1


def test_the_executive_has_an_inbox_too(org, api_as):
    notice = item(org.executive, "job:1", Kind.JOB, "Export finished")
    caller = api_as(org.executive)
    assert caller.post(f"/inbox/{notice.pk}/dismiss", {}).data["closed_how"] == "dismissed"


def test_preferences_need_the_version_and_name_a_wrong_value(org, api_as):
    caller = api_as(org.west_rep)
    read = caller.get("/inbox/preferences").data
    assert read["delivery"]["lead"] == "app"
    assert_problem(caller.patch("/inbox/preferences", {"delivery": {"lead": "email"}}), 428)
    changed = caller.patch("/inbox/preferences", {"delivery": {"lead": "email"},
                                                "version": read["version"]}).data
    assert changed["delivery"]["lead"] == "email" and changed["delivery"]["mention"] == "app"
    assert_problem(caller.patch("/inbox/preferences", {"delivery": {"lead": "digest"},
                                                     "version": read["version"]}), 409)
    wrong = caller.patch("/inbox/preferences", {"delivery": {"lead": "pigeon"},
                                              "version": changed["version"]})
    assert wrong.status_code == 422
