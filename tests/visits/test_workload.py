"""Workload in selling days as a measure above field visits: territory goals by sales
per rep selling day × workload days (shown beside each goal, with its source), and the
alignment optimiser balancing visit days."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError

from salesplan.core.clock import company_today
from salesplan.core.hooks import account_workload
from salesplan.core.models import BackgroundJob
from salesplan.customers.models import Account
from salesplan.territories import goals
from salesplan.territories import services as territory_services
from salesplan.territories.assignment import run_full_assignment
from salesplan.territories.models import AccountTerritory
from salesplan.visits import services, workload
from salesplan.visits.models import VisitProfile
from tests.factories import make_account
from tests.territories.conftest import build_map, grant_map
from tests.territories.test_goals_whatif import _won
from tests.territories.test_optimisation import lopsided_map, optimised

DAY_MINUTES = D(450)  # eight hours less the default half-hour lunch


@pytest.fixture(autouse=True)
def fresh_cache():
    # Ids are reused between tests (rolled-back transactions); cached scopes must not leak.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def active_map(org):
    """US with West (two members) and East (one), one account each, active."""
    found = build_map(org)
    make_account(org.admin, name="Bay Co", postal_code="94107")
    make_account(org.admin, name="Manhattan Co", postal_code="10013", state="NY")
    run_full_assignment(found.alignment)
    territory_services.activate_alignment(found.alignment, by=org.admin)
    return found


@pytest.fixture
def monthly_visits(org):
    """Every account is visited four times a month for an hour."""
    return services.create_rule(by=org.admin, data={"visits_per_month": D(4),
                                                    "duration_minutes": 60})


def test_each_account_needs_visits_times_visit_and_driving_in_selling_days(
        org, monthly_visits):
    account = Account.objects.create(name="Depot", owner=org.west_rep)
    found = account_workload.provider().per_account([account.pk])
    # 4 visits × (60 minutes + 20 minutes of driving before any plan) ÷ 450 minutes
    assert found.days_per_month[account.pk] == D(4) * D(80) / DAY_MINUTES
    assert "field visits" in found.source


def test_goals_by_workload_days_follow_sales_per_rep_day(org, active_map, monthly_visits):
    bay, manhattan = Account.objects.get(name="Bay Co"), Account.objects.get(name="Manhattan Co")
    _won(org.west_rep, bay, "5000", 10)
    _won(org.east_rep, manhattan, "2000", 10)
    today = company_today()
    start, end = today + timedelta(days=1), today + timedelta(days=90)
    proposals = {p.territory.name: p for p in goals.propose_goals(
        active_map.region, period_start=start, period_end=end, formula="workload_days")}
    # Both need the same visit days; West's 5,000 came from two members, East's 2,000
    # from one, so a West rep-day sold 2,500 / prior days against East's 2,000.
    west, east = proposals["West"], proposals["East"]
    assert west.basis / east.basis == pytest.approx(D("1.25"), abs=D("0.0001"))
    assert "per rep selling day" in west.explanation and "field visits" in west.explanation
    assert "2 members have" in west.explanation


def test_workload_days_stop_at_the_days_the_members_have(org, active_map, monthly_visits):
    bay = Account.objects.get(name="Bay Co")
    VisitProfile.objects.create(account=bay, visits_per_month=D(400))
    _won(org.west_rep, bay, "5000", 10)
    today = company_today()
    start, end = today + timedelta(days=1), today + timedelta(days=28)
    basis, text = goals._basis(active_map.west, "workload_days", start, end, D(0))
    members = [org.west_rep, org.west_rep2]
    available = workload.available_days(members, start, end)
    prior_days = goals.selling_days(start - timedelta(days=28), start - timedelta(days=1))
    assert basis == D(5000) / (2 * prior_days) * available
    assert f"{available.quantize(D('0.1'))} selling days of workload" in text


def test_territory_page_shows_workload_beside_each_goal_with_its_source(
        client, org, active_map, monthly_visits):
    today = company_today()
    goals.set_goals(active_map.region, by=org.admin, period_start=today,
                    period_end=today + timedelta(days=89), formula="prior_bookings",
                    total=D(1000))
    client.force_login(org.admin)
    page = client.get(f"/territories/{active_map.region.pk}/").content.decode()
    assert "Workload (days a month)" in page
    assert "from field visits: visits a month" in page
    # West: one account × 4 × 80 ÷ 450 = 0.7 days a month.
    west = next(g for g in page.split("<tr>") if "<td>West</td>" in g)
    assert "0.7" in west


def test_size_api_answers_the_workload(org, active_map, monthly_visits, client):
    client.force_login(org.admin)
    answer = client.get(f"/api/v1/territories/{active_map.west.pk}/size")
    assert answer.status_code == 200, answer.content
    found = answer.json()["workload"]
    assert D(found["required_days"]) == D("0.7") and found["members"] == 2
    assert "field visits" in found["source"]


def test_workload_days_without_field_visits_is_refused(org, active_map, monkeypatch):
    monkeypatch.setattr(account_workload, "_provider", None)
    today = company_today()
    with pytest.raises(ValidationError) as refused:
        goals.propose_goals(active_map.region, period_start=today,
                            period_end=today + timedelta(days=30), formula="workload_days")
    assert "formula" in refused.value.message_dict


# --- the optimiser --------------------------------------------------------------------


@pytest.fixture
def lopsided_visits(org):
    """North holds 40 accounts seen once a month, Middle 12 and South 8 seen three times:
    balanced by accounts, North's reps would drive far less than the others."""
    grant_map(org.west_manager)
    alignment, region, children = lopsided_map(org)
    services.create_rule(by=org.admin, data={"visits_per_month": D(1),
                                             "duration_minutes": 40})
    south_and_middle = AccountTerritory.objects.filter(
        alignment=alignment, territory__name__in=["Middle", "South"]).values("account_id")
    VisitProfile.objects.bulk_create(VisitProfile(account_id=row["account_id"],
                                                  visits_per_month=D(3))
                                     for row in south_and_middle)
    return alignment, region, children


