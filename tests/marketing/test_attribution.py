"""Attribution under the three models, with the figures worked out by hand."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from salesplan.customers.models import Lead
from salesplan.marketing import attribution, services
from salesplan.marketing.models import OpportunityTouch
from salesplan.pipeline.models import Opportunity
from tests.factories import make_account, make_contact, make_lead, make_opportunity

pytestmark = pytest.mark.django_db


def at(month, day=1):
    return datetime(2026, month, day, 12, tzinfo=UTC)


@pytest.fixture
def story(org):
    """Account A: contact 1 answered X (Jan 1) and, too late, Z (Apr 1); a lead later
    converted into A answered Y (Jan 15); contact 2 answered W (Feb 10). Opportunities
    on A, created Mar 1: 1,000.00 open, 100.01 won, 500.00 lost. Account B: untouched."""
    by = org.marketer
    x, y, w, z = (services.create_campaign(by=by, data={"name": n, "actual_cost": cost})
                  for n, cost in (("X", "50.00"), ("Y", "0"), ("W", "10"), ("Z", "0")))
    a, b = make_account(org.west_rep), make_account(org.west_rep)
    c1, c2 = make_contact(org.west_rep, a), make_contact(org.west_rep, a)
    lead = make_lead(org.west_rep)
    Lead.objects.filter(pk=lead.pk).update(converted_account=a, status="converted")
    services.record_response(x, contact=c1, response="responded", at=at(1))
    services.record_response(y, lead=lead, response="attended", at=at(1, 15))
    services.record_response(w, contact=c2, response="registered", at=at(2, 10))
    services.record_response(z, contact=c1, response="responded", at=at(4))
    services.record_response(z, contact=c2, response="sent", at=at(1))  # not a response
    opps = [make_opportunity(org.west_rep, a, amount=Decimal("1000.00")),
            make_opportunity(org.west_rep, a, amount=Decimal("100.01")),
            make_opportunity(org.west_rep, a, amount=Decimal("500.00")),
            make_opportunity(org.west_rep, b, amount=Decimal("700.00"))]
    Opportunity.objects.filter(pk=opps[1].pk).update(status="won")
    Opportunity.objects.filter(pk=opps[2].pk).update(status="lost")
    Opportunity.objects.filter(pk__in=[o.pk for o in opps]).update(created_at=at(3))
    attribution.refresh()
    return {"X": x, "Y": y, "W": w, "Z": z}


def figures(model, campaigns):
    results = attribution.report(model, campaigns.values())
    return {r.campaign.name: (r.pipeline.get("USD", Decimal(0)),
                              r.bookings.get("USD", Decimal(0))) for r in results}


def test_first_touch_credits_the_earliest_campaign(story):
    assert figures("first", story) == {
        "X": (Decimal("1000.00"), Decimal("100.01")), "Y": (0, 0), "W": (0, 0), "Z": (0, 0)}


def test_last_touch_credits_the_latest_campaign_before_creation(story):
    assert figures("last", story) == {
        "X": (0, 0), "Y": (0, 0), "W": (Decimal("1000.00"), Decimal("100.01")), "Z": (0, 0)}


def test_linear_shares_equally_and_adds_up_to_the_cent(story):
    result = figures("linear", story)
    assert result == {"X": (Decimal("333.34"), Decimal("33.34")),
                      "Y": (Decimal("333.33"), Decimal("33.34")),
                      "W": (Decimal("333.33"), Decimal("33.33")), "Z": (0, 0)}
    assert sum(p for p, _ in result.values()) == Decimal("1000.00")
    assert sum(b for _, b in result.values()) == Decimal("100.01")


def test_roi_counts_bookings_against_actual_cost(story):
    by_name = {r.campaign.name: r for r in attribution.report("first", story.values())}
    assert by_name["X"].roi == Decimal("1.00")  # (100.01 − 50.00) / 50.00
    assert by_name["W"].roi == Decimal("-1.00")  # nothing booked on a cost of 10
    assert by_name["Y"].roi is None  # no cost recorded
    assert by_name["X"].open_count == 1 and by_name["X"].won_count == 1


def test_touches_skip_late_responses_and_untouched_accounts(story):
    # 3 opportunities on A (open, won, lost) × 3 campaigns; the lost one is kept but
    # never reported; B's opportunity and the late campaign Z have no touch.
    assert OpportunityTouch.objects.count() == 9
    assert OpportunityTouch.objects.filter(status="lost").count() == 3
    assert not OpportunityTouch.objects.filter(campaign=story["Z"]).exists()


def test_the_api_switches_model_and_hides_figures_from_reps(org, story):
    client = Client()
    client.force_login(org.marketer)
    body = client.get("/api/v1/marketing/attribution?model=last").json()
    w = next(c for c in body["campaigns"] if c["campaign"] == "W")
    assert body["model"] == "last" and w["pipeline"] == {"USD": "1000.00"}
    assert w["bookings"] == {"USD": "100.01"}
    assert client.get("/api/v1/marketing/attribution?model=best").status_code == 422
    client.force_login(org.west_rep)
    assert client.get("/api/v1/marketing/attribution").status_code == 403


def test_the_page_and_cli_show_the_same_figures(org, story, capsys):
    client = Client()
    client.force_login(org.vp)
    page = client.get("/marketing/attribution/?model=linear")
    assert page.status_code == 200 and b"333.34" in page.content
    call_command("marketing", "attribution", "--model", "first")
    assert "USD 1,000.00" in capsys.readouterr().out


@pytest.mark.parametrize("model", ["first", "last", "linear"])
def test_the_refresh_summary_matches_the_touch_table(story, model):
    def as_dict(results):
        return {r.campaign.name: (r.pipeline, r.bookings, r.open_count, r.won_count)
                for r in results}

    assert as_dict(attribution.report(model, story.values())) == as_dict(
        attribution.report(model, story.values(), source=attribution.sums_from_touches))


def test_refresh_runs_as_a_background_job_with_an_outcome(org, story,
                                                          django_capture_on_commit_callbacks):
    from salesplan.core.models import BackgroundJob

    OpportunityTouch.objects.all().delete()
    client = Client()
    client.force_login(org.west_rep)
    assert client.post("/api/v1/marketing/attribution/refresh").status_code == 403
    client.force_login(org.marketer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/marketing/attribution/refresh")
    assert response.status_code == 202
    job = BackgroundJob.objects.get(pk=response.json()["id"])
    assert job.kind == "attribution" and job.status == "succeeded"
    assert job.result == {"opportunities": 3, "touches": 9}  # those of touched accounts
    assert OpportunityTouch.objects.count() == 9
