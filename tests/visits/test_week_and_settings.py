"""A manager's view of a rep's week (one map, one timeline, the figures of each day) and
the admins' visit settings page: who may open them, what they add up to, and how a
change is refused (a field out of range, a stale version)."""

from datetime import date, time, timedelta
from decimal import Decimal as D

import pytest
from django.utils.html import escape

from salesplan.core.clock import company_datetime, company_time_zone
from salesplan.core.errors import STALE_MESSAGE
from salesplan.visits import planner, selectors, services
from salesplan.visits.models import FrequencyRule, PlannedVisit, VisitStatus
from tests.factories import make_account, make_activity
from tests.visits.planning_setup import ready_to_plan

MONDAY = date(2027, 3, 1)
TUESDAY = MONDAY + timedelta(days=1)
QUERIES = 12


@pytest.fixture
def week(org):
    """A rep's planned week: five working days, eight shops, a review already booked."""
    rep = org.west_rep
    ready_to_plan(org, rep, home=("45.75", "4.85"), visits_per_month=8)
    shops = [make_account(rep, name=f"Lyon shop {i}", tier="smb", city="Lyon",
                          latitude=D("45.75") + D(i) / 80, longitude=D("4.85") + D(i % 3) / 60)
             for i in range(8)]
    make_activity(rep, shops[0], kind="meeting", subject="Quarterly review",
                  due_at=company_datetime(TUESDAY, time(10, 0)), duration_minutes=60)
    services.plan_reps(by=org.admin, rep_ids=[rep.pk], start=MONDAY, days=7)
    return rep


def _routed(day):
    return [s for s in day.stops if s.status != VisitStatus.SKIPPED]


def test_each_days_figures_add_up_from_its_stops(org, week):
    found = selectors.week_of(org.west_manager, week.pk, MONDAY + timedelta(days=3))
    assert found.monday == MONDAY
    assert [d.day.weekday() for d in found.days] == week.working_weekdays
    assert sum(len(d.stops) for d in found.days) == PlannedVisit.objects.filter(
        owner=week).count() > 0
    for day in found.days:
        assert day.planned + day.done + day.skipped == len(day.stops)
        if day.plan is None:
            continue
        # The legs are the stops' drives and the drive home: together the routed day's.
        assert day.km == day.plan.travel_km
        assert day.km == sum((s.travel_km for s in _routed(day)), D(0)) + next(
            (leg.km for leg in day.legs if leg.to == "Home"), D(0))
        assert day.driving_minutes == day.plan.travel_minutes
    totals = found.totals
    assert totals["km"] == sum((d.km for d in found.days), D(0))
    assert totals["planned"] == sum(d.planned for d in found.days)


def test_the_timeline_covers_each_day_from_leaving_home_to_coming_back(org, week):
    found = selectors.week_of(org.west_manager, week.pk, MONDAY)
    for day in found.days:
        if day.plan is None or day.plan.leave_home is None:
            continue
        segments = day.segments
        assert segments[0].start == planner.minutes(day.plan.leave_home)
        assert segments[-1].end == planner.minutes(day.plan.back_home)
        assert all(a.end == b.start for a, b in zip(segments, segments[1:], strict=False))
        visits = [s for s in segments if s.kind == "visit"]
        assert [s.label for s in visits] == [v.account.name for v in _routed(day)]
        assert all(s.x == s.start - found.first_minute for s in segments)
    tuesday = next(d for d in found.days if d.day == TUESDAY)
    review = [s for s in tuesday.segments if s.kind == "appointment"]
    assert [(s.label, s.starts_at, s.ends_at) for s in review] == [
        ("Quarterly review", time(10, 0), time(11, 0))]
    assert any(s.kind == "lunch" for d in found.days for s in d.segments)