def test_balancing_visit_days_puts_every_territory_within_the_band(
        org, lopsided_visits, django_capture_on_commit_callbacks):
    alignment, region, _ = lopsided_visits
    run = optimised(org, alignment, region, django_capture_on_commit_callbacks,
                    measures=["visit_days"], tau=0.1)
    assert run.job.status == BackgroundJob.Status.SUCCEEDED, run.job.message
    assert run.metrics["balanced"] is True
    days = account_workload.provider().per_account(
        list(Account.objects.values_list("pk", flat=True))).days_per_month
    totals, counts = {}, {}
    for name in ("North", "Middle", "South"):
        ids = AccountTerritory.objects.filter(
            alignment=run.draft, territory__name=name).values_list("account_id", flat=True)
        totals[name] = sum((days[a] for a in ids), D(0))
        counts[name] = len(ids)
    mean = sum(totals.values()) / 3
    assert all(abs(total / mean - 1) <= D("0.100001") for total in totals.values()), totals
    # The accounts are no longer what is balanced: the territory of light accounts holds
    # far more than a third of them.
    assert max(counts.values()) >= 26, counts
    assert run.metrics["territories"][0]["measures"][0]["label"] == \
        "Workload in visit days a month"


def test_balancing_visit_days_with_no_visits_is_refused(
        org, django_capture_on_commit_callbacks):
    grant_map(org.west_manager)
    alignment, region, _ = lopsided_map(org)
    run = optimised(org, alignment, region, django_capture_on_commit_callbacks,
                    measures=["visit_days"])
    assert run.job.status == BackgroundJob.Status.FAILED
    assert "workload in visit days a month: it is zero" in run.message.lower()


def test_the_api_offers_visit_days_as_a_balance_measure(org, client):
    grant_map(org.west_manager)
    alignment, region, _ = lopsided_map(org, sizes=(4, 2, 2))
    client.force_login(org.west_manager)
    answer = client.post(f"/api/v1/territories/alignments/{alignment.pk}/optimise",
                         data={"parent_id": region.pk, "measures": ["visit_days"]},
                         content_type="application/json")
    assert answer.status_code in (201, 202), answer.content
    bad = client.post(f"/api/v1/territories/alignments/{alignment.pk}/optimise",
                      data={"parent_id": region.pk, "measures": ["visit_hours"]},
                      content_type="application/json")
    assert bad.status_code == 422


