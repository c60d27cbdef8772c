"""Comments: mentions notify, blind mentions are refused, invisible records are 404, and
only the author edits."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from salesplan.collab import services
from salesplan.collab.models import Comment, Notification
from salesplan.core.errors import NotFound

from ..api.conftest import assert_problem
from ..factories import make_account, make_lead, make_opportunity

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_mentions_notify_the_mentioned_users(org, mailoutbox):
    lead = make_lead(org.west_rep, company="Acme")
    services.set_email_mentions(by=org.west_manager, enabled=True)
    comment = services.post_comment(
        lead, by=org.west_rep, body="@WestMgr and @marketer: they asked for pricing. "
                                    "Mail me at someone@example.com")
    assert sorted(u.username for u in comment.mentions.all()) == ["marketer", "westmgr"]
    notes = {n.recipient.username: n for n in Notification.objects.all()}
    assert set(notes) == {"marketer", "westmgr"}
    assert notes["westmgr"].url == reverse("web:lead_detail", args=[lead.pk])
    assert notes["westmgr"].text.startswith(f"{org.west_rep} mentioned you on lead ")
    assert notes["westmgr"].by == org.west_rep and not notes["westmgr"].read


def test_mention_email_goes_only_to_those_who_opted_in(org, mailoutbox,
                                                       django_capture_on_commit_callbacks):
    lead = make_lead(org.west_rep)
    services.set_email_mentions(by=org.west_manager, enabled=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_comment(lead, by=org.west_rep, body="@westmgr @marketer look")
    assert [m.to for m in mailoutbox] == [[org.west_manager.email]]
    assert "mentioned you" in mailoutbox[0].body


def test_a_mention_of_someone_who_cannot_see_the_record_is_refused(org):
    lead = make_lead(org.west_rep)
    with pytest.raises(ValidationError) as refused:
        services.post_comment(lead, by=org.west_rep, body="@eastrep can you help?")
    assert refused.value.message_dict["body"] == [
        "@eastrep cannot see this lead, so they cannot be mentioned here."]
    with pytest.raises(ValidationError, match="No active user is called @nobody"):
        services.post_comment(lead, by=org.west_rep, body="ping @nobody")
    assert not Comment.objects.exists() and not Notification.objects.exists()


def test_only_the_author_edits_and_new_mentions_are_told(org):
    lead = make_lead(org.west_rep)
    comment = services.post_comment(lead, by=org.west_rep, body="First @westmgr")
    with pytest.raises(PermissionDenied):
        services.edit_comment(comment, by=org.west_manager, body="changed")
    with pytest.raises(NotFound):  # a teammate does not see the lead, nor its comments
        services.delete_comment(comment, by=org.west_rep2)
    services.edit_comment(comment, by=org.west_rep, body="First @westmgr, also @vp")
    comment.refresh_from_db()
    assert comment.edited_at is not None
    assert list(Notification.objects.values_list("recipient__username", flat=True)
                .order_by("id")) == ["westmgr", "vp"]
    services.delete_comment(comment, by=org.admin)
    assert not Comment.objects.exists()


def test_comments_on_records_you_cannot_see_are_refused(org):
    lead = make_lead(org.east_rep)
    with pytest.raises(NotFound):  # as if it did not exist
        services.post_comment(lead, by=org.west_rep, body="hello")


def test_notify_is_callable_by_other_apps(org):
    note = services.notify(org.west_manager, text="  SLA breached\n on lead 5 ",
                           url="/leads/5/", by=None)
    assert (note.text, note.url, note.read) == ("SLA breached on lead 5", "/leads/5/", False)
    with pytest.raises(ValidationError):
        services.notify(org.west_manager, text=" ", url="/")


# --- API ----------------------------------------------------------------------------------


def test_api_comment_thread_and_notifications(org, api_as):
    opp = make_opportunity(org.west_rep)
    rep = api_as(org.west_rep)
    created = rep.post("/collab/comments", {"target": "opportunity", "target_id": opp.pk,
                                            "body": "Legal review next week @westmgr"})
    assert created.status_code == 201, created.data
    assert created.data["mentions"] == ["westmgr"] and created.data["target"] == "opportunity"
    thread = api_as(org.west_manager).get("/collab/comments", target="opportunity",
                                          target_id=opp.pk)
    assert [c["body"] for c in thread.data] == ["Legal review next week @westmgr"]
    manager = api_as(org.west_manager)
    assert manager.get("/collab/notifications/unread-count").data == {"unread": 1}
    listed = manager.get("/collab/notifications", unread=True).data["items"]
    assert len(listed) == 1 and "Legal review" in listed[0]["text"]
    read = manager.post(f"/collab/notifications/{listed[0]['id']}/read")
    assert read.data["read"] is True
    assert manager.get("/collab/notifications/unread-count").data == {"unread": 0}
    # Someone else's notification is not found.
    assert_problem(rep.post(f"/collab/notifications/{listed[0]['id']}/read"), 404)


def test_api_refuses_invisible_records_blind_mentions_and_others_edits(org, api_as):
    west_lead = make_lead(org.west_rep)
    east_account = make_account(org.east_rep)
    east = api_as(org.east_rep)
    assert_problem(east.get("/collab/comments", target="lead", target_id=west_lead.pk), 404)
    assert_problem(east.post("/collab/comments", {"target": "lead", "target_id": west_lead.pk,
                                                  "body": "hi"}), 404)
    west = api_as(org.west_rep)
    blind = west.post("/collab/comments", {"target": "lead", "target_id": west_lead.pk,
                                           "body": "@eastrep look"})
    body = assert_problem(blind, 422, "body")
    assert "cannot see this lead" in body["errors"]["body"][0]
    assert_problem(west.post("/collab/comments", {"target": "account",
                                                  "target_id": east_account.pk,
                                                  "body": "x"}), 404)
    manager = api_as(org.west_manager)
    theirs = manager.post("/collab/comments", {"target": "lead", "target_id": west_lead.pk,
                                               "body": "original"}).data
    # The rep sees the manager's comment on their lead but may not change it.
    url, read = f"/collab/comments/{theirs['id']}", {"version": theirs["version"]}
    assert_problem(west.patch(url, {"body": "hacked", **read}), 403)
    assert_problem(west.delete(f"{url}?version={theirs['version']}"), 403)
    assert_problem(east.patch(url, {"body": "hacked", **read}), 404)
    assert Comment.objects.get(pk=theirs["id"]).body == "original"
    edited = manager.patch(url, {"body": "better", **read})
    assert edited.status_code == 200 and edited.data["edited_at"]
    assert manager.delete(f"{url}?version={edited.data['version']}").status_code == 204


# --- Pages --------------------------------------------------------------------------------


def test_lead_panel_posts_with_htmx_and_hides_invisible_records(org, as_user):
    lead = make_lead(org.west_rep)
    url = reverse("web:collab:lead_comments", args=[lead.pk])
    client = as_user(org.west_rep)
    page = client.get(url, **HTMX).content.decode()
    assert page.lstrip().startswith('<section id="comments-lead-') and 'class="card' in page
    as_user(org.west_manager)
    posted = client.post(url, {"body": "Called @westrep"}, **HTMX).content.decode()
    assert "Comment added." in posted and "Called @westrep" in posted
    refused = client.post(url, {"body": "hey @eastrep"}, **HTMX).content.decode()
    assert "cannot see this lead" in refused
    assert Comment.objects.count() == 1
    as_user(org.east_rep)
    assert client.get(url).status_code == 404
    assert client.post(url, {"body": "x"}).status_code == 404
    comment = Comment.objects.get()
    as_user(org.west_rep)
    edit = client.post(reverse("web:collab:comment_edit", args=[comment.pk]),
                       {"body": "changed"}, **HTMX)
    assert edit.status_code == 403
    assert client.post(reverse("web:collab:comment_delete", args=[comment.pk])
                       ).status_code == 403
    assert Comment.objects.get().body == "Called @westrep"


def test_account_and_opportunity_panels_and_the_notification_pages(org, as_user):
    account = make_account(org.west_rep)
    opp = make_opportunity(org.west_rep, account=account)
    client = as_user(org.west_manager)
    for name, pk in (("account_comments", account.pk), ("opportunity_comments", opp.pk)):
        response = client.get(reverse(f"web:collab:{name}", args=[pk]))
        assert response.status_code == 200 and b'class="card comment-thread"' in response.content
    services.post_comment(account, by=org.west_manager, body="@westrep renewal is due")
    as_user(org.west_rep)
    badge = client.get(reverse("web:collab:badge")).content.decode()
    assert "1 unread" in badge
    page = client.get(reverse("web:collab:notifications")).content.decode()
    assert "renewal is due" in page
    note = Notification.objects.get()
    opened = client.post(reverse("web:collab:notification_open", args=[note.pk]))
    assert opened.status_code == 302
    assert opened["Location"] == reverse("web:account_detail", args=[account.pk])
    assert "0 unread" in client.get(reverse("web:collab:badge")).content.decode()


def _queries(call) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert call().status_code == 200
    return len(captured)


def test_thread_and_notification_lists_do_not_grow_with_rows(org, api_as):
    lead = make_lead(org.west_rep)
    manager = api_as(org.west_manager)
    services.post_comment(lead, by=org.west_rep, body="one @westmgr")
    thread = lambda: manager.get("/collab/comments", target="lead", target_id=lead.pk)  # noqa: E731
    notes = lambda: manager.get("/collab/notifications")  # noqa: E731
    thread()  # the token's first use is recorded once
    few_thread, few_notes = _queries(thread), _queries(notes)
    for n in range(4):
        services.post_comment(lead, by=org.west_rep, body=f"more {n} @westmgr @vp")
    assert len(thread().data) == 5 and len(notes().data["items"]) == 5
    assert (_queries(thread), _queries(notes)) == (few_thread, few_notes)


def test_campaigns_take_comments_through_the_generic_thread(org, as_user, api_as):
    from salesplan.marketing.models import Campaign

    campaign = Campaign.objects.create(name="Spring webinar", owner=org.marketer)
    client = as_user(org.west_rep)
    url = reverse("web:collab:thread", args=["campaign", campaign.pk])
    posted = client.post(url, {"body": "Three of my leads came from this, @marketer"}, **HTMX)
    assert "Comment added." in posted.content.decode()
    note = Notification.objects.get(recipient=org.marketer)
    assert note.url == reverse("web:marketing:campaign", args=[campaign.pk])
    thread = api_as(org.marketer).get("/collab/comments", target="campaign",
                                      target_id=campaign.pk).data
    assert [c["author_id"] for c in thread] == [org.west_rep.pk]
    assert client.get(reverse("web:collab:thread", args=["plan", 1])).status_code == 404


def test_record_pages_load_the_comment_and_score_panels(org, as_user):
    lead = make_lead(org.west_rep)
    opp = make_opportunity(org.west_rep)
    client = as_user(org.west_rep)
    page = client.get(reverse("web:lead_detail", args=[lead.pk])).content.decode()
    for name in ("web:scoring:lead_panel", "web:collab:lead_comments"):
        assert f'hx-get="{reverse(name, args=[lead.pk])}"' in page
    page = client.get(reverse("web:opportunity_detail", args=[opp.pk])).content.decode()
    assert f'hx-get="{reverse("web:collab:opportunity_comments", args=[opp.pk])}"' in page
    page = client.get(reverse("web:account_detail", args=[opp.account_id])).content.decode()
    assert f'hx-get="{reverse("web:collab:account_comments", args=[opp.account_id])}"' in page