def test_a_skipped_visit_counts_as_skipped_and_drives_no_more(org, week):
    visit = PlannedVisit.objects.filter(owner=week, day=MONDAY).order_by("sequence").first()
    services.skip(visit, by=week, version=visit.version, reason="Closed")
    monday = selectors.week_of(week, week.pk, MONDAY).days[0]
    assert monday.skipped == 1
    assert visit.account.name not in [s.label for s in monday.segments]
    assert monday.km == sum((s.travel_km for s in _routed(monday)), D(0)) + next(
        (leg.km for leg in monday.legs if leg.to == "Home"), D(0))


def test_the_week_page_shows_each_day_the_map_and_the_time_zone(client, org, week):
    client.force_login(org.west_manager)
    page = client.get(f"/visits/week/{week.pk}/", {"week": MONDAY.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    for i in week.working_weekdays:
        assert f'class="timeline-row timeline-day" data-day="{MONDAY + timedelta(days=i)}"' \
            in html
    assert 'aria-label="The week&#x27;s routes' in html or "The week's routes" in html
    assert f"Times in {company_time_zone()}." in html
    first = PlannedVisit.objects.filter(owner=week, day=MONDAY).first()
    assert first.account.name in html
    assert "Quarterly review" in html
    coverage = client.get("/visits/coverage/", {"start": MONDAY.isoformat()}).content.decode()
    assert f"/visits/week/{week.pk}/?week={MONDAY}" in coverage


@pytest.mark.parametrize(("who", "status"), [
    ("west_rep", 200), ("west_manager", 200), ("vp", 200), ("admin", 200),
    ("executive", 200), ("west_rep2", 404), ("east_manager", 404), ("east_rep", 404),
    ("marketer", 403)])
def test_a_week_is_seen_by_the_rep_and_their_managers_only(client, org, week, who, status):
    client.force_login(getattr(org, who))
    page = client.get(f"/visits/week/{week.pk}/", {"week": MONDAY.isoformat()})
    assert page.status_code == status
    if status != 200:
        assert b"Lyon shop" not in page.content


# --- settings ----------------------------------------------------------------------------


def _settings_form(config, **changes):
    values = {"circuity": config.circuity, "average_speed_kmh": config.average_speed_kmh,
              "routing_server_url": config.routing_server_url,
              "horizon_days": config.horizon_days,
              "default_duration_minutes": config.default_duration_minutes,
              "lunch_earliest": "12:00", "lunch_latest": "13:30",
              "lunch_minutes": config.lunch_minutes,
              "solver_solutions": config.solver_solutions, "version": config.version}
    return {**values, **changes}


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 200), ("vp", 403), ("west_manager", 403), ("west_rep", 403),
    ("executive", 403), ("marketer", 403)])
def test_only_an_admin_opens_the_visit_settings(client, org, who, status):
    client.force_login(getattr(org, who))
    assert client.get("/visits/settings/").status_code == status
    before = planner.settings().version
    client.post("/visits/settings/", _settings_form(planner.settings(),
                                                    average_speed_kmh=70))
    assert planner.settings().average_speed_kmh == (70 if status == 200 else 50)
    assert planner.settings().version == before + (1 if status == 200 else 0)


def test_a_speed_out_of_range_is_refused_by_its_field(client, org):
    client.force_login(org.admin)
    config = planner.settings()
    answer = client.post("/visits/settings/", _settings_form(config, average_speed_kmh=0),
                         HTTP_HX_REQUEST="true")
    assert answer.status_code == 422
    html = answer.content.decode()
    assert "<html" not in html and 'id="settings-form"' in html  # the section, in place
    assert 'has-error' in html and "id_average_speed_kmh_error" in html
    assert planner.settings().average_speed_kmh == 50
    assert planner.settings().version == config.version
    late_lunch = client.post("/visits/settings/", _settings_form(
        config, lunch_earliest="14:00", lunch_latest="13:00"))
    assert late_lunch.status_code == 422 and "Lunch cannot start later" in \
        late_lunch.content.decode()


