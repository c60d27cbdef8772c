"""Scoring services: rules checked field by field, scores by hand, training refused or
measured on held-out leads."""

import math
import random
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from salesplan.customers.models import Lead
from salesplan.engines import lead_scoring as engine
from salesplan.scoring import services
from salesplan.scoring.models import LeadScore, ModelStatus, ScoringModel, ScoringRule

from ..factories import make_activity, make_lead
from .conftest import closed_history


def rule(by, **data):
    return services.create_rule(by=by, data=data)


def test_rules_score_fit_and_engagement_by_hand(org):
    rule(org.marketer, kind="fit", field="industry", operator="in",
         value="Healthcare, Biotech", points=25)
    rule(org.marketer, kind="fit", field="employees", operator="between", value="50-500",
         points=20)
    rule(org.marketer, kind="fit", field="seniority", operator="equals", value="director",
         points=10)
    rule(org.marketer, kind="engagement", field="meetings", operator="at_least", value="2",
         points=15)
    rule(org.marketer, kind="engagement", field="activities", operator="at_least",
         value="1", points=5, active=False)
    lead = make_lead(org.west_rep, industry="biotech", employees=120, title="IT Director")
    for _ in range(2):
        make_activity(org.west_rep, kind="meeting", lead=lead, due_at=timezone.now())
    score = services.rescore_lead(lead)
    assert (score.fit, score.engagement, score.total, score.grade) == (55, 15, 70, "A")
    assert [r["points"] for r in score.reasons] == [25, 20, 10, 15]
    assert score.probability is None  # no model trained
    other = make_lead(org.east_rep, industry="Retail", employees=10)
    assert services.rescore_lead(other).total == 0
    result = services.rescore_all(batch_size=1)
    assert result["leads"] == 2 and LeadScore.objects.get(pk=other.pk).grade == "D"


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"kind": "fit", "field": "shoe_size", "operator": "equals", "value": "9"}, "field",
     "not a lead fact"),
    ({"kind": "engagement", "field": "industry", "operator": "equals", "value": "x"},
     "field", "is a fit fact"),
    ({"kind": "fit", "field": "employees", "operator": "between", "value": "500-50"},
     "value", "starts above its end"),
    ({"kind": "fit", "field": "employees", "operator": "contains", "value": "5"},
     "operator", "does not apply to a number field"),
    ({"kind": "fit", "field": "industry", "operator": "equals", "value": " "}, "value",
     "Give a value"),
])
def test_bad_rules_are_refused_naming_the_field(org, data, field, message):
    with pytest.raises(ValidationError) as refused:
        rule(org.marketer, points=10, **data)
    assert field in refused.value.message_dict
    assert message in " ".join(refused.value.message_dict[field])
    assert not ScoringRule.objects.exists()


def test_only_marketing_and_admins_change_rules(org):
    for user in (org.west_rep, org.west_manager, org.executive):
        with pytest.raises(PermissionDenied):
            rule(user, kind="fit", field="industry", operator="equals", value="x", points=1)
    assert not ScoringRule.objects.exists()
    made = rule(org.admin, kind="fit", field="industry", operator="equals", value="x",
                points=1)
    with pytest.raises(PermissionDenied):
        services.update_rule(made, by=org.west_rep, data={"points": 99})
    assert ScoringRule.objects.get(pk=made.pk).points == 1


def test_thin_history_is_refused_and_says_why(org):
    closed_history([org.west_rep], converted=7, disqualified=30)
    model = services.train_model(by=org.marketer, min_per_class=8)
    assert model.status == ModelStatus.REFUSED and not model.parameters
    assert model.reason == (
        "Not enough history to predict conversion: only 7 converted leads (at least 8 of "
        "each are needed, so that part can be held out to measure accuracy).")
    assert model.counts == {"rows": 37, "converted": 7, "disqualified": 30}
    assert services.current_model() is None
    lead = make_lead(org.west_rep)
    assert services.rescore_lead(lead).probability is None


