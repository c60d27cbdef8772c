"""The quality pages: overview, lists with fix buttons (htmx), duplicates and merge,
scores, policy, exports; and what another team's rep cannot reach."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from salesplan.core.clock import company_today
from salesplan.customers.models import Contact
from salesplan.quality.models import DuplicateCandidate, RecordType, RequiredField
from salesplan.quality.scanning import run_scan
from salesplan.quality.scoring import take_snapshot
from salesplan.quality.selectors import dashboard_card

from ..factories import make_account, make_activity, make_contact, make_opportunity


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def late(org):
    return make_opportunity(org.west_rep, name="Late deal",
                            close_date=company_today() - timedelta(days=3))


def test_overview_counts_by_check_and_owner(org, late):
    response = client_for(org.west_manager).get(reverse("web:quality:overview"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Close date in the past" in text
    assert f"?owner={org.west_rep.pk}" in text
    assert response.context["owner_rows"][0]["counts"]["past_close_date"] == 1


def test_check_list_shows_items_with_a_fix_form(org, late):
    response = client_for(org.west_rep).get(reverse("web:quality:check",
                                                    args=["past_close_date"]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Late deal" in text
    assert reverse("web:quality:fix", args=["past_close_date", late.pk]) in text
    assert 'name="close_date"' in text


def test_another_teams_rep_does_not_see_the_item(org, late):
    response = client_for(org.east_rep).get(reverse("web:quality:check",
                                                    args=["past_close_date"]))
    assert "Late deal" not in response.content.decode()


def test_htmx_fix_swaps_the_row(org, late):
    new_date = company_today() + timedelta(days=10)
    response = client_for(org.west_rep).post(
        reverse("web:quality:fix", args=["past_close_date", late.pk]),
        {"close_date": new_date.isoformat(), "version": late.version},
        headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Fixed" in response.content.decode()
    late.refresh_from_db()
    assert late.close_date == new_date


def test_htmx_fix_shows_the_error_and_changes_nothing(org, late):
    response = client_for(org.west_rep).post(
        reverse("web:quality:fix", args=["past_close_date", late.pk]),
        {"close_date": "2001-01-01"}, headers={"HX-Request": "true"})
    assert "Not fixed" in response.content.decode()
    assert "Choose today or a later date." in response.content.decode()
    late.refresh_from_db()
    assert late.close_date == company_today() - timedelta(days=3)


def test_fix_of_another_teams_record_is_404_and_unchanged(org, late):
    response = client_for(org.east_rep).post(
        reverse("web:quality:fix", args=["past_close_date", late.pk]),
        {"close_date": company_today().isoformat()})
    assert response.status_code == 404
    late.refresh_from_db()
    assert late.close_date == company_today() - timedelta(days=3)


def test_executive_fix_is_403(org, late):
    response = client_for(org.executive).post(
        reverse("web:quality:fix", args=["past_close_date", late.pk]),
        {"close_date": company_today().isoformat()})
    assert response.status_code == 403
    late.refresh_from_db()
    assert late.close_date == company_today() - timedelta(days=3)


def test_csv_export_holds_the_visible_items(org, late):
    make_opportunity(org.east_rep, name="East late", close_date=company_today() - timedelta(days=2))
    response = client_for(org.west_rep).get(reverse("web:quality:export",
                                                    args=["past_close_date", "csv"]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    names = [r[1] for r in rows[1:] if len(r) > 1]
    assert "Late deal" in names and "East late" not in names
    xlsx = client_for(org.west_rep).get(reverse("web:quality:export",
                                                args=["past_close_date", "xlsx"]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def duplicate_pair(org):
    acme = make_account(org.west_rep)
    left = make_contact(org.west_rep, acme, first_name="Pat", last_name="Lee", email="p@a.com",
                        title="")
    right = make_contact(org.west_rep, acme, first_name="Pat", last_name="Lea",
                         email="p@a.com", title="CFO")
    make_activity(org.west_rep, acme, contact=right)
    run_scan("contact")
    return DuplicateCandidate.objects.get(), left, right


def test_duplicates_page_and_side_by_side_merge(org):
    pair, left, right = duplicate_pair(org)
    client = client_for(org.west_rep)
    listing = client.get(reverse("web:quality:duplicates") + "?type=contact")
    assert reverse("web:quality:pair", args=[pair.pk]) in listing.content.decode()
    page = client.get(reverse("web:quality:pair", args=[pair.pk]))
    assert page.status_code == 200 and "CFO" in page.content.decode()
    response = client.post(reverse("web:quality:pair_merge", args=[pair.pk]),
                           {"survivor": left.pk, "field_title": right.pk,
                            "field_last_name": left.pk})
    assert response.status_code == 302
    left.refresh_from_db()
    assert left.title == "CFO" and left.last_name == "Lee"
    assert not Contact.objects.filter(pk=right.pk).exists()
    assert left.activities.count() == 1


def test_another_teams_rep_cannot_open_or_merge_a_pair(org):
    pair, left, right = duplicate_pair(org)
    client = client_for(org.east_rep)
    assert client.get(reverse("web:quality:pair", args=[pair.pk])).status_code == 404
    response = client.post(reverse("web:quality:pair_merge", args=[pair.pk]),
                           {"survivor": left.pk})
    assert response.status_code == 404
    assert Contact.objects.filter(pk=right.pk).exists()


def test_scores_page_with_trend_chart_and_table(org, late):
    take_snapshot(company_today() - timedelta(days=1))
    take_snapshot()
    response = client_for(org.west_rep).get(reverse("web:quality:scores"))
    assert response.status_code == 200
    assert response.context["points"][-1].user_id == org.west_rep.pk
    assert len(response.context["points"]) == 2
    assert 'data-chart="' in response.content.decode()


def test_policy_page_admin_adds_a_rule_rep_cannot(org):
    client_for(org.west_rep).post(reverse("web:quality:policy_add"),
                                  {"record_type": "account", "field": "industry"})
    assert not RequiredField.objects.exists()
    client_for(org.admin).post(reverse("web:quality:policy_add"),
                               {"record_type": "account", "field": "industry"})
    assert RequiredField.objects.get().field == "industry"
    assert client_for(org.west_rep).get(reverse("web:quality:policy")).status_code == 200


def test_territory_page_renders(org):
    assert client_for(org.west_manager).get(reverse("web:quality:territory")).status_code == 200


def test_dashboard_card(org, late):
    RequiredField.objects.create(record_type=RecordType.ACCOUNT, field="industry")
    card = dashboard_card(org.west_rep)
    assert card is not None
    counts = {c["key"]: c["count"] for c in card["checks"]}
    assert counts["past_close_date"] == 1
    assert counts["missing_account_fields"] == 1  # the late deal's account
    assert card["total"] == sum(counts.values())
    east = dashboard_card(org.east_rep)
    assert east is not None and "past_close_date" not in {c["key"] for c in east["checks"]}
    from django.template.loader import render_to_string

    html = render_to_string("quality/_dashboard_card.html", {"card": card})
    assert "Close date in the past" in html


def test_dashboard_card_shows_its_counts_time_and_recounts_them_when_old(org, late):
    """The card keeps its counts two minutes and says when they were counted. Older, it
    is recounted in the background and the page shows the last counts meanwhile (with a
    worker); with tasks run inline it shows the new counts at once."""
    from django.core.cache import cache
    from django.template.loader import render_to_string
    from django.test import override_settings
    from django.utils import timezone

    from salesplan.quality.selectors import CARD_SECONDS, card_key

    def past_close(card):
        return {c["key"]: c["count"] for c in card["checks"]}.get("past_close_date")

    first = dashboard_card(org.west_rep)
    assert past_close(first) == 1
    html = render_to_string("quality/_dashboard_card.html", {"card": first})
    assert "Counted at" in html
    make_opportunity(org.west_rep, name="Later deal",
                     close_date=company_today() - timedelta(days=2))
    assert past_close(dashboard_card(org.west_rep)) == 1  # within two minutes: as counted

    def age_card() -> None:
        stored = cache.get(card_key(org.west_rep.pk))
        stored["at"] = timezone.now() - timedelta(seconds=CARD_SECONDS + 1)
        cache.set(card_key(org.west_rep.pk), stored)
        cache.delete(f"quality-card-recount:{org.west_rep.pk}")

    age_card()
    with override_settings(TASKS={"default": {
            "BACKEND": "django.tasks.backends.dummy.DummyBackend"}}):
        from django.tasks import default_task_backend

        stale = dashboard_card(org.west_rep)
        again = dashboard_card(org.west_rep)
        queued = [r.task.name for r in default_task_backend.results]
    assert past_close(stale) == past_close(again) == 1  # shown while the worker counts
    assert stale["counted_at"] < timezone.now() - timedelta(seconds=CARD_SECONDS)
    assert queued == ["recount_card"]  # once, not once per page
    age_card()
    fresh = dashboard_card(org.west_rep)  # inline tasks: counted during the request
    assert past_close(fresh) == 2 and fresh["counted_at"] > first["counted_at"]


def test_overdue_list_mark_done_without_javascript(org):
    account = make_account(org.west_rep)
    call = make_activity(org.west_rep, account, due_at=timezone.now() - timedelta(days=2))
    response = client_for(org.west_rep).post(
        reverse("web:quality:fix", args=["overdue_activity", call.pk]), {"action": "done"})
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.done


def test_thresholds_form_saves_all_or_nothing(org):
    from salesplan.quality.models import QualitySettings

    client = client_for(org.admin)
    read = QualitySettings.current().version
    client.post(reverse("web:quality:settings"), {"stale_after_days": "14",
                                                  "duplicate_threshold": "20", "version": read})
    assert QualitySettings.current().stale_after_days == 30  # 20 is below 50: nothing saved
    client.post(reverse("web:quality:settings"), {"stale_after_days": "14", "version": read})
    assert QualitySettings.current().stale_after_days == 14
    client_for(org.west_manager).post(reverse("web:quality:settings"),
                                      {"stale_after_days": "3", "version": read + 1})
    assert QualitySettings.current().stale_after_days == 14


def test_a_card_never_counted_is_counted_in_the_background_and_fills_in(org, late):
    """The first dashboard does not wait for the count: with a worker, the card says it
    is counting and fetches itself again; once the worker has counted, the card shows
    the counts. One recount is queued however often the page is opened meanwhile."""
    from django.core.cache import cache
    from django.test import override_settings

    from salesplan.quality.selectors import card_key
    from salesplan.quality.tasks import recount_card

    cache.delete(card_key(org.west_manager.pk))
    cache.delete(f"quality-card-recount:{org.west_manager.pk}")
    client = client_for(org.west_manager)
    with override_settings(TASKS={"default": {
            "BACKEND": "django.tasks.backends.dummy.DummyBackend"}}):
        from django.tasks import default_task_backend

        page = client.get(reverse("web:reports:dashboard")).content.decode()
        again = client.get(reverse("web:quality:card")).content.decode()
        queued = [r.task.name for r in default_task_backend.results]
    assert "Counting your open issues" in page
    assert f'hx-get="{reverse("web:quality:card")}"' in page
    assert "Counting your open issues" in again and "issues to fix" not in again
    assert queued == ["recount_card"]
    recount_card.call(org.west_manager.pk)  # what the worker does
    counted = client.get(reverse("web:quality:card")).content.decode()
    assert "Counting" not in counted and "Close date in the past" in counted
    assert "Counted at" in counted



def test_the_card_endpoint_counts_only_what_its_caller_sees(org, late, client):
    """The card fetched on its own is the caller's: another team's rep does not see the
    west rep's late deal counted, and a visitor not logged in is sent to log in."""
    from django.core.cache import cache

    from salesplan.quality.selectors import card_key

    for user in (org.west_rep, org.east_rep):
        cache.delete(card_key(user.pk))
        cache.delete(f"quality-card-recount:{user.pk}")
    west = client_for(org.west_rep).get(reverse("web:quality:card")).content.decode()
    east = client_for(org.east_rep).get(reverse("web:quality:card")).content.decode()
    assert "Close date in the past" in west
    assert "Close date in the past" not in east
    assert client.get(reverse("web:quality:card")).status_code == 302
