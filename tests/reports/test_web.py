"""Report pages: dashboards per role, filters, drill-down links, exports, saving."""

import re

from django.test import Client

from salesplan.reports.models import SavedReport

from .conftest import Q1


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_dashboards_per_role(org, history):
    for user, heading in ((org.west_rep, "My pipeline"), (org.west_manager, "Team bookings"),
                          (org.executive, "Bookings by team"),
                          (org.marketer, "Lead to won funnel")):
        page = login(user).get("/reports/", {"period": Q1})
        assert page.status_code == 200
        assert heading.encode() in page.content
        assert b'class="chart"' in page.content


def test_report_page_rep_sees_only_own_rows(org, history):
    page = login(org.east_rep).get("/reports/r/bookings/", {"period": Q1})
    text = page.content.decode()
    assert str(org.east_rep) in text and "7,000.00" in text
    assert str(org.west_rep) not in text.split("report-results", 1)[1].split("Save this")[0]
    fragment = login(org.east_rep).get("/reports/r/bookings/", {"period": Q1},
                                       headers={"HX-Request": "true"})
    assert b"<html" not in fragment.content and b"7,000.00" in fragment.content


def test_every_row_links_to_its_records(org, history):
    page = login(org.executive).get("/reports/r/win_rate/", {"period": Q1, "by": "team"})
    links = re.findall(r'href="(/reports/drill/\?[^"]+)"', page.content.decode())
    assert links
    west = next(link for link in links if "team=" in link and f"team={org.west.pk}" in link)
    records = login(org.executive).get(west.replace("&amp;", "&"))
    assert records.status_code == 200
    for deal in (history.won_west_feb, history.won_west_mar, history.lost_west,
                 history.won_west2):
        assert f"/opportunities/{deal.pk}/".encode() in records.content
    assert f"/opportunities/{history.won_east.pk}/".encode() not in records.content
    # The same link opened by a rep of another team lists nothing of West.
    other = login(org.east_rep).get(west.replace("&amp;", "&"))
    assert f"/opportunities/{history.won_west_feb.pk}/".encode() not in other.content


def test_export_buttons_download(org, history):
    web = login(org.west_rep)
    for fmt, kind in (("csv", "text/csv"), ("xlsx", "spreadsheetml"), ("pdf", "application/pdf")):
        response = web.get(f"/reports/r/bookings/export.{fmt}", {"period": Q1})
        assert response.status_code == 200
        assert kind in response["Content-Type"]
        assert response["Content-Disposition"].endswith(f'.{fmt}"')
    assert web.get("/reports/r/bookings/export.doc").status_code == 404
    assert web.get("/reports/r/bookings/export.csv", {"period": "soon"}).status_code == 400


def test_save_and_schedule_from_the_pages(org, history):
    web = login(org.west_rep)
    web.post("/reports/r/pipeline/save/", {"name": "My pipe", "period": Q1, "by": "owner"})
    saved = SavedReport.objects.get(name="My pipe")
    assert saved.filters == {"period": Q1, "by": "owner"}
    opened = web.get(f"/reports/saved/{saved.pk}/")
    assert opened.url.startswith("/reports/r/pipeline/?")
    web.post(f"/reports/saved/{saved.pk}/schedule/", {"recipients": "me@example.com",
                                                      "frequency": "daily", "format": "csv"})
    assert saved.schedules.get().recipients == ["me@example.com"]
    # Another team's rep can neither open nor delete it.
    stranger = login(org.east_rep)
    assert stranger.get(f"/reports/saved/{saved.pk}/").status_code == 404
    assert stranger.post(f"/reports/saved/{saved.pk}/delete/").status_code == 404
    assert SavedReport.objects.filter(pk=saved.pk).exists()


def test_unknown_report_is_404(org):
    assert login(org.executive).get("/reports/r/nope/").status_code == 404


def test_dashboard_includes_the_cards_other_apps_offer(org, history, monkeypatch):
    from salesplan.reports import dashboards

    offered = dashboards.card_providers()
    assert set(offered) <= set(dashboards.CARD_APPS)

    def broken(user):
        raise RuntimeError("card broke")

    cards = {"marketing": lambda user: {"title": "Leads this week", "url": "/marketing/",
                                        "figures": [("new leads", 42)]},
             "health": broken}
    monkeypatch.setattr(dashboards, "card_providers", lambda: cards)
    page = login(org.executive).get("/reports/", {"period": Q1})
    # A card that fails is left out; the others and the reports still show.
    assert page.status_code == 200
    assert b"Leads this week" in page.content and b"42" in page.content
    assert b"Bookings by team" in page.content


def test_manager_dashboard_reads_settings_and_names_once(org, history,
                                                         django_assert_max_num_queries):
    # Every card used to read the company's calendar, the team tree and every person of
    # the company again (78 queries a page at 100,000 accounts).
    client = login(org.west_manager)
    client.get("/reports/", {"period": Q1})  # rollups brought up to date
    with django_assert_max_num_queries(45):
        page = client.get("/reports/", {"period": Q1})
    assert page.status_code == 200
    assert str(org.west_rep).encode() in page.content
    assert str(org.east_rep).encode() not in page.content