def test_training_measures_held_out_leads_and_scores_with_reasons(org):
    closed_history([org.west_rep, org.east_rep], converted=40, disqualified=40)
    model = services.train_model(by=org.marketer, min_per_class=20, test_fraction=0.25)
    assert model.status == ModelStatus.TRAINED and model.version == 1
    assert model.counts["train_rows"] == 60 and model.counts["test_rows"] == 20
    assert model.metrics["rows"] == 20 and sum(r["rows"] for r in model.calibration) == 20
    assert 0 <= model.metrics["brier"] <= 1 and model.metrics["auc"] > 0.6
    weights = dict(zip(model.parameters["features"], model.parameters["coefficients"],
                       strict=True))
    assert weights["industry=Healthcare"] > weights["industry=Retail"]
    lead = make_lead(org.west_rep, industry="Healthcare", employees=200, source="web")
    score = services.rescore_lead(lead)
    assert score.model_id == model.pk and 0 < score.probability < 1
    # The reasons are the lead's features with their effect on the log-odds.
    params = engine.ScoringParameters.from_json(model.parameters)
    logit = math.log(score.probability / (1 - score.probability))
    parts, names = engine.contributions(params, [{"industry": "Healthcare",
                                                  "employees": 200, "source": "web",
                                                  "state": "", "seniority": "",
                                                  "email_kind": "company"}])
    assert params.intercept + parts.sum() == pytest.approx(logit)
    assert score.predictive_reasons[0]["feature"] == names[abs(parts[0]).argmax()]
    labels = {r["feature"]: r["label"] for r in score.predictive_reasons}
    assert labels["industry=Healthcare"] == "Industry: Healthcare"
    assert labels["employees"] == "Employees: 200"
    # A second training is version 2; the refused one after it keeps v2 in use.
    services.train_model(by=org.admin, min_per_class=20)
    refused = services.train_model(by=org.admin, min_per_class=50)
    assert refused.status == ModelStatus.REFUSED and services.current_model().version == 2
    assert ScoringModel.objects.count() == 3


def test_campaign_opens_and_responses_count_as_engagement(org):
    from salesplan.marketing.models import Campaign, CampaignMember

    rule(org.marketer, kind="engagement", field="campaign_responses", operator="at_least",
         value="1", points=20)
    rule(org.marketer, kind="engagement", field="campaign_opens", operator="at_least",
         value="2", points=5)
    lead = make_lead(org.west_rep)
    webinar = Campaign.objects.create(name="Webinar", owner=org.marketer)
    mailing = Campaign.objects.create(name="Mailing", owner=org.marketer)
    CampaignMember.objects.create(campaign=mailing, lead=lead, response="opened")
    assert services.rescore_lead(lead).engagement == 0
    CampaignMember.objects.create(campaign=webinar, lead=lead, response="attended",
                                  responded_at=timezone.now())
    assert services.rescore_lead(lead).engagement == 25


def test_time_split_holds_out_the_newest_leads(org):
    # All the converted leads are older than the disqualified ones: the newest quarter
    # holds no conversion, so a time split cannot measure anything and says so.
    closed_history([org.west_rep], converted=30, disqualified=30)
    refused = services.train_model(by=org.marketer, split="time")
    assert refused.status == ModelStatus.REFUSED
    assert "held-out part of a time split has no converted lead" in refused.reason
    closed_history([org.west_rep], converted=30, disqualified=30, seed=8)
    ids = list(Lead.objects.values_list("pk", flat=True))
    random.Random(4).shuffle(ids)  # outcomes mixed in time
    for days_ago, pk in enumerate(reversed(ids)):
        Lead.objects.filter(pk=pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    model = services.train_model(by=org.marketer, split="time", test_fraction=0.25)
    assert model.status == ModelStatus.TRAINED and model.settings["split"] == "time"
    assert model.counts["test_rows"] == 30
    with pytest.raises(ValidationError) as bad:
        services.train_model(by=org.marketer, split="random")
    assert "split" in bad.value.message_dict