def test_coverage_workload_uses_the_same_figures(org, monthly_visits):
    from salesplan.visits import selectors

    Account.objects.create(name="Depot", owner=org.west_rep)
    mine = list(Account.objects.filter(owner=org.west_rep).exclude(lifecycle="former")
                .values_list("pk", flat=True))
    days = account_workload.provider().per_account(mine).days_per_month
    rows = {w.name: w for w in selectors.workload(org.admin, start=company_today())}
    assert rows[str(org.west_rep)].required_days == sum(days.values()).quantize(D("0.1"))


def test_the_territories_command_balances_visit_days(org, lopsided_visits, monkeypatch,
                                                      django_capture_on_commit_callbacks):
    from dataclasses import replace
    from io import StringIO

    from django.core.management import CommandError, call_command

    from salesplan.territories import optimisation
    from salesplan.territories.models import OptimisationRun
    from tests.territories.test_optimisation import BUDGET

    _alignment, region, _ = lopsided_visits
    started = optimisation.start_optimisation

    def in_work_steps(source, *, by, request):
        # The same run in a work budget instead of seconds, carried out as soon as it is
        # started, as a worker outside a transaction would.
        with django_capture_on_commit_callbacks(execute=True):
            return started(source, by=by, request=replace(request, budget=BUDGET))

    monkeypatch.setattr(optimisation, "start_optimisation", in_work_steps)
    out = StringIO()
    call_command("territories", "optimise", "--parent", str(region.pk), "--measure",
                 "visit_days", "--tau", "0.1", "--as", org.west_manager.username, stdout=out)
    run = OptimisationRun.objects.get()
    assert run.options["measures"] == ["visit_days"]
    assert run.metrics["balanced"] is True and run.draft is not None
    report = out.getvalue()
    assert f"Optimisation run {run.pk}:" in report
    lines = {line.split(":")[0].strip(): line for line in report.splitlines()[1:]}
    assert set(lines) == {"North", "Middle", "South"}
    # North's 40 accounts seen once a month: 40 × (40 + 20 minutes) ÷ 450 = 5.3 days.
    assert "Workload in visit days a month 5.3 →" in lines["North"]
    with pytest.raises(CommandError, match="visit_hours"):
        call_command("territories", "optimise", "--parent", str(region.pk), "--measure",
                     "visit_hours", stdout=StringIO())


def test_the_goal_form_weighs_workload_days_in_a_mix(org, active_map, monthly_visits, client):
    from salesplan.territories.models import TerritoryGoal

    _won(org.west_rep, Account.objects.get(name="Bay Co"), "5000", 10)
    _won(org.east_rep, Account.objects.get(name="Manhattan Co"), "2000", 10)
    today = company_today()
    form = {"period_start": (today + timedelta(days=1)).isoformat(),
            "period_end": (today + timedelta(days=90)).isoformat(),
            "formula": "weighted_mix", "total": "900", "mix_workload": "1"}
    client.force_login(org.admin)
    region = f"/territories/{active_map.region.pk}/"
    page = client.get(region, form).content.decode()
    assert "Mix: workload days" in page and "by workload_days × 1" in page
    # The same visit days; a West rep-day sold 1.25 times an East one: 5 to 4.
    client.post(f"{region}goals/", form)
    amounts = dict(TerritoryGoal.objects.values_list("territory__name", "amount"))
    assert amounts == {"US": D("900.00"), "West": D("500.00"), "East": D("400.00")}
    TerritoryGoal.objects.all().delete()
    form["mix_workload"] = "-1"
    refused = client.post(f"{region}goals/", form, follow=True).content.decode()
    assert "Mix: workload days: Ensure this value is greater than or equal to 0." in refused
    assert not TerritoryGoal.objects.exists()
    page = client.get(region, form).content.decode()
    assert 'id="id_mix_workload_error"' in page