def test_a_stale_settings_form_is_a_conflict_and_changes_nothing(client, org):
    client.force_login(org.admin)
    config = planner.settings()
    first = client.post("/visits/settings/", _settings_form(
        config, circuity="1.25", routing_server_url="https://osrm.example.com"))
    assert first.status_code == 302
    saved = planner.settings()
    assert (saved.circuity, saved.routing_server_url, saved.version) == (
        D("1.25"), "https://osrm.example.com", config.version + 1)
    stale = client.post("/visits/settings/", _settings_form(config, horizon_days=14),
                        HTTP_HX_REQUEST="true")
    assert stale.status_code == 409
    assert escape(STALE_MESSAGE) in stale.content.decode()
    assert planner.settings().horizon_days == 28
    saved_again = client.post("/visits/settings/", _settings_form(saved, horizon_days=14),
                              HTTP_HX_REQUEST="true")
    assert saved_again.status_code == 200 and "Visit settings saved." in \
        saved_again.content.decode()
    assert planner.settings().horizon_days == 14


def test_frequency_rules_are_added_changed_with_their_version_and_deleted(client, org):
    client.force_login(org.admin)
    added = client.post("/visits/settings/rules/", {
        "new-tier": "enterprise", "new-industry": "Retail", "new-visits_per_month": "2",
        "new-duration_minutes": "60"}, HTTP_HX_REQUEST="true")
    assert added.status_code == 200 and "Frequency rule added." in added.content.decode()
    rule = FrequencyRule.objects.get(tier="enterprise", industry="Retail")
    again = client.post("/visits/settings/rules/", {
        "new-tier": "enterprise", "new-industry": "Retail", "new-visits_per_month": "3"},
        HTTP_HX_REQUEST="true")
    assert again.status_code == 422 and FrequencyRule.objects.count() == 1
    negative = client.post(f"/visits/settings/rules/{rule.pk}/", {
        f"rule-{rule.pk}-tier": "enterprise", f"rule-{rule.pk}-industry": "Retail",
        f"rule-{rule.pk}-visits_per_month": "-1", f"rule-{rule.pk}-version": rule.version})
    assert negative.status_code == 422
    assert f"id_rule-{rule.pk}-visits_per_month_error" in negative.content.decode()
    changed = client.post(f"/visits/settings/rules/{rule.pk}/", {
        f"rule-{rule.pk}-tier": "enterprise", f"rule-{rule.pk}-industry": "Retail",
        f"rule-{rule.pk}-visits_per_month": "4", f"rule-{rule.pk}-version": rule.version})
    assert changed.status_code == 302
    rule.refresh_from_db()
    assert rule.visits_per_month == D(4)
    stale = client.post(f"/visits/settings/rules/{rule.pk}/delete/",
                        {"version": rule.version - 1}, HTTP_HX_REQUEST="true")
    assert stale.status_code == 409 and FrequencyRule.objects.filter(pk=rule.pk).exists()
    client.force_login(org.west_rep)
    assert client.post(f"/visits/settings/rules/{rule.pk}/delete/",
                       {"version": rule.version}).status_code == 403
    client.force_login(org.admin)
    gone = client.post(f"/visits/settings/rules/{rule.pk}/delete/", {"version": rule.version})
    assert gone.status_code == 302 and not FrequencyRule.objects.filter(pk=rule.pk).exists()


def test_the_week_page_reads_a_fixed_number_of_queries(client, org, week,
                                                       django_assert_max_num_queries):
    client.force_login(org.west_manager)
    client.get(f"/visits/week/{week.pk}/", {"week": MONDAY.isoformat()})  # warm caches
    assert PlannedVisit.objects.filter(owner=week).count() >= 8
    with django_assert_max_num_queries(QUERIES):
        page = client.get(f"/visits/week/{week.pk}/", {"week": MONDAY.isoformat()})
    assert page.status_code == 200


def test_a_rep_reads_their_own_week_with_its_figures(client, org, week):
    found = selectors.week_of(week, week.pk, MONDAY)
    routed = [d for d in found.days if d.plan is not None]
    assert routed and all(d.driving_share is not None for d in routed)
    assert found.totals["km"] > 0
    client.force_login(week)
    page = client.get(f"/visits/week/{week.pk}/", {"week": MONDAY.isoformat()})
    assert "My week" in page.content.decode()
