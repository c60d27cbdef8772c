"""The personal calendar feed, the profile page, and the admin-only company settings."""

from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from salesplan.core.models import AuditEntry
from salesplan.org.models import Company, Holiday
from tests.factories import make_account, make_activity


def _feed_token(client) -> str:
    client.post("/profile/calendar/")
    return client.get("/profile/").context["user"].calendar_token


def test_calendar_feed_has_my_meetings_and_tasks_only(login, org):
    account = make_account(org.west_rep, name="Acme")
    start = timezone.now() + timedelta(days=1)
    mine = make_activity(org.west_rep, account, kind="meeting", subject="Acme demo",
                         due_at=start, duration_minutes=45, description="Bring the deck")
    make_activity(org.west_rep, account, kind="task", subject="Send quote")
    make_activity(org.west_rep, account, kind="call", subject="Quick call")
    make_activity(org.west_rep2, account, kind="meeting", subject="Someone else's meeting")
    client = login(org.west_rep)
    token = _feed_token(client)
    client.post("/logout/")
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"Acme demo", "Task: Send quote"}
    demo = events["Acme demo"]
    assert str(demo["uid"]).startswith(f"activity-{mine.pk}@")
    assert demo.decoded("dtend") - demo.decoded("dtstart") == timedelta(minutes=45)
    assert "Bring the deck" in str(demo["description"]) and "Acme" in str(demo["description"])
    assert str(demo["status"]) == "CONFIRMED"


def test_unknown_or_revoked_token_is_not_found(login, org):
    client = login(org.west_rep)
    assert client.get("/calendar/not-a-real-token-at-all-12345.ics").status_code == 404
    old = _feed_token(client)
    new = _feed_token(client)
    assert old != new
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200
    client.post("/profile/calendar/", {"action": "stop"})
    assert client.get(f"/calendar/{new}.ics").status_code == 404


@pytest.mark.parametrize("who", ["west_rep", "west_manager", "executive", "marketer"])
def test_settings_are_for_admins_only(login, org, who):
    client = login(getattr(org, who))
    assert client.get("/settings/").status_code == 403
    response = client.post("/settings/", {"name": "Hijacked", "default_currency": "USD",
                                          "fiscal_year_start_month": 1, "time_zone": "UTC",
                                          "working_days": [0]})
    assert response.status_code == 403
    assert Company.current().name != "Hijacked"
    home = client.get("/").content.decode()
    # The company settings are not offered; the people and teams pages are (read-only).
    assert 'href="/settings/"' not in home and 'href="/settings/people/"' in home


def test_admin_changes_company_settings_with_audit(login, org):
    client = login(org.admin)
    response = client.post("/settings/", {
        "name": "Acme Sales", "default_currency": "EUR", "fiscal_year_start_month": 4,
        "time_zone": "Europe/Berlin", "working_days": [0, 1, 2, 3],
        "version": Company.current().version})
    assert response.status_code == 302
    company = Company.current()
    assert (company.name, company.default_currency, company.fiscal_year_start_month,
            company.time_zone, company.working_days) == ("Acme Sales", "EUR", 4,
                                                         "Europe/Berlin", "0,1,2,3")
    assert AuditEntry.objects.filter(record_type="company", field="time_zone",
                                     new_value="Europe/Berlin").exists()
    assert "Acme Sales" in client.get("/").content.decode()


def test_unknown_time_zone_is_refused_next_to_the_field(login, org):
    client = login(org.admin)
    response = client.post("/settings/", {
        "name": "Acme", "default_currency": "USD", "fiscal_year_start_month": 1,
        "time_zone": "Mars/Olympus", "working_days": [0], "version": Company.current().version})
    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    assert Company.current().time_zone == "UTC"


def test_admin_adds_and_removes_holidays(login, org):
    client = login(org.admin)
    client.post("/settings/holidays/", {"date": "2026-12-25", "name": "Christmas"})
    holiday = Holiday.objects.get()
    response = client.post("/settings/holidays/", {"date": "2026-12-25", "name": "Again"})
    assert "already a holiday" in response.content.decode()
    client.post(f"/settings/holidays/{holiday.pk}/remove/")
    assert not Holiday.objects.exists()
    assert login(org.west_rep).post("/settings/holidays/", {
        "date": "2026-12-26", "name": "Boxing day"}).status_code == 403
